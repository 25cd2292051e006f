"""The growth benchmark's ledgers (``growth.py``): built by COPY, bypassing the services, with
the visibility record the services would have written and the feeds and log the integrator
writes from it; or found again (``--keep``); then vacuumed and written out."""

import hashlib
import io
import time
import uuid
from datetime import UTC, datetime, timedelta

from _setup import scratch_database

BIG, SMALL = "big-recycler", "small-recycler"


def share_of(lot_id: int) -> str:
    """Which recycler a lot goes to: 0.5 % to the small one, 25 % to the big one."""
    if lot_id % 200 == 0:
        return SMALL
    return BIG if lot_id % 4 == 1 else "other-recycler"


def build(events: int, lots: int) -> dict:
    """The organizations, facilities and keys through the ORM; lots, events and the visibility
    record by COPY; then the log integrated (which writes the feeds), as beat would."""
    from django.db import connection

    from custody.models import WebhookSubscription
    from custody.services.transparency_log import integrate_log
    from recyclers.models import Facility, Organization, OrganizationAPIKey, OrganizationRole

    def organization(slug, role, kind):
        made = Organization.objects.create(slug=slug, name=slug.title(), country="US")
        made.roles.set(OrganizationRole.objects.filter(code=role))
        facility = Facility.objects.create(organization=made, name=slug, kind=kind, country="US")
        return made, facility

    source, dc = organization("source", "source", "data_center")
    recyclers = {
        slug: organization(slug, "recycler", "plant") for slug in (BIG, SMALL, "other-recycler")
    }
    keys = {
        slug: OrganizationAPIKey.objects.create_key(name="bench", organization=made)[1]
        for slug, (made, _) in recyclers.items()
        if slug in (BIG, SMALL)
    }
    # One subscription (to a closed port): the outbox is active, as in api_capture.
    WebhookSubscription.objects.create(organization=recyclers[BIG][0], url="http://127.0.0.1:9/h")
    per_lot = events // lots
    start = datetime(2025, 1, 1, tzinfo=UTC)
    lot_rows, event_rows, grants = io.StringIO(), io.StringIO(), io.StringIO()
    event_id = 0
    for lot_id in range(1, lots + 1):
        partner, plant = recyclers[share_of(lot_id)]
        prev = "0" * 64
        for seq in range(1, per_lot + 1):
            event_id += 1
            moment = start + timedelta(seconds=lot_id * 10 + seq)
            kind, facility, counterparty, actor = {
                1: ("registered", dc, None, source),
                2: ("dispatched", dc, plant, source),
                3: ("received", plant, dc, partner),
            }.get(seq, ("weighed", plant, None, partner))
            digest = hashlib.sha256(f"event {event_id}".encode()).hexdigest()
            event_rows.write(
                "\t".join(
                    [
                        str(event_id),
                        str(uuid.uuid4()),
                        str(lot_id),
                        str(seq),
                        kind,
                        moment.isoformat(),
                        moment.isoformat(),
                        str(actor.pk),
                        "",
                        str(facility.pk),
                        str(counterparty.pk) if counterparty else "\\N",
                        "10.000",
                        "{}",
                        "[]",
                        "",
                        prev,
                        digest,
                    ]
                )
                + "\n"
            )
            if seq in (1, 2):  # the registration shows the source, the dispatch the recycler
                seer = source if seq == 1 else partner
                grants.write(f"{seer.pk}\t{lot_id}\t{event_id}\t{moment.isoformat()}\n")
            prev = digest
        code = f"LOT-2025-{lot_id:06d}"
        lot_rows.write(
            f"{lot_id}\t{code}\thdd\treceived\t{plant.pk}\t{dc.pk}\t10.000\t{per_lot}\t{prev}\t"
            f"{moment.isoformat()}\tf\t\t{moment.isoformat()}\t{moment.isoformat()}\t1\n"
        )
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for statement, rows in [
            (
                "COPY custody_lot (id, code, material, status, custodian_id, source_facility_id,"
                " mass_kg, head_seq, head_hash, last_occurred_at, quarantined, external_ref,"
                " created_at, updated_at, item_count) FROM STDIN",
                lot_rows,
            ),
            (
                "COPY custody_custodyevent (id, uuid, lot_id, seq, kind, occurred_at, recorded_at,"
                " actor_organization_id, actor_api_key_prefix, facility_id,"
                " counterparty_facility_id, mass_kg, details, evidence, idempotency_key,"
                " prev_hash, hash) FROM STDIN",
                event_rows,
            ),
            (
                "COPY custody_lotvisibility (organization_id, lot_id, granted_by_id, created_at)"
                " FROM STDIN",
                grants,
            ),
        ]:
            with raw.copy(statement) as copy:
                copy.write(rows.getvalue())
        for table in ("custody_lot", "custody_custodyevent"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM"
                f" {table}))"
            )
        cursor.execute("ANALYZE")
    while integrate_log():
        pass
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"keys": keys, "partners": {slug: made.pk for slug, (made, _) in recyclers.items()}}


def reuse() -> dict | None:
    """The partners of a ledger built before, with new keys; None if the database holds none.
    What earlier rounds wrote stays out of the log (beat integrates, not the benchmark), so
    every round reads the feeds as built."""
    from custody.models import Lot
    from recyclers.models import Organization, OrganizationAPIKey

    partners = dict(
        Organization.objects.filter(slug__in=(BIG, SMALL, "other-recycler")).values_list(
            "slug", "pk"
        )
    )
    if len(partners) < 3 or not Lot.objects.exists():
        return None
    keys = {
        slug: OrganizationAPIKey.objects.create_key(name="bench", organization_id=partners[slug])[1]
        for slug in (BIG, SMALL)
    }
    return {"keys": keys, "partners": partners}


def prepare(events: int, lots: int, database: str, keep: bool) -> dict:
    """In a child: build the ledger in its own database (unless ``keep`` finds one), then
    vacuum it and write it out, as a ledger with history stands: autovacuum has been by and
    nothing of the build is waiting to be written while the requests are timed."""
    from django.db import connection

    scratch_database(database, keep=keep)
    from custody.services import transparency_log

    transparency_log.set_integrator(None)
    started = time.perf_counter()
    if not (keep and reuse()):
        build(events, lots)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("CHECKPOINT")
    return {"build_seconds": time.perf_counter() - started}
