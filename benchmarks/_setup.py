"""Shared set-up for the benchmarks: a scratch PostgreSQL database, migrated, and Django."""

import base64
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


def scratch_database(name: str, server_url: str = DEFAULT_SERVER, keep: bool = False) -> str:
    """Drop and create ``name`` on the server (or keep it as it is, with ``keep``); point Django
    at it; migrate. Returns its URL."""
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not (keep and exists):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{server_url}/{name}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "0"  # as in production: DEBUG's query log would skew the figures
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-0123456789-abcdefghijklmnop")
    # Production needs a key to sign the transparency log's checkpoints; a throwaway one here.
    os.environ.setdefault("LOG_SIGNING_KEY", base64.b64encode(os.urandom(32)).decode())
    # And another signs the certificates of origin.
    os.environ.setdefault("CREDENTIAL_SIGNING_KEY", base64.b64encode(os.urandom(32)).decode())
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def median_seconds(run, repeat: int = 5) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def source_with_pickups(lots: int) -> tuple[str, list[str]]:
    """A data-center operator with ``lots`` pickups registered through the services, one
    webhook subscription (to a closed port) and an API key: what the API benchmarks write with.
    Returns the key and the lots' codes."""
    from decimal import Decimal

    from custody import services
    from custody.actors import Actor
    from custody.models import WebhookSubscription
    from recyclers.models import Facility, Organization, OrganizationAPIKey, OrganizationRole

    source = Organization.objects.create(slug="source", name="Source", country="US")
    source.roles.set(OrganizationRole.objects.filter(code="source"))
    dc = Facility.objects.create(organization=source, name="DC", kind="data_center", country="US")
    actor = Actor(organization=source)
    codes = [
        services.register_pickup(
            actor=actor,
            facility=dc,
            material="hdd",
            mass_kg=Decimal("10"),
            assets=[services.AssetLine(category="hdd_3_5", serial=f"S{n}")],
        ).code
        for n in range(lots)
    ]
    WebhookSubscription.objects.create(organization=source, url="http://127.0.0.1:9/hook")
    _, key = OrganizationAPIKey.objects.create_key(name="bench", organization=source)
    return key, codes
