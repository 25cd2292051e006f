"""The certificate PDF a buyer files: a reader (and a text extractor) finds the verdict, the lot,
every data center, every finding and the ledger's fingerprint in it; hostile names stay text;
a ten-thousand-lot batch stays a short document; the same certificate gives the same bytes."""

import io
from functools import cache

import pytest
from pypdf import PdfReader
from reportlab.graphics.shapes import String

from custody.certificate_pdf import WIDTH, render_certificate
from custody.findings import FindingCode
from custody.genealogy_picture import genealogy_picture, is_summarized
from custody.mass_balance_summary import MASS_BALANCE_ROWS

from .certificate_documents import (
    CERTIFICATE_ID,
    ROOT_HASH,
    big_document,
    certificate_document,
    mass_step,
)

HOSTILE = "<b>&\"'"


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@cache
def big_pdf() -> bytes:
    return render_certificate(big_document())


def test_a_reader_finds_the_verdict_the_lot_each_data_center_and_each_finding():
    document = certificate_document()
    text = "\n".join(pages_text(render_certificate(document)))
    assert "Verified domestic origin" in text
    assert "dfars-domestic@3" in text
    assert "BATCH-0042" in text
    assert "Acme Magnets" in text
    for center in document["contributions"]:
        assert center["data_center"] in text
    for finding in document["findings"]:
        assert finding["code"] in text
    assert document["verify_url"] in text


def test_the_merkle_root_and_the_credential_digest_are_whole_on_one_line():
    """A reader compares a digest character by character; one cut in two cannot be compared."""
    lines = "\n".join(pages_text(render_certificate(certificate_document()))).splitlines()
    assert any(ROOT_HASH in line for line in lines)
    assert any("ab" * 32 in line for line in lines)


def test_every_page_names_the_certificate_and_counts_the_pages():
    pages = pages_text(big_pdf())
    for number, text in enumerate(pages, start=1):
        assert CERTIFICATE_ID in text
        assert f"Page {number} of {len(pages)}" in text


def test_the_document_says_what_it_is_in_its_metadata():
    metadata = PdfReader(io.BytesIO(render_certificate(certificate_document()))).metadata
    assert metadata.title == "Certificate of origin BATCH-0042"
    assert metadata.author == "Rare-earth custody ledger (ledger.example)"
    assert "Verified domestic origin" in metadata.subject
    assert CERTIFICATE_ID in metadata.subject


def test_the_same_certificate_gives_the_same_bytes():
    """The file's SHA-256 is a property of the certificate, not of the second it was drawn."""
    assert render_certificate(certificate_document()) == render_certificate(certificate_document())


def test_a_name_holding_markup_is_printed_as_text():
    document = certificate_document()
    document["lot"]["code"] = f"LOT-{HOSTILE}"
    document["lot"]["facility"] = f"Refinery {HOSTILE}"
    document["buyer"]["name"] = f"Buyer {HOSTILE}"
    document["contributions"][0]["data_center"] = f"DC {HOSTILE}"
    document["contributions"][0]["pickups"][0]["lot"] = f"SRC {HOSTILE}"
    document["route"][0]["facility"] = f"Carrier {HOSTILE}"
    document["findings"][0]["message"] = f"Message {HOSTILE} </para>"
    document["verdict"]["policy_name"] = f"Policy {HOSTILE}"
    document["verify_url"] = f"https://ledger.example/verify/{CERTIFICATE_ID}?a=1&b=\"'"
    text = "\n".join(pages_text(render_certificate(document)))
    for name in ("LOT-", "Refinery ", "Buyer ", "DC ", "Carrier ", "Policy "):
        assert f"{name}{HOSTILE}" in text
    assert "</para>" in text
    assert document["verify_url"] in text


def test_what_the_requester_may_not_know_is_a_dash_and_a_country():
    document = certificate_document()
    document["contributions"][1]["mass_kg"] = None
    text = "\n".join(pages_text(render_certificate(document)))
    assert "A facility in CA (not disclosed)" in text
    assert "\u2014 not disclosed to the requesting organization" in text


@pytest.mark.parametrize("outcome", ["unverified", "non_compliant"])
def test_every_outcome_is_printed_with_its_label(outcome):
    verdict = {**certificate_document()["verdict"], "outcome": outcome, "outcome_label": outcome}
    text = "\n".join(pages_text(render_certificate(certificate_document(verdict=verdict))))
    assert f"Outcome: {outcome}." in text


