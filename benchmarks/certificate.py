#!/usr/bin/env python
"""How long does a certificate of origin, and an audit pack, take for a batch with 10,000 lots
upstream, and where does the time go?

On PostgreSQL only (``DATABASE_URL`` names the server; SQLite is refused): builds, or with
``--keep`` reuses, a scratch database with the verdict benchmark's ledger (``verdict.build``:
9,000 pickups, 900 magnet lots, 90 concentrates, 9 oxides merged into one final batch, 10,000
lots and ~49,000 events upstream of it, every one through the real services), integrates the
transparency log, then runs a certificate report and an audit-pack report of the final batch
as the Celery task runs them (``custody.tasks.run_report`` on a queued ``Report``, eager), for
the refinery that holds the batch, median of ``--runs``, timing each stage:

* log: ``integrate_log`` (nothing left to integrate) and the latest checkpoint;
* assess: the verdict as the organization may read it (``verdict_for``);
* gather: every upstream event with its facility and country as recorded (``upstream_ledger``)
  and the checkpoint's cut (``logged_rows``);
* CSV, Merkle root (RFC 6962 over the events' hashes), contributions (each pickup's share,
  walked once for the credential and the PDF), claims (materials by country, the producing
  facility), signing (the UNTP passport and its VC-JWT);
* PDF: its document (genealogy, route, contributions by data center) and reportlab's rendering;
* inclusion proofs (one per upstream event, from the log's tiles), zip, storage write;
* report: the rest (the report's row lock and progress updates, the certificate's insert).

Baselines from the same run: one bare SQL SELECT of the upstream events (the recursive walk,
then every event's row, raw psycopg), and SHA-256 in pure Python of the RFC 6962 root over as
many hashes (every leaf and interior node). Target: the audit pack under 10 s end to end.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python benchmarks/certificate.py
       [--database bench_certificate] [--keep] [--runs 3]
(the build takes several minutes; --keep reuses the database)
"""

import argparse
import functools
import hashlib
import os
import statistics
import sys
import time
from collections import defaultdict
from urllib.parse import urlsplit

from _setup import scratch_database

TARGET_SECONDS = 10.0

# (module, attribute, stage): the functions the report's task calls, timed where it looks them
# up. A stage's time excludes the stages timed inside it (a stack of timers).
STAGES = (
    ("custody.services.certificates", "integrate_log", "log"),
    ("custody.services.certificates", "latest_checkpoint", "log"),
    ("custody.services.certificates", "verdict_for", "assess"),
    ("custody.services.certificates", "upstream_ledger", "gather"),
    ("custody.services.certificates", "logged_rows", "gather"),
    ("custody.services.certificates", "ledger_csv", "CSV"),
    ("custody.services.certificates", "upstream_root", "Merkle root"),
    ("custody.services.certificates", "contributions", "contributions"),
    ("custody.services.certificates", "_claims", "claims"),
    ("custody.credentials", "passport", "signing"),
    ("custody.credentials", "sign", "signing"),
    ("custody.services.reports", "certificate_document", "PDF document"),
    ("custody.services.reports", "render_certificate", "PDF render"),
    ("custody.selectors.audit_pack", "inclusion_proofs", "inclusion proofs"),
    ("custody.services.reports", "audit_pack", "zip"),
    ("custody.services.reports", "_store", "storage write"),
)
ORDER = [
    "log",
    "assess",
    "gather",
    "CSV",
    "Merkle root",
    "contributions",
    "claims",
    "signing",
    "PDF document",
    "PDF render",
    "inclusion proofs",
    "zip",
    "storage write",
    "report",
]

BARE_WALK = """
WITH RECURSIVE walk(lot_id) AS (
    SELECT parent_id FROM custody_lotlink WHERE child_id = %s
    UNION
    SELECT link.parent_id FROM custody_lotlink link JOIN walk ON link.child_id = walk.lot_id
)
SELECT lot_id FROM walk
"""


