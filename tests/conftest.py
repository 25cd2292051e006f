import importlib
import ipaddress
import os
import socket
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from custody import db_triggers, services
from custody.actors import Actor
from custody.errors import DomainError
from custody.models import Asset, AssetCategory, CustodyEvent, Lot, Material, SanitizationMethod
from recyclers.models import FacilityKind, OrganizationRole, Role

from .factories import FacilityFactory, OrganizationFactory, UserFactory

DEFAULT_POLICY_MIGRATION = importlib.import_module("custody.migrations.0006_default_origin_policy")
POLICY_VERSIONS_MIGRATION = importlib.import_module(
    "custody.migrations.0013_origin_policy_versions"
)


def pytest_configure(config):
    _make_transactional_flush_keep_the_schema_data()


def _make_transactional_flush_keep_the_schema_data():
    """Transactional tests end with a flush of every table. Two things need help:

    * The flush is a DELETE on SQLite and a TRUNCATE on PostgreSQL, which the append-only
      triggers refuse: lift the triggers for the flush alone.
    * The flush also empties the organization roles and the default origin policy (with its
      first version) that migrations installed: put them back, as the migrations would.
    """
    original = TransactionTestCase._fixture_teardown

    def teardown(self):
        db_triggers.drop(connection)
        try:
            return original(self)
        finally:
            db_triggers.install(connection)
            OrganizationRole.objects.bulk_create(
                [OrganizationRole(code=code) for code in Role.values], ignore_conflicts=True
            )
            DEFAULT_POLICY_MIGRATION.create(django_apps, None)
            POLICY_VERSIONS_MIGRATION.backfill(django_apps, None)

    TransactionTestCase._fixture_teardown = teardown


def pytest_collection_modifyitems(config, items):
    on_postgres = connection.vendor == "postgresql"
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))


@pytest.fixture
def redis_url():
    """The Redis broker CI gives (``REDIS_URL``); skipped without one, unless CI requires it."""
    url = os.environ.get("REDIS_URL")
    if not url:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("REQUIRE_REDIS=1 but REDIS_URL is not set")
        pytest.skip("needs a Redis broker (set REDIS_URL)")
    return url


