"""Webhooks are no way into our network, at delivery: the URL is checked again before every
attempt and the sender connects to the address it checked; a refused URL is recorded and
given up without connecting; redirects are not followed; answers are capped in size and time;
a deactivated organization receives nothing."""

import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from custody import services
from custody.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from custody.tasks import deliver_webhooks

from .test_webhook_targets import NAMES, REFUSED, UNRESOLVED, subscribe
from .webhook_network import (
    PUBLIC,
    RawServer,
    certificate_for,
    dripping_headers,
    endless_headers,
    tls_server_context,
)
from .webhook_receiver import Receiver


def weigh(chain, pickup, django_capture_on_commit_callbacks) -> WebhookDelivery:
    """An event of the pickup, its deliveries sent after commit; the source's one delivery."""
    with django_capture_on_commit_callbacks(execute=True):
        services.weigh_lot(actor=chain.actor(chain.source), lot=pickup, mass_kg=Decimal("2"))
    return WebhookDelivery.objects.get(subscription__organization=chain.source)


@pytest.fixture
def development(settings, resolver, connections):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    resolver.table.update(NAMES)
    return connections


@pytest.mark.parametrize(("url", "code"), [case for case in REFUSED if case[1] != UNRESOLVED])
def test_a_delivery_to_a_url_we_do_not_send_to_is_refused_without_connecting(
    chain, pickup, settings, resolver, connections, django_capture_on_commit_callbacks, url, code
):
    """Subscriptions written before the rules (or by hand) are checked at every delivery."""
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    resolver.table.update(NAMES)
    WebhookSubscription.objects.create(organization=chain.source, url=url)
    delivery = weigh(chain, pickup, django_capture_on_commit_callbacks)
    assert connections.webhook_attempts() == []
    assert delivery.status == DeliveryStatus.FAILED  # given up at once: it will not get better
    assert (delivery.attempts, delivery.last_status_code) == (1, None)
    assert delivery.last_error.startswith("Refused: ")