def server_url() -> str:
    """The PostgreSQL server ``DATABASE_URL`` names (its database part is not used)."""
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit(
            "benchmarks/certificate.py runs on PostgreSQL only, as production does (its "
            "recursive walks, its log tiles): set DATABASE_URL to a PostgreSQL server, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres"
            + (f" (not {parts.scheme}: SQLite is not measured)" if url else " (it is unset)")
        )
    return f"{parts.scheme}://{parts.netloc}"


class StageTimer:
    """Exclusive wall time per stage of the functions in ``STAGES``, while installed."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._stack: list[float] = []  # time spent in timed children, per open frame
        self._saved = []

    def install(self) -> None:
        import importlib

        for module_name, attribute, stage in STAGES:
            module = importlib.import_module(module_name)
            original = getattr(module, attribute)
            self._saved.append((module, attribute, original))
            setattr(module, attribute, self._wrap(original, stage))

    def uninstall(self) -> None:
        for module, attribute, original in reversed(self._saved):
            setattr(module, attribute, original)
        self._saved.clear()

    def _wrap(self, function, stage: str):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            self._stack.append(0.0)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                children = self._stack.pop()
                self.seconds[stage] += elapsed - children
                if self._stack:
                    self._stack[-1] += elapsed

        return timed


def final_batch():
    from custody.models import Lot

    return Lot.objects.filter(material="ndpr_oxide").order_by("-pk").first()


def ensure_ledger(keep: bool):
    """The verdict benchmark's ledger (built unless kept) and the log integrated."""
    from django.db import connection

    from custody.models import CustodyEvent, Lot
    from custody.services import stored_verdicts, transparency_log

    started = time.perf_counter()
    final = final_batch() if keep else None
    if final is None or not final.parent_links.exists():
        sys.path.insert(0, os.path.dirname(__file__))
        import verdict

        # One transaction over 10,000 lots: the verdict refresh after commit is not measured.
        stored_verdicts.set_reassessor(lambda lot_ids: None)
        integrator = transparency_log._integrator
        transparency_log.set_integrator(None)
        verdict.build()
        transparency_log.set_integrator(integrator)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        final = final_batch()
    print(
        f"ledger: {Lot.objects.count():,} lots, {CustodyEvent.objects.count():,} events "
        f"({time.perf_counter() - started:.0f} s to build or find)"
    )
    started, batches = time.perf_counter(), 0
    while transparency_log.integrate_log() is not None:
        batches += 1
    if batches:
        print(f"log: {batches} batch(es) integrated in {time.perf_counter() - started:.1f} s")
    return final


def run(kind: str, final, organization, timer: StageTimer | None = None):
    """One report, queued then run by the Celery task (eager). Returns (seconds, report)."""
    from custody.models import Report, ReportStatus
    from custody.tasks import run_report

    report = Report.objects.create(kind=kind, lot=final, organization=organization)
    if timer:
        timer.install()
    started = time.perf_counter()
    try:
        run_report.apply(args=(str(report.pk),), throw=True)
    finally:
        seconds = time.perf_counter() - started
        if timer:
            timer.uninstall()
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE, (report.status, report.error)
    return seconds, report


def measured(kind: str, final, organization, runs: int) -> tuple[float, dict, object]:
    """Median seconds and the median of each stage's seconds over ``runs`` runs."""
    totals, stages, report = [], defaultdict(list), None
    for _ in range(runs):
        timer = StageTimer()
        seconds, report = run(kind, final, organization, timer)
        totals.append(seconds)
        timer.seconds["report"] = seconds - sum(timer.seconds.values())
        for stage in ORDER:
            stages[stage].append(timer.seconds.get(stage, 0.0))
    return (
        statistics.median(totals),
        {stage: statistics.median(values) for stage, values in stages.items()},
        report,
    )


def query_count(kind: str, final, organization) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        run(kind, final, organization)
    return len(queries.captured_queries)


