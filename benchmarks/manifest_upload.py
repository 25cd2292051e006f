#!/usr/bin/env python
"""How long does the largest manifest a partner may send take to record?

On a scratch PostgreSQL database ``bench_manifest``, registers a pickup, then sends one
``POST /api/v1/lots/{code}/manifest/`` (CSV) of ``--rows`` drive lines (default: the most one
upload may carry), and one ``POST /api/v1/lots/`` (JSON) registering a pickup with that many
assets; then the same CSV upload to a lot whose manifest already holds as many lines as it may
before that upload (each amendment digests the whole manifest again). Each request goes
through the whole Django stack in-process (middleware, authentication, idempotency, parsing,
validation, the service, the transaction), with ``DEBUG=0``. Prints the seconds each took and
the body size. The worker that serves such a request is busy for that long: it must stay well
under gunicorn's 30 s timeout.

Usage: .venv/bin/python benchmarks/manifest_upload.py [--rows 10000]
"""

import argparse
import json
import os
import time
import uuid

from _setup import scratch_database


def csv_body(rows: int, prefix: str = "ZR") -> bytes:
    header = "category,make,model,serial,weight_kg,sanitization_method,sanitized_at\n"
    lines = (
        f"hdd_3_5,Seagate,Exos X18,{prefix}{n:08d},0.670,purge,2026-01-0{1 + n % 9}T08:00:00Z\n"
        for n in range(rows)
    )
    return (header + "".join(lines)).encode()


def json_body(rows: int, facility_id: int) -> bytes:
    assets = [
        {
            "category": "hdd_3_5",
            "make": "Seagate",
            "model": "Exos X18",
            "serial": f"JS{n:08d}",
            "weight_kg": "0.670",
            "sanitization_method": "purge",
            "sanitized_at": "2026-01-01T08:00:00Z",
        }
        for n in range(rows)
    ]
    body = {"facility": facility_id, "material": "hdd", "mass_kg": "1000", "assets": assets}
    return json.dumps(body).encode()


def main() -> None:
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("API_MAX_BODY_BYTES", str(64 * 1024 * 1024))  # measure, not refuse
    scratch_database("bench_manifest")
    from decimal import Decimal

    from django.test import Client

    from custody import services
    from custody.actors import Actor
    from custody.api.inputs import MAX_MANIFEST_ROWS
    from custody.services.pickups import MAX_MANIFEST_LINES
    from recyclers.models import Facility, Organization, OrganizationAPIKey, OrganizationRole

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=MAX_MANIFEST_ROWS)
    rows = parser.parse_args().rows

    source = Organization.objects.create(slug="source", name="Source", country="US")
    source.roles.set(OrganizationRole.objects.filter(code="source"))
    dc = Facility.objects.create(organization=source, name="DC", kind="data_center", country="US")
    actor = Actor(organization=source)
    first = [services.AssetLine(category="hdd_3_5", serial="FIRST")]
    lot = services.register_pickup(
        actor=actor, facility=dc, material="hdd", mass_kg=Decimal("10"), assets=first
    )
    full = services.register_pickup(
        actor=actor, facility=dc, material="hdd", mass_kg=Decimal("10"), assets=first
    )
    held = 1
    while held < MAX_MANIFEST_LINES - rows:  # filled through the service, not timed
        more = min(MAX_MANIFEST_ROWS, MAX_MANIFEST_LINES - rows - held)
        lines = [services.AssetLine(category="hdd_3_5", serial=f"F{held + n}") for n in range(more)]
        services.amend_manifest(actor=actor, lot=full, assets=lines)
        held += more
    _, key = OrganizationAPIKey.objects.create_key(name="bench", organization=source)
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")

    for label, url, content_type, body in [
        ("CSV manifest", f"/api/v1/lots/{lot.code}/manifest/", "text/csv", csv_body(rows)),
        ("JSON pickup", "/api/v1/lots/", "application/json", json_body(rows, dc.pk)),
        (
            f"CSV manifest to a lot holding {held:,} lines",
            f"/api/v1/lots/{full.code}/manifest/",
            "text/csv",
            csv_body(rows, prefix="ZF"),
        ),
    ]:
        started = time.perf_counter()
        response = client.post(
            url,
            body,
            content_type=content_type,
            secure=True,
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )
        seconds = time.perf_counter() - started
        assert response.status_code == 201, (response.status_code, response.content[:500])
        print(f"{label}: {rows:,} rows, {len(body) / 2**20:.1f} MiB, {seconds:.1f} s")


if __name__ == "__main__":
    main()
