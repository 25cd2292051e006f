"""The visibility record and the partners' event feeds, backfilled from the ledger in event id
order as the services would have written them (``custody.services.visibility``), then made
append-only. Feed cursors issued before this migration were event ids, not entry ids: a partner
restarts its feed from the beginning (README, "Partner API")."""

from collections import defaultdict

import django.db.models.deletion
from django.db import migrations, models

from custody import db_triggers

TABLES = [db_triggers.VISIBILITY, db_triggers.FEED_ENTRIES]
BATCH = 5000
# The rule as it stands at this migration (a later change of the services' rule is its own
# migration): an event's facility, and the counterparty of a dispatch or a delivery, belong to
# organizations that may see the lot from then on; operators and auditors see everything.
NAMES_RECEIVER = {"dispatched", "delivered"}
SEES_EVERYTHING = {"operator", "auditor"}


def backfill(apps, schema_editor):
    CustodyEvent = apps.get_model("custody", "CustodyEvent")
    LotVisibility = apps.get_model("custody", "LotVisibility")
    FeedEntry = apps.get_model("custody", "FeedEntry")
    Facility = apps.get_model("recyclers", "Facility")
    Organization = apps.get_model("recyclers", "Organization")
    everything = set(
        Organization.roles.through.objects.filter(organizationrole__in=SEES_EVERYTHING).values_list(
            "organization_id", flat=True
        )
    )
    partner_of = {
        facility: organization
        for facility, organization in Facility.objects.values_list("pk", "organization_id")
        if organization not in everything
    }
    seers = defaultdict(set)  # lot -> partners that may see it so far
    history = defaultdict(list)  # lot -> its event ids so far, in order
    grants, entries = [], []
    last = 0
    while True:
        rows = list(
            CustodyEvent.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list(
                "pk", "lot_id", "kind", "facility_id", "counterparty_facility_id", "recorded_at"
            )[:BATCH]
        )
        if not rows:
            break
        for pk, lot, kind, facility, counterparty, recorded_at in rows:
            places = [facility, counterparty] if kind in NAMES_RECEIVER else [facility]
            seeing = seers[lot]
            for place in places:
                organization = partner_of.get(place)
                if organization is None or organization in seeing:
                    continue
                seeing.add(organization)
                grants.append(
                    LotVisibility(
                        organization_id=organization,
                        lot_id=lot,
                        granted_by_id=pk,
                        created_at=recorded_at,
                    )
                )
                entries += [
                    FeedEntry(
                        organization_id=organization, event_id=earlier, recorded_at=recorded_at
                    )
                    for earlier in history[lot]
                ]
            entries += [
                FeedEntry(organization_id=organization, event_id=pk, recorded_at=recorded_at)
                for organization in sorted(seeing)
            ]
            history[lot].append(pk)
        last = rows[-1][0]
        LotVisibility.objects.bulk_create(grants, batch_size=BATCH)
        FeedEntry.objects.bulk_create(entries, batch_size=BATCH)
        grants, entries = [], []


def install(apps, schema_editor):
    db_triggers.install(schema_editor.connection, tables=TABLES)


def drop(apps, schema_editor):
    db_triggers.drop(schema_editor.connection, tables=TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("custody", "0009_webhooks"),
        ("recyclers", "0003_organization_api_keys"),
    ]

    operations = [
        migrations.CreateModel(
            name="FeedEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("recorded_at", models.DateTimeField()),
                (
                    "event",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="feed_entries",
                        to="custody.custodyevent",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="feed_entries",
                        to="recyclers.organization",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "feed entries",
                "indexes": [models.Index(fields=["organization", "id"], name="feedentry_feed")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("organization", "event"), name="one_entry_per_event"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="LotVisibility",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField()),
                (
                    "granted_by",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="custody.custodyevent",
                    ),
                ),
                (
                    "lot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="visibilities",
                        to="custody.lot",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lot_visibilities",
                        to="recyclers.organization",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("organization", "lot"), name="one_visibility_per_lot"
                    )
                ],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(install, drop),
    ]
