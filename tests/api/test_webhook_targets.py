"""Webhooks are no way into our network: a subscription names an https URL whose host resolves
to public addresses only; anything else is refused when the partner subscribes, with the field
and a code, before any connection. (Deliveries: test_webhook_delivery_targets.py.)"""

import pytest

from custody.models import WebhookSubscription

from .test_write_api import keyed, post
from .webhook_network import PUBLIC

SCHEME = "webhook_scheme_not_allowed"
ADDRESS = "webhook_url_not_allowed"
UNRESOLVED = "webhook_host_unresolved"

NAMES = {
    "hooks.partner.example": [PUBLIC],
    "files.partner.example": [PUBLIC],
    "internal.example": ["10.0.0.1"],
    "localhost": ["127.0.0.1", "::1"],
    "metadata.example": ["169.254.169.254"],
    "cgnat.example": ["100.64.12.34"],
    "v6.internal.example": ["fd12:3456::1"],
    "mapped.internal.example": ["::ffff:10.0.0.1"],
    "mixed.example": [PUBLIC, "10.0.0.1"],  # one private address among public ones is enough
    "mixed6.example": ["2606:2800:220:1::1", "::1"],
}

# (url, code): every class refused, by literal address and by name.
REFUSED = [
    ("ftp://files.partner.example/hooks", SCHEME),
    ("http://hooks.partner.example/hooks", SCHEME),  # plain http, outside development
    ("file:///etc/passwd", SCHEME),
    ("https://169.254.169.254/latest/meta-data/", ADDRESS),  # link-local: cloud metadata
    ("https://127.0.0.1:6379/", ADDRESS),  # loopback
    ("https://127.1.2.3/", ADDRESS),
    ("https://10.0.0.1/", ADDRESS),  # private
    ("https://172.16.5.4/", ADDRESS),
    ("https://192.168.1.1/", ADDRESS),
    ("https://100.64.0.1/", ADDRESS),  # carrier-grade NAT
    ("https://0.0.0.0/", ADDRESS),  # unspecified
    ("https://224.0.0.1/", ADDRESS),  # multicast
    ("https://240.0.0.1/", ADDRESS),  # reserved
    ("https://255.255.255.255/", ADDRESS),
    ("https://192.0.2.10/", ADDRESS),  # documentation
    ("https://[::1]/", ADDRESS),
    ("https://[::]/", ADDRESS),
    ("https://[::ffff:127.0.0.1]/", ADDRESS),  # IPv4-mapped loopback
    ("https://[::ffff:a9fe:a9fe]/", ADDRESS),  # IPv4-mapped 169.254.169.254
    ("https://[::ffff:10.0.0.1]:8443/", ADDRESS),
    ("https://[64:ff9b::a00:1]/", ADDRESS),  # NAT64 of 10.0.0.1
    ("https://[fd00::1]/", ADDRESS),  # unique local
    ("https://[fe80::1]/", ADDRESS),  # link-local
    ("https://[ff02::1]/", ADDRESS),  # multicast
    ("https://[2001:db8::1]/", ADDRESS),  # documentation
    ("https://internal.example/hooks", ADDRESS),
    ("https://localhost/hooks", ADDRESS),
    ("https://metadata.example/", ADDRESS),
    ("https://cgnat.example/", ADDRESS),
    ("https://v6.internal.example/", ADDRESS),
    ("https://mapped.internal.example/", ADDRESS),
    ("https://mixed.example/", ADDRESS),
    ("https://mixed6.example/", ADDRESS),
    ("https://user:secret@hooks.partner.example/", ADDRESS),
    ("https://nowhere.example/hooks", UNRESOLVED),
]


@pytest.fixture
def production(settings, resolver, connections):
    """Outside development: the setting off, names from ``NAMES``, no connection allowed."""
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    resolver.table.update(NAMES)
    return connections


def subscribe(chain, body):
    return post(keyed(chain.recycler), "/api/v1/webhooks/", body)