def test_dns_rebinding_public_at_subscription_private_at_delivery_is_refused(
    chain, pickup, settings, resolver, connections, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    resolver.table["hooks.rebind.example"] = [PUBLIC]
    answered = subscribe(chain, {"url": "https://hooks.rebind.example/custody"})
    assert answered.status_code == 201
    WebhookSubscription.objects.update(organization=chain.source)
    resolver.table["hooks.rebind.example"] = ["10.0.0.1"]
    delivery = weigh(chain, pickup, django_capture_on_commit_callbacks)
    assert connections.webhook_attempts() == []
    assert delivery.status == DeliveryStatus.FAILED
    assert "10.0.0.1" in delivery.last_error and "private" in delivery.last_error


def test_a_name_that_does_not_resolve_is_an_attempt_retried_with_backoff(
    chain, pickup, settings, resolver, connections, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    WebhookSubscription.objects.create(organization=chain.source, url="https://gone.example/")
    delivery = weigh(chain, pickup, django_capture_on_commit_callbacks)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert delivery.next_attempt_at is not None and "does not resolve" in delivery.last_error
    assert connections.webhook_attempts() == []


def test_the_sender_connects_to_the_address_it_checked_without_a_second_lookup(
    chain, pickup, development, resolver, django_capture_on_commit_callbacks
):
    """The name resolves to the receiver once, and to the metadata address ever after: the
    sender asks once, connects to what it checked, and still names the host."""
    with Receiver() as receiver:
        development.allowed.add(receiver.server.server_port)
        answers = iter([["127.0.0.1"]])
        real = resolver.__call__

        def rebinding(host, *args, **kwargs):
            if host == "hooks.partner.example":
                resolver.table[host] = next(answers, ["169.254.169.254"])
            return real(host, *args, **kwargs)

        url = f"http://hooks.partner.example:{receiver.server.server_port}/custody"
        WebhookSubscription.objects.create(organization=chain.source, url=url)
        resolver.lookups.clear()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("socket.getaddrinfo", rebinding)
            delivery = weigh(chain, pickup, django_capture_on_commit_callbacks)
        ((headers, _),) = receiver.requests
    assert delivery.status == DeliveryStatus.DELIVERED, delivery.last_error
    assert headers["Host"] == f"hooks.partner.example:{receiver.server.server_port}"
    assert resolver.lookups["hooks.partner.example"] == 1


def test_a_redirect_is_not_followed(chain, pickup, development, django_capture_on_commit_callbacks):
    with RawServer(lambda conn: None) as elsewhere:

        def redirect(conn):
            conn.sendall(
                b"HTTP/1.1 302 Found\r\nLocation: " + elsewhere.url.encode() + b"\r\n"
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )

        with RawServer(redirect) as redirecting:
            development.allowed |= {redirecting.port, elsewhere.port}
            WebhookSubscription.objects.create(organization=chain.source, url=redirecting.url)
            delivery = weigh(chain, pickup, django_capture_on_commit_callbacks)
            assert len(redirecting.requests) == 1
    assert elsewhere.requests == []
    assert ("127.0.0.1", elsewhere.port) not in development.attempts
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.PENDING,
        1,
        302,
    )
    assert "redirects are not followed" in delivery.last_error


def test_an_answer_is_read_to_a_few_kib_at_most(
    chain, pickup, development, monkeypatch, django_capture_on_commit_callbacks
):
    """An answer whose headers never end is cut off and recorded as a failed attempt."""
    import socket

    received, sender = [0], threading.get_ident()
    real_recv_into = socket.socket.recv_into

    def counting(sock, buffer, *args):
        count = real_recv_into(sock, buffer, *args)
        if threading.get_ident() == sender:
            received[0] += count
        return count

    monkeypatch.setattr(socket.socket, "recv_into", counting)
    with RawServer(endless_headers) as flooding:
        development.allowed.add(flooding.port)
        WebhookSubscription.objects.create(organization=chain.source, url=flooding.url)
        delivery = weigh(chain, pickup, django_capture_on_commit_callbacks)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert "longer than 8192 bytes" in delivery.last_error
    assert 0 < received[0] <= 8192


def test_an_answer_that_drips_is_cut_off_at_the_deadline(
    chain, pickup, development, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("custody.services.webhook_http.DEADLINE_SECONDS", 1)
    with RawServer(dripping_headers) as dripping:
        development.allowed.add(dripping.port)
        WebhookSubscription.objects.create(organization=chain.source, url=dripping.url)
        started = time.monotonic()
        delivery = weigh(chain, pickup, django_capture_on_commit_callbacks)
        took = time.monotonic() - started
    assert took < 3
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert "within 1 s" in delivery.last_error


class TLSReceiver:
    """An https receiver on 127.0.0.1 with a certificate for ``hooks.partner.example``."""

    def __init__(self, folder):
        self.ca, leaf, key = certificate_for("hooks.partner.example")
        self.server_names, self.hosts = [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.hosts.append(self.headers["Host"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        context = tls_server_context(leaf, key, folder, self.server_names)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("name", ["hooks.partner.example", "other.partner.example"])
def test_tls_checks_the_certificate_against_the_name_while_connecting_to_the_checked_address(
    chain,
    pickup,
    development,
    resolver,
    monkeypatch,
    tmp_path,
    name,
    django_capture_on_commit_callbacks,
):
    import ssl

    tls = TLSReceiver(tmp_path)
    try:
        development.allowed.add(tls.port)
        resolver.table[name] = ["127.0.0.1"]
        monkeypatch.setattr(
            "custody.services.webhook_http.tls_context",
            lambda: ssl.create_default_context(cadata=tls.ca.decode()),
        )
        url = f"https://{name}:{tls.port}/custody"
        WebhookSubscription.objects.create(organization=chain.source, url=url)
        delivery = weigh(chain, pickup, django_capture_on_commit_callbacks)
    finally:
        tls.close()
    assert tls.server_names == [name]  # SNI names the host, not the address
    if name == "hooks.partner.example":
        assert delivery.status == DeliveryStatus.DELIVERED, delivery.last_error
        assert tls.hosts == [f"hooks.partner.example:{tls.port}"]
    else:  # the certificate is not for that name
        assert (delivery.status, tls.hosts) == (DeliveryStatus.PENDING, [])
        assert "certificate" in delivery.last_error.lower()


def test_a_deactivated_organization_gets_no_deliveries(
    chain, pickup, development, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        development.allowed.add(receiver.server.server_port)
        WebhookSubscription.objects.create(organization=chain.operator, url=receiver.url)
        WebhookSubscription.objects.create(organization=chain.source, url=receiver.url)
        chain.operator.is_active = False
        chain.operator.save()
        weigh(chain, pickup, django_capture_on_commit_callbacks)
        assert len(receiver.requests) == 1  # the source's
    assert not WebhookDelivery.objects.filter(subscription__organization=chain.operator).exists()


def test_a_delivery_queued_before_the_organization_was_deactivated_is_not_sent(
    chain, pickup, development, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        development.allowed.add(receiver.server.server_port)
        WebhookSubscription.objects.create(organization=chain.operator, url=receiver.url)
        with django_capture_on_commit_callbacks(execute=False):
            services.weigh_lot(actor=chain.actor(chain.source), lot=pickup, mass_kg=Decimal("2"))
        chain.operator.is_active = False
        chain.operator.save()
        delivery = WebhookDelivery.objects.get()
        assert deliver_webhooks([delivery.pk]) == 0
        assert receiver.requests == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 0)
    assert "deactivated" in delivery.last_error


def test_a_malformed_answer_is_a_failed_attempt_not_a_crash(
    chain, pickup, development, django_capture_on_commit_callbacks
):
    with RawServer(lambda conn: conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")) as not_http:
        development.allowed.add(not_http.port)
        WebhookSubscription.objects.create(organization=chain.source, url=not_http.url)
        delivery = weigh(chain, pickup, django_capture_on_commit_callbacks)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert delivery.last_error  # http.client's complaint, recorded like a network error
