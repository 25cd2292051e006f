"""The network as webhook tests see it: a resolver that answers from a table, a guard that lets
a connection through only to a loopback port the test opened (and records every attempt), raw
loopback servers that answer what a test wants, and a TLS certificate for a made-up name.
Nothing here sends a packet beyond 127.0.0.1."""

import contextlib
import datetime
import ipaddress
import os
import socket
import ssl
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PUBLIC = "93.184.216.34"  # never connected to: the guard refuses it


class Resolver:
    """``socket.getaddrinfo`` from a table of names; numeric addresses resolve as themselves
    (no query), any other name does not resolve. ``lookups`` counts the names asked."""

    def __init__(self, real):
        self.real = real
        self.table: dict[str, list[str]] = {}
        self.lookups: Counter = Counter()

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        try:
            ipaddress.ip_address(str(name).split("%", 1)[0])
        except ValueError:
            pass
        else:
            return self.real(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        self.lookups[name] += 1
        if name not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answers = []
        for address in self.table[name]:
            if ":" in address:
                answers.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                answers.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return answers


class ConnectGuard:
    """Every ``socket.connect`` is recorded in ``attempts``; only those to a loopback port in
    ``allowed`` (the test's servers, and Redis when the suite runs on it) go through."""

    def __init__(self, real_connect):
        self.real_connect = real_connect
        self.attempts: list[tuple] = []
        self.allowed: set[int] = set()
        redis = urlsplit(os.environ.get("REDIS_URL", ""))
        if redis.hostname in {"127.0.0.1", "localhost"}:
            self.allowed.add(redis.port or 6379)
        guard = self

        def connect(sock, address):
            guard.attempts.append(address)
            if isinstance(address, tuple) and guard._lets_through(address):
                return guard.real_connect(sock, address)
            raise ConnectionRefusedError(f"test guard: no connection to {address}")

        self.connect = connect

    def _lets_through(self, address) -> bool:
        host = ipaddress.ip_address(address[0].split("%", 1)[0])
        loopback = (host.version == 4 and host.is_loopback) or str(host) == "::1"
        return loopback and address[1] in self.allowed

    def webhook_attempts(self) -> list[tuple]:
        """Attempts other than to Redis."""
        redis = urlsplit(os.environ.get("REDIS_URL", "")).port or 6379
        return [address for address in self.attempts if address[1] != redis]


class RawServer:
    """A loopback TCP server: for each connection, reads the request, then ``answer(conn)``.
    ``requests`` holds the raw bytes read (a connection that sends nothing still counts)."""

    def __init__(self, answer):
        self.answer = answer
        self.requests: list[bytes] = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                self.requests.append(_read_request(conn))
                with contextlib.suppress(OSError):  # the client hung up, as a capped one does
                    self.answer(conn)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)
        self.listener.close()


def _read_request(conn) -> bytes:
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
            data += chunk
    except TimeoutError:
        pass
    return data


def endless_headers(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    for number in range(20_000):  # 2 MB of headers, never finished
        conn.sendall(f"X-Filler-{number}: {'a' * 90}\r\n".encode())


def dripping_headers(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    stop = time.monotonic() + 6
    while time.monotonic() < stop:
        conn.sendall(b"X")
        time.sleep(0.05)


def certificate_for(name: str) -> tuple[bytes, bytes, bytes]:
    """A CA certificate and a leaf certificate and key for ``name``, signed by it (PEM)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test webhook CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ca.public_bytes(pem), leaf.public_bytes(pem), key_pem


def tls_server_context(leaf: bytes, key: bytes, folder, seen_names: list) -> ssl.SSLContext:
    """A server context with the leaf certificate (written to ``folder``); records the SNI name
    each client sends."""
    (folder / "leaf.pem").write_bytes(leaf)
    (folder / "key.pem").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "leaf.pem", folder / "key.pem")
    context.sni_callback = lambda sock, name, ctx: seen_names.append(name)
    return context
