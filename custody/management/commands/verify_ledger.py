import os
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from custody.models import CustodyEvent
from custody.selectors.verification import verify_ledger


class Command(BaseCommand):
    help = (
        "Recompute every lot's hash chain from scratch, and the transparency log against the "
        "ledger and its signed checkpoints. Exits 1 and names the first broken event of each "
        "broken lot, and what is missing from or changed in the log."
    )

    def add_arguments(self, parser):
        parser.add_argument("lots", nargs="*", metavar="LOT", help="Only these lot codes.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="Processes verifying in parallel on PostgreSQL (default: one per CPU).",
        )

    def handle(self, *args, lots, no_progress, workers, **options):
        codes = lots or None
        events = CustodyEvent.objects.all()
        if codes:
            events = events.filter(lot__code__in=codes)
        started = time.perf_counter()
        with tqdm(
            total=events.count(),
            unit=" events",
            unit_scale=True,
            disable=no_progress,
            file=self.stderr._out,
            mininterval=0.5,
        ) as bar:
            report = verify_ledger(codes, progress=bar.update, workers=max(workers, 1))
        elapsed = time.perf_counter() - started
        rate = report.events / elapsed if elapsed else 0
        summary = (
            f"{report.events:,} events in {report.lots:,} lots in {elapsed:.2f} s "
            f"({rate:,.0f} events/s)"
        )
        log = report.log
        if log is not None:
            summary += (
                f"; log of {log.leaves:,} leaves, {log.checkpoints:,} checkpoints"
                f" ({log.queued:,} events queued for it)"
            )
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"Ledger verified: {summary}."))
            return
        for broken in report.broken:
            self.stderr.write(f"BROKEN {broken}")
        for problem in log.problems if log is not None else ():
            self.stderr.write(f"LOG {problem}")
        problems = len(log.problems) if log is not None else 0
        raise CommandError(
            f"{len(report.broken)} broken chain(s), {problems} log problem(s) among {summary}."
        )
