"""Alter one row of the demo ledger behind its back, to watch ``verify_ledger`` catch it.

The demo's plain pickup (``custody.demo.scenarios.TAMPER_TARGET``) has the mass of its
``registered`` event lowered by 1 kg with a raw UPDATE, the append-only triggers lifted for that
one statement. Its hash no longer matches its content: ``verify_ledger`` exits 1 naming the lot,
and its verdict says ``broken_chain``. Run it twice and nothing changes the second time.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from custody import db_triggers
from custody.demo.builder import pickup_ref
from custody.demo.scenarios import TAMPER_TARGET
from custody.models import Lot
from custody.selectors.verification import verify_ledger
from custody.services.stored_verdicts import reassess_lot


class Command(BaseCommand):
    help = "Alter one ledger row of the demo on purpose, so that verify_ledger names its lot."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Alter even with DEBUG off (never in production)."
        )

    def handle(self, *args, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "demo_tamper alters the ledger behind its back: run it with DEBUG=1, on the demo."
            )
        ref = pickup_ref(TAMPER_TARGET)
        lot = Lot.objects.filter(external_ref=ref).order_by("pk").first()
        if lot is None:
            raise CommandError(f"No demo pickup {ref}: run seed_demo first.")
        first = lot.events.get(seq=1)
        if verify_ledger([lot.code]).broken:
            self.stdout.write(f"{lot.code} ({ref}) was already altered; nothing changed.")
        else:
            with transaction.atomic():
                db_triggers.drop(connection)
                with connection.cursor() as cursor:
                    cursor.execute(
                        "UPDATE custody_custodyevent SET mass_kg = %s WHERE id = %s",
                        [first.mass_kg - 1, first.pk],
                    )
                db_triggers.install(connection)
            self.stdout.write(
                f"Altered {lot.code} ({ref}) event #{first.seq} ({first.kind}): mass_kg "
                f"{first.mass_kg} -> {first.mass_kg - 1}, behind the ledger's back."
            )
        verdict = reassess_lot(lot=lot)
        for broken in verify_ledger([lot.code]).broken:
            self.stdout.write(f"verify_ledger now exits 1 and names it: BROKEN {broken}")
        codes = ", ".join(sorted({finding.code for finding in verdict.findings})) or "none"
        self.stdout.write(f"Its verdict is now {verdict.outcome}; findings: {codes}.")