@pytest.mark.parametrize(("url", "code"), REFUSED)
def test_a_subscription_to_a_url_we_do_not_send_to_is_refused(chain, production, url, code):
    answered = subscribe(chain, {"url": url, "event_kinds": ["dispatched"]})
    assert answered.status_code == 400, answered.json()
    assert answered["Content-Type"] == "application/problem+json"
    problem = answered.json()
    assert problem["code"] == "invalid"
    assert [(error["field"], error["code"]) for error in problem["errors"]] == [("url", code)]
    assert not WebhookSubscription.objects.exists()
    assert production.attempts == []


def test_an_https_url_of_a_public_host_is_accepted_without_connecting(chain, production):
    answered = subscribe(chain, {"url": "https://hooks.partner.example/custody?x=1"})
    assert answered.status_code == 201, answered.json()
    assert WebhookSubscription.objects.get().url == "https://hooks.partner.example/custody?x=1"
    assert production.attempts == []


def test_unknown_fields_are_refused_like_everywhere_in_the_api(chain, production):
    answered = subscribe(
        chain, {"url": "https://hooks.partner.example/custody", "event_kind": ["dispatched"]}
    )
    assert answered.status_code == 400
    assert [(error["field"], error["code"]) for error in answered.json()["errors"]] == [
        ("event_kind", "unknown_field")
    ]
    assert not WebhookSubscription.objects.exists()


def test_fields_the_server_sets_are_refused_not_silently_replaced(chain, production):
    """A partner that sends its own ``secret`` would otherwise sign-check with a secret the
    server never used."""
    answered = subscribe(
        chain,
        {"url": "https://hooks.partner.example/custody", "secret": "mine", "id": 7},
    )
    assert answered.status_code == 400
    assert sorted((error["field"], error["code"]) for error in answered.json()["errors"]) == [
        ("id", "read_only_field"),
        ("secret", "read_only_field"),
    ]
    assert not WebhookSubscription.objects.exists()


def test_in_development_loopback_private_and_http_are_admitted(chain, settings, resolver):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    resolver.table.update(NAMES)
    for url in [
        "http://127.0.0.1:8000/hooks",
        "http://localhost:8000/hooks",
        "https://internal.example/hooks",
        "http://[fd00::1]/hooks",
        "https://cgnat.example/",
    ]:
        assert subscribe(chain, {"url": url}).status_code == 201, url


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",
        "https://metadata.example/",
        "https://[::ffff:a9fe:a9fe]/",
        "https://0.0.0.0/",
        "https://224.0.0.1/",
        "https://240.0.0.1/",
        "https://[fe80::1]/",
        "ftp://files.partner.example/",
    ],
)
def test_even_in_development_metadata_multicast_reserved_and_other_schemes_are_refused(
    chain, settings, resolver, url
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    resolver.table.update(NAMES)
    answered = subscribe(chain, {"url": url})
    assert answered.status_code == 400
    assert answered.json()["errors"][0]["field"] == "url"


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", "public"),
        ("2606:4700:4700::1111", "public"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.31.255.255", "private"),
        ("192.168.0.1", "private"),
        ("100.127.255.254", "private"),
        ("fc00::1", "private"),
        ("::ffff:192.168.0.1", "private"),
        ("64:ff9b::c0a8:1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1%1", "link-local"),
        ("224.0.0.251", "multicast"),
        ("ff05::2", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("::", "unspecified"),
        ("240.1.2.3", "reserved"),
        ("::7f00:1", "reserved"),  # IPv4-compatible 127.0.0.1
        ("2002:a00:1::1", "reserved"),  # 6to4 of 10.0.0.1
        ("2001::1", "reserved"),  # Teredo
        ("4000::1", "reserved"),  # outside global unicast
    ],
)
def test_each_address_has_its_class(address, kind):
    from custody.services.webhook_targets import address_class

    assert address_class(address) == kind


def test_the_admin_refuses_the_same_urls(admin_client, chain, production):
    page = admin_client.post(
        "/admin/custody/webhooksubscription/add/",
        {
            "organization": chain.recycler.pk,
            "url": "https://169.254.169.254/latest/meta-data/",
            "event_kinds": "[]",
            "is_active": "on",
        },
    )
    assert page.status_code == 200  # the form again, with the error
    assert "link-local" in page.content.decode()
    assert not WebhookSubscription.objects.exists()
    assert production.attempts == []
