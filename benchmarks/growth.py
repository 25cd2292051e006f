#!/usr/bin/env python
"""Does a partner's request cost the same on a young ledger and on one with years of history?

Builds two scratch PostgreSQL ledgers the same way (COPY, bypassing the services, with the
visibility record the services would have written and the feeds and log the integrator writes
from it): 10,000 events over 2,000 lots, and 1,000,000 events over 200,000 lots. Every lot is
registered at one data center and dispatched to, received and weighed twice by one of three
recyclers: a big one holding 25 % of the lots, a small one holding 0.5 %, and the rest. Each
is then vacuumed and checkpointed, as a ledger with history stands (autovacuum has been by,
nothing of the build waits to be written). Then, through the WSGI handler in process, with each
of the two partners' API keys, it times the lot list's first and a deep page (``page_size=100``),
the feed's first and a deep page, a lot's detail and its events, a single weigh and a batch of
20 weighs; for the small partner, also pages it fills on both ledgers (``EQUAL_WORK``: its 10
lots of the small ledger fill no page of 100); and, on the small ledger, the statements of a
batch of 20 with one subscribing organization and with ten. Every measuring round runs in a
fresh process (one Django per database, holding nothing of a build), the two ledgers taking
turns (``--rounds``, each ``--repeat`` runs of each request after one warm-up); the parent
prints the medians.

Usage: .venv/bin/python benchmarks/growth.py [--small 10000:2000] [--large 1000000:200000]
       [--rounds 3] [--repeat 5] [--keep] [--database-prefix bench_growth]
``--keep`` reuses the ledgers an earlier run built (its weighs stay, on lots the reads do not
show, and out of the log); each run issues the partners new API keys.
Targets: every ratio large/small at most 1.5; the lot list's first page under 50 ms on the large
ledger; a batch of 20 issues as many statements with 1 as with 10 subscribing organizations.
"""

import argparse
import base64
import io
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from urllib.parse import urlencode

from _setup import scratch_database
from growth_ledger import BIG, SMALL, prepare, reuse

TARGET_RATIO, TARGET_FIRST_PAGE_MS = 1.5, 50
# The small partner holds 10 lots (50 events) of the small ledger: its pages of 100 there hold
# 10 lots and 50 events where they hold 100 on the large one. Pages of these sizes are full,
# from the start and from the middle, on both ledgers: the same work asked.
EQUAL_WORK = (5, 20)
# The requests that ask the small partner for less on the small ledger than on the
# large one (pages of 10 lots and 50 events; a batch over 5 lots).
UNEQUAL_FOR_SMALL = (
    *("lot list, first page", "lot list, deep page", "feed, first page", "feed, deep page"),
    "a batch of 20 weighs",
)


def application():
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()

    def call(method: str, path: str, key: str, body: dict | None = None) -> tuple[int, dict]:
        path, _, query = path.partition("?")
        data = json.dumps(body).encode() if body is not None else b""
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(data),
            "wsgi.errors": sys.stderr,
            "CONTENT_LENGTH": str(len(data)),
            "CONTENT_TYPE": "application/json",
            "HTTP_AUTHORIZATION": f"Api-Key {key}",
            "HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4()),
        }
        answered = []
        result = app(environ, lambda status, headers: answered.append(int(status[:3])))
        content = b"".join(result)
        result.close()
        return answered[0], content

    return call


def cursor(position: str) -> str:
    return base64.b64encode(urlencode({"p": position}).encode()).decode()


