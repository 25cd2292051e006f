"""How a webhook is POSTed: to the addresses ``webhook_targets`` checked, never to a second
lookup of the name; the Host header, TLS SNI and the certificate check still use the name. No
redirect is followed (a 3xx is an answer like any other), no proxy is used, and the answer is
capped in time and size: its status line and headers must fit in ``MAX_ANSWER_BYTES`` and
arrive within ``DEADLINE_SECONDS`` of the first connection attempt; the body is never read."""

import functools
import http.client
import io
import socket
import ssl
import time

from .webhook_targets import Target

CONNECT_TIMEOUT_SECONDS = 5
DEADLINE_SECONDS = 15
MAX_ANSWER_BYTES = 8 * 1024


class AnswerTooLong(http.client.HTTPException):
    """The status line and headers did not fit in ``MAX_ANSWER_BYTES``."""


def post(target: Target, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST ``body`` to the target; the answer's status code and reason. Raises ``OSError``
    (no connection, timeouts, TLS) or ``http.client.HTTPException`` (no valid HTTP answer)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    connection_class = PinnedHTTPSConnection if target.scheme == "https" else PinnedHTTPConnection
    connection = connection_class(target, deadline)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.reason
    finally:
        connection.close()


def tls_context() -> ssl.SSLContext:
    """The system's trusted CAs, with the host name checked."""
    return ssl.create_default_context()


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the target's checked addresses in turn; the name stays for the Host header."""

    def __init__(self, target: Target, deadline: float):
        super().__init__(target.host, target.port, timeout=CONNECT_TIMEOUT_SECONDS)
        self.target, self.deadline = target, deadline
        self.response_class = functools.partial(CappedResponse, deadline=deadline)

    def connect(self):
        self.sock = connect_pinned(self.target, self.deadline)


class PinnedHTTPSConnection(PinnedHTTPConnection):
    default_port = http.client.HTTPS_PORT

    def connect(self):
        sock = connect_pinned(self.target, self.deadline)
        try:
            self.sock = tls_context().wrap_socket(sock, server_hostname=self.target.host)
        except BaseException:
            sock.close()
            raise


def connect_pinned(target: Target, deadline: float) -> socket.socket:
    """A TCP connection to the first of the target's checked addresses that answers."""
    error: OSError = TimeoutError(f"No connection to {target.host} within {DEADLINE_SECONDS} s")
    for family, sockaddr in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(min(CONNECT_TIMEOUT_SECONDS, remaining))
        try:
            sock.connect(sockaddr)
        except OSError as refused:
            sock.close()
            error = refused
            continue
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        return sock
    raise error


class CappedResponse(http.client.HTTPResponse):
    """Reads the answer through ``CappedReader`` instead of the socket's own file."""

    def __init__(self, sock, *args, deadline: float, **kwargs):
        super().__init__(sock, *args, **kwargs)
        self.fp.close()  # the socket's own file: nothing was read through it
        self.fp = io.BufferedReader(CappedReader(sock, deadline), buffer_size=1024)


class CappedReader(io.RawIOBase):
    """At most ``MAX_ANSWER_BYTES`` from the socket, each read waiting only until the deadline."""

    def __init__(self, sock: socket.socket, deadline: float):
        super().__init__()
        self.sock, self.deadline, self.left = sock, deadline, MAX_ANSWER_BYTES

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.left <= 0:
            raise AnswerTooLong(f"The answer's headers are longer than {MAX_ANSWER_BYTES} bytes")
        remaining = self.deadline - time.monotonic()
        late = TimeoutError(f"No complete answer within {DEADLINE_SECONDS} s")
        if remaining <= 0:
            raise late
        self.sock.settimeout(remaining)
        try:
            count = self.sock.recv_into(memoryview(buffer)[: self.left])
        except TimeoutError:
            raise late from None
        self.left -= count
        return count