def start_celery_worker(module: list[str], redis_url: str, queue: str, **env) -> subprocess.Popen:
    """A real Celery worker process (``python -m <module> worker``) on a queue of its own,
    reading the test database (PostgreSQL) through the Redis broker; ``env`` adds settings."""
    database = connection.settings_dict
    environment = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:"
            f"{database['PORT']}/{database['NAME']}"
        ),
        "REDIS_URL": redis_url,
        "SECRET_KEY": "worker-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        # The keys that signed the test's checkpoints and credentials: the worker uses them.
        "LOG_SIGNING_KEY": settings.LOG_SIGNING_KEY,
        "CREDENTIAL_SIGNING_KEY": settings.CREDENTIAL_SIGNING_KEY,
    }
    options = ["--pool", "solo", "--queues", queue, "--loglevel", "warning"]
    quiet = ["--without-heartbeat", "--without-gossip", "--without-mingle"]
    return subprocess.Popen(
        [sys.executable, "-m", *module, "worker", *options, *quiet],
        cwd=Path(__file__).resolve().parent.parent,
        env=environment | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@contextmanager
def refused(code: str, field: str | None = None):
    """The call raises ``DomainError(code)`` and leaves the whole ledger as it was."""
    before = ledger_snapshot()
    with pytest.raises(DomainError) as caught:
        yield caught
    assert caught.value.code == code, caught.value
    if field is not None:
        assert caught.value.field == field
    assert ledger_snapshot() == before


def ledger_snapshot():
    return (
        list(CustodyEvent.objects.order_by("id").values_list("id", "hash")),
        list(Lot.objects.order_by("id").values()),
        Asset.objects.count(),
    )


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


@dataclass
class Chain:
    """A small domestic chain: a data center, a carrier, a recycler, a buyer, an operator,
    an auditor, and a trader abroad."""

    source: object
    data_center: object
    carrier: object
    recycler: object
    plant: object
    buyer: object
    buyer_plant: object
    operator: object
    auditor: object
    trader: object
    trader_yard: object

    def actor(self, organization, user=None) -> Actor:
        return Actor(organization=organization, user=user)


@pytest.fixture
def chain(db) -> Chain:
    source = OrganizationFactory(slug="hyperscaler", name="Hyperscaler", roles=["source"])
    recycler = OrganizationFactory(slug="recycler", name="Recycler", roles=["recycler"])
    buyer = OrganizationFactory(slug="magnets", name="Magnet Maker", roles=["buyer"])
    trader = OrganizationFactory(slug="trader", name="Trader", country="MY", roles=["recycler"])
    return Chain(
        source=source,
        data_center=FacilityFactory(
            organization=source, name="DC Ashburn", kind=FacilityKind.DATA_CENTER, region="VA"
        ),
        carrier=OrganizationFactory(slug="carrier", name="Carrier", roles=["carrier"]),
        recycler=recycler,
        plant=FacilityFactory(organization=recycler, name="Knoxville plant"),
        buyer=buyer,
        buyer_plant=FacilityFactory(organization=buyer, name="Magnet plant", region="IN"),
        operator=OrganizationFactory(slug="operator", name="Operator", roles=["operator"]),
        auditor=OrganizationFactory(slug="auditor", name="Auditor", roles=["auditor"]),
        trader=trader,
        trader_yard=FacilityFactory(organization=trader, name="Port Klang yard", country="MY"),
    )


def drive_manifest(count: int = 3) -> list[services.AssetLine]:
    return [
        services.AssetLine(
            category=AssetCategory.HDD_3_5,
            make="Seagate",
            model="Exos X18",
            serial=f"ZR{number:06d}",
            weight_kg=Decimal("0.670"),
            sanitization_method=SanitizationMethod.PURGE,
            sanitization_certificate=f"WIPE-{number}",
            sanitized_at=days_ago(30),
        )
        for number in range(count)
    ]


def ship(
    chain,
    lot,
    *,
    to=None,
    measured_kg=None,
    seals_intact: bool = True,
    dispatched_at=None,
    received_at=None,
    received_note: str = "",
    **dispatch,
):
    """Dispatch ``lot`` from where it stands to ``to`` (default: the recycler's plant) and
    receive it there, through the services; ``measured_kg`` defaults to the mass that left.
    Further keywords go to the dispatch (carrier, seal numbers...). Returns the lot as it now
    stands."""
    lot.refresh_from_db()
    destination = to or chain.plant
    services.dispatch_lot(
        actor=chain.actor(lot.custodian.organization),
        lot=lot,
        destination=destination,
        occurred_at=dispatched_at,
        **dispatch,
    )
    services.receive_lot(
        actor=chain.actor(destination.organization),
        lot=lot,
        measured_mass_kg=lot.mass_kg if measured_kg is None else measured_kg,
        seals_intact=seals_intact,
        occurred_at=received_at,
        note=received_note,
    )
    lot.refresh_from_db()
    return lot


def register_pickup(chain):
    """A lot of 3 drives registered at the data center 20 days ago."""
    return services.register_pickup(
        actor=chain.actor(chain.source),
        facility=chain.data_center,
        material=Material.HDD,
        mass_kg=Decimal("2.010"),
        assets=drive_manifest(),
        occurred_at=days_ago(20),
    )


@pytest.fixture
def pickup(chain):
    """A lot of 3 drives registered at the data center 20 days ago."""
    return register_pickup(chain)


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture(autouse=True)
def no_name_lookups(monkeypatch):
    """Tests send nothing beyond loopback, DNS queries included (webhook URLs are resolved when
    a partner subscribes): numeric addresses and localhost resolve, any other name does not."""
    real = socket.getaddrinfo

    def loopback_only(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name is None or name == "localhost" or _is_address(name):
            return real(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, f"tests resolve no names ({name})")

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return True


REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