def bare_read(url: str, final_id: int, runs: int) -> tuple[float, list[bytes]]:
    """One bare SELECT of every upstream event's row (after the bare walk), raw psycopg; and
    the events' hashes in log order, for the bare root."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as bare_connection:
        bare_connection.execute("SET jit = off")

        def read():
            ids = [row[0] for row in bare_connection.execute(BARE_WALK, [final_id])]
            return bare_connection.execute(
                "SELECT * FROM custody_custodyevent WHERE lot_id = ANY(%s)", [[*ids, final_id]]
            ).fetchall()

        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            read()
            timings.append(time.perf_counter() - started)
        ids = [row[0] for row in bare_connection.execute(BARE_WALK, [final_id])]
        hashes = [
            bytes.fromhex(digest)
            for (digest,) in bare_connection.execute(
                "SELECT hash FROM custody_custodyevent WHERE lot_id = ANY(%s) ORDER BY id",
                [[*ids, final_id]],
            )
        ]
    return statistics.median(timings), hashes


def bare_root(hashes: list[bytes]) -> bytes:
    """The RFC 6962 root in pure Python: each leaf hash, then each level's pairs."""
    sha256 = hashlib.sha256
    level = [sha256(b"\x00" + leaf).digest() for leaf in hashes]
    while len(level) > 1:
        paired = [
            sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        level = paired + level[len(level) - len(level) % 2 :]
    return level[0]


def bare_root_seconds(hashes: list[bytes], runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        bare_root(hashes)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def pack_sizes(report) -> dict[str, int]:
    import zipfile

    with report.file.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        return {info.filename: info.file_size for info in archive.infolist()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="bench_certificate", help="(default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="Reuse the database as it is.")
    parser.add_argument("--runs", type=int, default=3, help="(default: %(default)s)")
    args = parser.parse_args()
    url = scratch_database(args.database, server_url(), keep=args.keep)
    from django.conf import settings

    settings.MEDIA_ROOT = os.environ.get("BENCH_MEDIA_ROOT", f"/tmp/{args.database}-media")
    from custody.models import LogCheckpoint

    final = ensure_ledger(args.keep)
    organization = final.custodian.organization
    tree_size = LogCheckpoint.objects.order_by("-tree_size").values_list("tree_size", flat=True)[0]

    bare_seconds, hashes = bare_read(url, final.pk, args.runs)
    root_seconds = bare_root_seconds(hashes, args.runs)
    bare_total = bare_seconds + root_seconds
    print(
        f"final batch {final.code} for {organization.name}: {len(hashes):,} events upstream, "
        f"log of {tree_size:,} leaves; median of {args.runs} runs"
    )

    results = {}
    for kind in ("certificate", "audit_pack"):
        run(kind, final, organization)  # warm-up: imports, fonts, caches
        results[kind] = measured(kind, final, organization, args.runs)

    header = f"{'stage':<18}" + "".join(f"{k:>22}" for k in ("certificate", "audit pack"))
    print(f"\n{header}\n{'':<18}{'seconds   share':>22}{'seconds   share':>22}")
    for stage in ORDER:
        cells = ""
        for kind in results:
            total, stages, _ = results[kind]
            seconds = stages.get(stage, 0.0)
            cells += f"{seconds:>14.3f} {seconds / total:>6.1%}" if seconds else f"{'-':>14}{'':>7}"
        print(f"{stage:<18}{cells}")
    print(f"{'total':<18}" + "".join(f"{results[kind][0]:>14.3f} {1:>6.0%}" for kind in results))

    print()
    print(f"bare SELECT of the upstream events (walk + rows)   {bare_seconds * 1e3:8.0f} ms")
    print(f"bare SHA-256 RFC 6962 root of {len(hashes):,} hashes      {root_seconds * 1e3:8.0f} ms")
    for kind, label in (("certificate", "certificate report"), ("audit_pack", "audit-pack report")):
        total, _, report = results[kind]
        verdict_line = ""
        if kind == "audit_pack":
            verdict_line = f"  target < {TARGET_SECONDS:.0f} s: " + (
                "PASS" if total < TARGET_SECONDS else "FAIL"
            )
        print(
            f"{label:<20} {total:8.2f} s  x{total / bare_total:.1f} bare (read + root)  "
            f"{query_count(kind, final, organization)} queries  file {report.size:,} bytes"
            f"{verdict_line}"
        )
    sizes = pack_sizes(results["audit_pack"][2])
    print("audit pack: " + ", ".join(f"{name} {size:,}" for name, size in sizes.items()))


if __name__ == "__main__":
    main()
