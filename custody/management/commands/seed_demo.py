"""A realistic, idempotent demo: run it twice and nothing changes the second time.

Reference data is upserted by slug; every custody step goes through ``custody.services`` with an
idempotency key, so a second run replays instead of writing (``custody.demo``). The demo ledger
verifies clean; ``demo_tamper`` alters one row of it to show ``verify_ledger`` catching it.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from custody.demo import data, policies, scenarios
from custody.demo.builder import Builder
from custody.services.stored_verdicts import reassess_stale_lots


class Command(BaseCommand):
    help = "Load the demo chain: partners, facilities, certifications and lots at every stage."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Seed even with DEBUG off (never in production)."
        )
        parser.add_argument(
            "--port", type=int, default=8000, help="The port the admin's address names (make run)."
        )

    def handle(self, *args, force, port, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates a known admin login: run it with DEBUG=1.")
        with transaction.atomic():
            organizations = data.seed_partners()
            admin = data.seed_admin(organizations["ledger-ops"])
            policies.seed_policies()
        lots = scenarios.seed_lots(Builder(organizations, data.facilities()))
        reassess_stale_lots(everything=True)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for label, lot in lots.items():
            lot.refresh_from_db()
            where = lot.custodian or f"in transit to {lot.destination}"
            hold = ", quarantined" if lot.quarantined else ""
            self.stdout.write(
                f"  {lot.code}  {label:<48} {lot.verdict.outcome:<14} {lot.status}{hold} @ {where}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin: http://127.0.0.1:{port}/admin/  user {admin.username!r}  "
                f"password {data.ADMIN_PASSWORD!r}"
            )
        )
