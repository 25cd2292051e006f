"""Certificate documents (the input of ``custody.certificate_pdf``, in the issue 13 contract's
shape) without a database: a small one with every section filled, and a big one of a batch with
thousands of upstream lots, for the PDF's tests and the benchmark."""

import copy

CERTIFICATE_ID = "0b7f6a0e-7a4e-4d7e-9a57-1f1c2b3d4e5f"
ROOT_HASH = "9f2c" * 16
CHECKPOINT = (
    "ree-custody.example/ledger\n99999\nq83vEjrSf5bJoQ4R0Q7Xn0eH2G5a6s3g1wqv5u0fV8M=\n"
    "time 2026-11-29T10:30:00Z\n\n"
    "\u2014 ree-custody.example/ledger Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWGNWvP4vP8CQo=\n"
)


def certificate_document(**changes) -> dict:
    """A refined batch from two data centers, through a carrier and a separation partner, with
    one finding; ``changes`` replace top-level keys."""
    document = {
        "certificate_id": CERTIFICATE_ID,
        "issued_at": "2026-11-29T10:30:05Z",
        "verify_url": f"https://ledger.example/verify/{CERTIFICATE_ID}",
        "status": "issued",
        "lot": {
            "code": "BATCH-0042",
            "material": "NdPr oxide",
            "mass_kg": "120.500",
            "facility": "Mountain Pass refinery",
            "country": "US",
            "produced_on": "2026-11-20",
        },
        "buyer": {"name": "Acme Magnets", "country": "US"},
        "verdict": {
            "outcome": "verified",
            "outcome_label": "Verified domestic origin",
            "policy": "dfars-domestic@3",
            "policy_name": "DFARS domestic custody",
            "assessed_at": "2026-11-29T10:30:00Z",
        },
        "contributions": [
            _center("DC Ashburn", "US", 62.5, ["SRC-001", "SRC-002"]),
            _center("DC Montreal", "CA", 37.5, ["SRC-003"]),
        ],
        "genealogy": {
            "nodes": [
                *(
                    {"code": f"SRC-00{i}", "material": "hdd", "depth": 2, "country": "US"}
                    for i in (1, 2, 3)
                ),
                {"code": "MIX-01", "material": "NdFeB magnet scrap", "depth": 1, "country": "US"},
                {"code": "BATCH-0042", "material": "NdPr oxide", "depth": 0, "country": "US"},
            ],
            "links": [
                *(
                    {"parent": f"SRC-00{i}", "child": "MIX-01", "mass_kg": "40.000"}
                    for i in (1, 2, 3)
                ),
                {"parent": "MIX-01", "child": "BATCH-0042", "mass_kg": "120.500"},
            ],
        },
        "route": [
            _leg("SRC-001", "DC Ashburn", "US", "2026-10-01", ["picked_up", "dispatched"]),
            _leg("SRC-003", "DC Montreal", "CA", "2026-10-02", ["picked_up", "dispatched"]),
            _leg("SRC-001", "Blue Line Freight", "US", "2026-10-03", ["received", "dispatched"]),
            _leg("MIX-01", None, "CA", "2026-10-20", ["merged", "weighed"]),
            _leg("BATCH-0042", "Mountain Pass refinery", "US", "2026-11-20", ["processed"]),
        ],
        "mass_balance": [
            mass_step("merge", "Shred & Sort (US)", ["SRC-001", "SRC-002", "SRC-003"], ["MIX-01"]),
            mass_step("separation", "US", ["MIX-01"], ["BATCH-0042"], mass=None),
        ],
        "findings": [
            {
                "code": "retroactive_certification",
                "severity": "missing_evidence",
                "lot": "MIX-01",
                "seq": 3,
                "message": "The custodian's certification was recorded after the event.",
            }
        ],
        "ledger": {
            "upstream_root": ROOT_HASH,
            "upstream_events": 23,
            "tree_size": 99999,
            "checkpoint": CHECKPOINT,
            "log_origin": "ree-custody.example/ledger",
            "credential_sha256": "ab" * 32,
        },
    }
    return {**copy.deepcopy(document), **changes}


def big_document(lots: int = 10_000, centers: int = 50, steps: int = 200) -> dict:
    """A batch with ``lots`` pickups from ``centers`` data centers, merged in ``steps`` steps
    of a chain of transformations (so the genealogy is ``lots`` sources deep in a few levels)."""
    pickups = [f"SRC-{i:05d}" for i in range(lots)]
    contributions = [
        _center(f"Data center {c:02d}", "US", 100 / centers, pickups[c::centers])
        for c in range(centers)
    ]
    mixes = [f"MIX-{s:03d}" for s in range(steps)]
    nodes = [{"code": code, "material": "hdd", "depth": 3, "country": "US"} for code in pickups]
    nodes += [
        {"code": code, "material": "NdFeB magnet scrap", "depth": 2, "country": "CA"}
        for code in mixes
    ]
    nodes += [
        {"code": "CONC-1", "material": "mixed REE concentrate", "depth": 1, "country": "US"},
        {"code": "BATCH-0042", "material": "NdPr oxide", "depth": 0, "country": "US"},
    ]
    links = [
        {"parent": code, "child": mixes[i % steps], "mass_kg": "1.000"}
        for i, code in enumerate(pickups)
    ]
    links += [{"parent": code, "child": "CONC-1", "mass_kg": "50.000"} for code in mixes]
    links += [{"parent": "CONC-1", "child": "BATCH-0042", "mass_kg": "120.500"}]
    route = [
        _leg(code, f"Data center {i % centers:02d}", "US", "2026-10-01", ["picked_up"])
        for i, code in enumerate(pickups)
    ]
    route += [_leg(code, "Shred & Sort", "US", "2026-10-20", ["merged"]) for code in mixes]
    balance = [
        mass_step("merge", "Shred & Sort (US)", pickups[s::steps], [mixes[s]]) for s in range(steps)
    ]
    findings = [
        {
            "code": "unknown_origin",
            "severity": "missing_evidence",
            "lot": f"SRC-{i:05d}",
            "seq": 1,
            "message": "No pickup record.",
        }
        for i in range(20)
    ]
    return certificate_document(
        contributions=contributions,
        genealogy={"nodes": nodes, "links": links},
        route=route,
        mass_balance=balance,
        findings=findings,
    )


def _center(name: str, country: str, share: float, lots: list[str]) -> dict:
    each = share / len(lots)
    return {
        "data_center": name,
        "country": country,
        "share_percent": share,
        "mass_kg": f"{share * 1.205:.3f}",
        "pickups": [
            {
                "lot": code,
                "picked_up_on": "2026-10-01",
                "share_percent": each,
                "mass_kg": f"{each:.3f}",
            }
            for code in lots
        ],
    }


def _leg(lot: str, facility: str | None, country: str, day: str, kinds: list[str]) -> dict:
    return {
        "lot": lot,
        "facility": facility,
        "country": country,
        "first": day,
        "last": day,
        "kinds": kinds,
    }


def mass_step(
    kind: str, facility: str, lots_in: list[str], lots_out: list[str], mass="120.000"
) -> dict:
    return {
        "kind": kind,
        "facility": facility,
        "date": "2026-10-20",
        "lots_in": lots_in,
        "lots_out": lots_out,
        "mass_in_kg": mass,
        "mass_out_kg": "118.800" if mass else None,
        "residue_kg": "0.600" if mass else None,
        "loss_kg": "0.600" if mass else None,
        "loss_percent": 0.5 if mass else None,
    }