def test_a_small_genealogy_is_drawn_lot_by_lot():
    genealogy = certificate_document()["genealogy"]
    drawing = genealogy_picture(genealogy, "BATCH-0042", WIDTH, 560)
    drawn = {shape.text for shape in drawing.getContents() if isinstance(shape, String)}
    assert drawn == {node["code"] for node in genealogy["nodes"]}
    assert not is_summarized(genealogy, "BATCH-0042", WIDTH)


def test_a_ten_thousand_lot_batch_is_a_short_document_with_a_summarized_genealogy():
    document = big_document()
    assert not is_summarized(certificate_document()["genealogy"], "BATCH-0042", WIDTH)
    assert is_summarized(document["genealogy"], "BATCH-0042", WIDTH)
    pages = pages_text(big_pdf())
    text = "\n".join(pages)
    assert len(pages) < 40
    assert "10,201 upstream lots" in text
    assert "Summarized by depth" in text
    assert "10,000 lots 3 transformations upstream" in text
    for center in document["contributions"]:
        assert center["data_center"] in text
    for finding in document["findings"]:
        assert finding["lot"] in text
    assert "smaller pickups" in text
    assert ROOT_HASH in text


def test_a_genealogy_too_wide_for_the_page_is_summarized_too():
    """A chain of forty transformations is forty columns: too narrow for a lot code."""
    nodes = [{"code": f"L{d}", "material": "hdd", "depth": d, "country": "US"} for d in range(41)]
    links = [{"parent": f"L{d + 1}", "child": f"L{d}", "mass_kg": "1.000"} for d in range(40)]
    genealogy = {"nodes": nodes, "links": links}
    assert is_summarized(genealogy, "L0", WIDTH)
    drawing = genealogy_picture(genealogy, "L0", WIDTH, 560)
    assert drawing.width <= WIDTH and drawing.height <= 560
    pdf = render_certificate(certificate_document(genealogy=genealogy))
    assert "Summarized by depth" in "\n".join(pages_text(pdf))


def test_a_lot_with_two_stays_at_undisclosed_facilities_of_one_country_is_named_once():
    document = certificate_document()
    stay = {"lot": "MIX-01", "facility": None, "country": "CA", "kinds": ["weighed"]}
    document["route"] = [
        stay | {"first": "2026-10-20", "last": "2026-10-20"},
        stay | {"first": "2026-10-22", "last": "2026-10-23"},
    ]
    text = "\n".join(pages_text(render_certificate(document)))
    route = text[text.index("Route:") : text.index("Mass balance per step")]
    stop = "A facility in CA (not disclosed)\nCA\n2026-10-20\n2026-10-23\nMIX-01\nweighed"
    assert stop in route
    assert route.count("MIX-01") == 1


def test_every_finding_code_is_printed_whole_on_one_line():
    document = certificate_document()
    document["findings"] = [
        {"code": str(code), "severity": "violation", "lot": "MIX-01", "seq": 2, "message": "x"}
        for code in FindingCode
    ]
    lines = "\n".join(pages_text(render_certificate(document))).split("\n")
    assert all(str(code) in lines for code in FindingCode)


def test_ten_thousand_steps_of_mass_balance_are_summarized_by_kind_and_facility():
    """A batch of 10,000 lots passed some 11,000 steps (every shipment is one): one row each
    would be three hundred pages, laid out in minutes. Each kind at each facility is one row
    with its count and summed masses; a mass not disclosed for one step is not summed."""
    transits = [
        mass_step(
            "transit", "a facility in US -> a facility in US", [f"P{i}"], [f"P{i}"], mass=None
        )
        for i in range(9_900)
    ]
    merges = [
        mass_step("merge", "Shred & Sort (US)", [f"P{i}", f"P{i + 1}"], [f"M{i}"])
        for i in range(0, 1_000, 2)
    ]
    document = certificate_document(mass_balance=[*transits, *merges])
    pdf = render_certificate(document)
    pages = pages_text(pdf)
    text = "\n".join(pages)
    assert len(pages) < 10
    assert "10,400 steps, summarized by kind and facility" in text
    assert "9,900 \u00d7 transit" in text
    assert "500 \u00d7 merge" in text
    assert "1,000 lots \u2192 500 lots" in text
    assert "60000.000" in text  # 500 merges of 120 kg in
    assert "300.000" in text  # and 0.6 kg lost each


def test_a_mass_balance_within_the_limit_lists_every_step():
    steps = [
        mass_step("merge", "Shred & Sort (US)", [f"P{i}"], [f"M{i}"])
        for i in range(MASS_BALANCE_ROWS)
    ]
    text = "\n".join(pages_text(render_certificate(certificate_document(mass_balance=steps))))
    assert all(f"P{i} \u2192 M{i}" in text for i in range(MASS_BALANCE_ROWS))
    assert "summarized by kind and facility" not in text