def requests_of(partner: str, organization_id: int) -> dict:
    """The requests timed for one partner: ``{label: a function of the run's number answering
    (method, path, body)}``. The issue's requests, and for the small partner the same pages at
    the sizes its share fills on both ledgers (``EQUAL_WORK``). A lot's detail and its events
    are read from lots the writes never touch, so that every round reads the same chains."""
    from custody.models import FeedEntry, Lot, LotVisibility

    lot_ids = sorted(
        LotVisibility.objects.filter(organization_id=organization_id).values_list(
            "lot_id", flat=True
        )
    )
    half = min(len(lot_ids) // 2, 100)
    codes = dict(
        Lot.objects.filter(pk__in=lot_ids[:half] + lot_ids[-half:]).values_list("pk", "code")
    )
    written = [codes[pk] for pk in lot_ids[:half]]
    shown = [codes[pk] for pk in lot_ids[-half:]]
    entries = FeedEntry.objects.filter(organization_id=organization_id)
    middle_entry = entries.order_by("pk").values_list("pk", flat=True)[entries.count() // 2]
    middle_lot = lot_ids[len(lot_ids) // 2]
    counter = iter(range(10**9))

    def weigh(n):
        return ("POST", f"/api/v1/lots/{written[n % len(written)]}/weigh/", {"mass_kg": mass(n)})

    def batch(n, lots=written):
        events = [
            {"lot": lots[(n * 20 + i) % len(lots)], "action": "weigh", "mass_kg": mass(i)}
            for i in range(20)
        ]
        return "POST", "/api/v1/events/", {"events": events}

    def mass(n):
        return f"{10 + (next(counter) % 1000) / 1000:.3f}"

    def pages(lots: int, feed: int, suffix: str = "") -> dict:
        deep_lot = cursor(str(middle_lot))
        deep_entry = cursor(f"L{middle_entry}")
        return {
            f"lot list, first page{suffix}": lambda n: (
                "GET",
                f"/api/v1/lots/?page_size={lots}",
                None,
            ),
            f"lot list, deep page{suffix}": lambda n: (
                "GET",
                f"/api/v1/lots/?page_size={lots}&cursor={deep_lot}",
                None,
            ),
            f"feed, first page{suffix}": lambda n: (
                "GET",
                f"/api/v1/events/?page_size={feed}",
                None,
            ),
            f"feed, deep page{suffix}": lambda n: (
                "GET",
                f"/api/v1/events/?page_size={feed}&cursor={deep_entry}",
                None,
            ),
        }

    requests = pages(100, 100) | {
        "lot detail": lambda n: ("GET", f"/api/v1/lots/{shown[n % len(shown)]}/", None),
        "lot events": lambda n: ("GET", f"/api/v1/lots/{shown[n % len(shown)]}/events/", None),
        "a single weigh": weigh,
        "a batch of 20 weighs": batch,
    }
    if partner == SMALL:
        lots, feed = EQUAL_WORK
        requests |= pages(lots, feed, f" ({lots} lots, {feed} events a page)")
        # Its batch of 20 weighs 5 lots four times each on the small ledger, 20 lots on the
        # large one: the same 5 lots on both, too.
        requests[f"a batch of 20 weighs ({lots} lots)"] = lambda n: batch(n, written[:lots])
    return requests


def measure(database: str, repeat: int, statements: bool) -> dict:
    """In a fresh child (a server process holds nothing of a build): every request's times,
    ``repeat`` of them after one warm-up; and, asked, the statements of a batch of 20."""
    scratch_database(database, keep=True)
    from custody.services import transparency_log

    transparency_log.set_integrator(None)  # beat integrates in production, not the request
    built = reuse()
    call = application()
    timings = {}
    for partner in (BIG, SMALL):
        key = built["keys"][partner]
        for label, request in requests_of(partner, built["partners"][partner]).items():
            spent = []
            for n in range(repeat + 1):
                method, path, body = request(n)
                began = time.perf_counter()
                status, content = call(method, path, key, body)
                took = time.perf_counter() - began
                answer = json.loads(content) if content else {}
                assert status in (200, 201), (label, status, answer)
                if "page" in label and "a page" not in label:
                    assert len(answer["results"]) == 100 or partner == SMALL, (label, answer)
                if "a page" in label:  # the equal-work pages are full on both ledgers
                    assert len(answer["results"]) in EQUAL_WORK, (label, answer)
                if n:  # the first is a warm-up
                    spent.append(1000 * took)
            timings[f"{label}|{partner}"] = spent
    counts = statement_counts(call, built) if statements else None
    return {"ms": timings, "statements": counts}


def statement_counts(call, built) -> list[int]:
    """The statements of one batch of 20 weighs with 1 and then 10 subscribing organizations
    (the partners, the source, an operator, an auditor and four more partners)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from custody.models import LotVisibility, WebhookSubscription
    from recyclers.models import Organization, OrganizationRole

    partner = built["partners"][BIG]
    codes = list(  # among the lots the timed writes use, not those the reads show
        LotVisibility.objects.filter(organization_id=partner)
        .order_by("lot_id")
        .values_list("lot__code", flat=True)[:20]
    )
    body = {"events": [{"lot": code, "action": "weigh", "mass_kg": "9.999"} for code in codes]}
    counts = []
    with CaptureQueriesContext(connection) as captured:
        status, _ = call("POST", "/api/v1/events/", built["keys"][BIG], body)
    assert status == 201, status
    counts.append(len(captured))
    others = [
        Organization.objects.get(pk=pk) for slug, pk in built["partners"].items() if slug != BIG
    ]
    others.append(Organization.objects.get(slug="source"))
    for n, role in enumerate(
        ["operator", "auditor", "recycler", "recycler", "recycler", "recycler"]
    ):
        made, _ = Organization.objects.get_or_create(
            slug=f"subscriber-{n}", defaults={"name": f"S{n}", "country": "US"}
        )
        made.roles.set(OrganizationRole.objects.filter(code=role))
        others.append(made)
    for organization in others:
        WebhookSubscription.objects.get_or_create(
            organization=organization, url="http://127.0.0.1:9/h"
        )
    assert WebhookSubscription.objects.values("organization").distinct().count() == 10
    with CaptureQueriesContext(connection) as captured:
        status, _ = call("POST", "/api/v1/events/", built["keys"][BIG], body)
    assert status == 201, status
    counts.append(len(captured))
    # Back to the one subscriber the ledger was built with, for the rounds after this one.
    WebhookSubscription.objects.exclude(organization_id=partner).delete()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", default="10000:2000", help="events:lots")
    parser.add_argument("--large", default="1000000:200000", help="events:lots")
    parser.add_argument("--rounds", type=int, default=3, help="measuring rounds per ledger")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per request a round")
    parser.add_argument("--keep", action="store_true", help="Reuse ledgers built before.")
    parser.add_argument("--database-prefix", default="bench_growth")
    parser.add_argument("--child-build", help=argparse.SUPPRESS)
    parser.add_argument("--child-measure", help=argparse.SUPPRESS)
    parser.add_argument("--statements", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_build:
        events, lots = map(int, args.child_build.split(":"))
        database = f"{args.database_prefix}_{events}"
        print(json.dumps(prepare(events, lots, database, args.keep)))
        return
    if args.child_measure:
        database = f"{args.database_prefix}_{args.child_measure.split(':')[0]}"
        print(json.dumps(measure(database, args.repeat, args.statements)))
        return
    scales = (args.small, args.large)
    built = {scale: child(args, "--child-build", scale) for scale in scales}
    samples = {scale: {} for scale in scales}
    statements = None
    # The ledgers take turns, each round in a fresh process: a change in the machine's load
    # during the run falls on both alike.
    for round_ in range(args.rounds):
        for scale in scales:
            last = scale == args.small and round_ == args.rounds - 1
            measured = child(args, "--child-measure", scale, ["--statements"] if last else [])
            for name, spent in measured["ms"].items():
                samples[scale].setdefault(name, []).extend(spent)
            statements = measured["statements"] or statements
    report(built, samples, statements, args)


def child(args, mode: str, scale: str, extra: list[str] = ()) -> dict:
    """Run a child (one Django per database) and read the JSON it prints last."""
    output = subprocess.run(
        [sys.executable, __file__, mode, scale, "--repeat", str(args.repeat)]
        + ["--database-prefix", args.database_prefix]
        + (["--keep"] if args.keep else [])
        + list(extra),
        capture_output=True,
        text=True,
        env=os.environ
        | {"ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0", "DB_CONN_MAX_AGE": "3600"}
        | {"API_THROTTLE_RATE": "1000000/min"}
        # A broker nobody reads: the request publishes its webhooks and verdict refresh,
        # as in production, rather than running them in process.
        | {"REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")},
    )
    if output.returncode:
        sys.exit(f"the {scale} ledger failed ({mode}):\n{output.stderr}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def report(built: dict, samples: dict, statements: list[int], args) -> None:
    small, large = (samples[args.small], samples[args.large])
    names = [f"{int(scale.split(':')[0]):,} events" for scale in (args.small, args.large)]
    seconds = [built[scale]["build_seconds"] for scale in (args.small, args.large)]
    print(f"built (or kept) and vacuumed in {seconds[0]:.0f} s and {seconds[1]:.0f} s")
    print(f"medians of {args.rounds} rounds x {args.repeat} runs, the ledgers taking turns")
    print(f"| request | partner | {names[0]} | {names[1]} | growth |")
    print("|---|---|---:|---:|---:|")
    ratios = {}
    for name in small:
        label, partner = name.split("|")
        at_small, at_large = statistics.median(small[name]), statistics.median(large[name])
        ratios[name] = at_large / at_small
        share = "25 %" if partner == BIG else "0.5 %"
        print(
            f"| {label} | {share} | {at_small:.1f} ms | {at_large:.1f} ms | x{ratios[name]:.2f} |"
        )
    unequal = {f"{label}|{SMALL}" for label in UNEQUAL_FOR_SMALL}
    for title, chosen in (
        ("every request", ratios),
        ("every request asking the same work of both ledgers", set(ratios) - unequal),
    ):
        worst = max(ratios[name] for name in chosen)
        verdict = "PASS" if worst <= TARGET_RATIO else "FAIL"
        print(f"worst ratio, {title}: x{worst:.2f} (target <= {TARGET_RATIO}): {verdict}")
    first = max(statistics.median(large[f"lot list, first page|{p}"]) for p in (BIG, SMALL))
    print(
        f"lot list first page at {names[1]}: {first:.1f} ms (target < {TARGET_FIRST_PAGE_MS}):"
        f" {'PASS' if first < TARGET_FIRST_PAGE_MS else 'FAIL'}"
    )
    one, ten = statements
    print(
        f"batch of 20: {one} statements with 1 subscribing organization, {ten} with 10: "
        f"{'PASS' if one == ten else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
