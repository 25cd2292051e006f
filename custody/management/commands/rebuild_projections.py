from django.core.management.base import BaseCommand, CommandError

from custody.models import Lot
from custody.projection import projection_drift
from custody.services.projection_rebuild import rebuild_projection


class Command(BaseCommand):
    help = (
        "Replay every lot's events and compare (--check) or rewrite the stored status, custodian, "
        "mass and head. Exits 1 with --check when a lot drifted."
    )

    def add_arguments(self, parser):
        parser.add_argument("lots", nargs="*", metavar="LOT", help="Only these lot codes.")
        parser.add_argument("--check", action="store_true", help="Report drift, change nothing.")

    def handle(self, *args, lots, check, **options):
        queryset = Lot.objects.order_by("pk")
        if lots:
            queryset = queryset.filter(code__in=lots)
        drifted = 0
        for lot in queryset.iterator():
            if check:
                drift = projection_drift(lot, lot.events.order_by("seq"))
            else:
                drift = rebuild_projection(lot=lot)
            if drift:
                drifted += 1
                changes = ", ".join(f"{f}: {old} -> {new}" for f, (old, new) in drift.items())
                self.stdout.write(f"{lot.code}: {changes}")
        if check and drifted:
            raise CommandError(f"{drifted} lot(s) differ from their events.")
        verb = "differ from" if check else "were rebuilt from"
        self.stdout.write(self.style.SUCCESS(f"{drifted} lot(s) {verb} their events."))
