"""Manifests of thousands of drives arrive as CSV after the pickup was registered."""

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from custody import services
from custody.api import csv_manifest
from custody.api.csv_manifest import COLUMNS, plain_line
from custody.api.inputs import AssetLineInput
from custody.selectors.verdicts import assess

from .test_write_api import keyed

HEADER = "category,make,model,serial,sanitization_method,sanitized_at\n"


def csv_rows(count: int, start: int = 0, wiped: bool = True) -> str:
    method, when = ("purge", "2026-11-01T08:00:00Z") if wiped else ("", "")
    return HEADER + "".join(
        f"hdd_3_5,Seagate,Exos X18,CSV-{n:05d},{method},{when}\n"
        for n in range(start, start + count)
    )


def upload(client, lot, text, key=None):
    return client.post(
        f"/api/v1/lots/{lot.code}/manifest/",
        text,
        content_type="text/csv",
        HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()),
    )


def test_a_csv_of_thousands_of_drives_extends_the_manifest_and_the_verdict_counts_them(
    chain, pickup
):
    response = upload(keyed(chain.source), pickup, csv_rows(2000))
    assert response.status_code == 201, response.json()
    assert pickup.assets.count() == 2003
    assert list(pickup.assets.order_by("-line_no").values_list("line_no", "serial")[:1]) == [
        (2003, "CSV-01999")
    ]
    event = response.json()["event"]
    assert event["kind"] == "corrected"
    assert event["details"]["corrections"]["manifest"]["drives"] == {"hdd_3_5": 2003}
    assert assess(pickup).outcome == "verified"


def test_unwiped_drives_in_the_file_show_in_the_verdict(chain, pickup):
    assert upload(keyed(chain.source), pickup, csv_rows(5, wiped=False)).status_code == 201
    verdict = assess(pickup)
    assert [f.code for f in verdict.findings] == ["unsanitized_media"]
    assert "5 of the 8 drives" in verdict.findings[0].message


def test_bad_files_and_closed_manifests_are_refused(chain, pickup):
    source = keyed(chain.source)
    bad = upload(source, pickup, HEADER + "toaster,,,X1,,\n")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "rows[0].category"
    assert upload(source, pickup, "colour\nred\n").status_code == 400
    twin = upload(source, pickup, csv_rows(1) + "hdd_3_5,,,ZR000000,purge,2026-11-01T08:00:00Z\n")
    assert (twin.status_code, twin.json()["code"]) == (422, "duplicate_serial")
    assert pickup.assets.count() == 3
    services.dispatch_lot(actor=chain.actor(chain.source), lot=pickup, destination=chain.plant)
    late = upload(source, pickup, csv_rows(1))
    assert (late.status_code, late.json()["code"]) == (409, "lot_left_source")
    stranger = upload(keyed(chain.trader), pickup, csv_rows(1))
    assert stranger.status_code == 404


ROW = "hdd_3_5,Seagate,Exos X18,CSV-1,purge,2026-11-01T08:00:00Z"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ((HEADER + ROW + "\n").replace("\n", "\r").encode(), "csv", "line_endings"),
        ((HEADER + ROW + "\r\nhdd_3_5\r,,,X,,\r\n").encode(), "csv", "line_endings"),
        (
            (HEADER + ROW.replace("Seagate", "S" * 200_000) + "\n").encode(),
            "rows[0]",
            "malformed_csv",
        ),
        ((HEADER + ROW + "\n" + 'hdd_3_5,"Sea,X,CSV-2,,\n').encode(), "rows[1]", "malformed_csv"),
        ((HEADER + 'hdd_3_5,"Sea"gate,X,CSV-2,,\n').encode(), "rows[0]", "malformed_csv"),
        (
            (HEADER + ROW.replace("Seagate", "Seag\u00e4te") + "\n").encode("latin-1"),
            "csv",
            "not_utf8",
        ),
        ((HEADER + ROW + ",extra\n").encode(), "rows[0]", "extra_cells"),
        (b"category,serial,serial\nhdd_3_5,A,B\n", "csv", "duplicate_columns"),
        ((HEADER + ",Seagate,X,CSV-9,,\n").encode(), "rows[0].category", "required"),
        ((HEADER + "hdd_3_5,,,CSV-9,purge, \n").encode(), "rows[0].sanitized_at", "invalid"),
        ((HEADER + ROW.replace("Exos X18", "\u0000") + "\n").encode(), "rows[0].model", None),
        ((HEADER + ROW + "\n").replace("hdd_3_5,", "hdd_3_5,,", 1).encode(), "rows[0]", None),
    ],
)
def test_files_the_csv_module_would_misread_are_a_400_naming_the_row(
    chain, pickup, body, field, code
):
    response = upload(keyed(chain.source), pickup, body)
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert field in [error["field"] for error in errors], errors
    if code is not None:
        assert code in [error["code"] for error in errors], errors
    assert pickup.assets.count() == 3


def test_crlf_line_endings_quoted_commas_and_a_byte_order_mark_are_read(chain, pickup):
    body = "\ufeff" + (HEADER + ROW + "\n" + 'hdd_3_5,"Seagate, Inc.",,CSV-2,,\n').replace(
        "\n", "\r\n"
    )
    response = upload(keyed(chain.source), pickup, body.encode())
    assert response.status_code == 201, response.json()
    assert list(pickup.assets.order_by("line_no").values_list("make", flat=True)[3:]) == [
        "Seagate",
        "Seagate, Inc.",
    ]


def test_more_rows_than_one_upload_may_carry_are_refused(chain, pickup, monkeypatch):
    monkeypatch.setattr(csv_manifest, "MAX_ROWS", 3)
    response = upload(keyed(chain.source), pickup, csv_rows(4))
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "too_many_rows"
    assert upload(keyed(chain.source), pickup, csv_rows(3)).status_code == 201


CELLS = st.one_of(
    st.sampled_from(
        [
            *("hdd_3_5", "ssd", "server", "purge", "clear", "toaster", " hdd_3_5", "a\x00b"),
            *("0.670", "1", "00012", "1.2345", "-1", "1e3", "1_0", "\u0661", "123456789012.5"),
            *("2026-01-01T08:00:00Z", "2026-01-01T08:00:00", "2026-01-01 08:00:00+01:00"),
            *("2026-01-01T08:00:00+0100", "0001-01-01T00:00:00+01:00", "Seagate "),
            *("9999-12-31T23:59:59-01:00", "2026-02-30T08:00:00Z", "20260101T080000Z"),
            *("2026-01-01T08:00:00.123456789+00:00", ".", " ", "Z", "+1:"),
        ]
    ),
    st.text(max_size=210),
    st.from_regex(r"[0-9]{1,12}(\.[0-9]{0,4})?", fullmatch=True),
)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.sampled_from(COLUMNS), CELLS.filter(bool), min_size=1))
def test_the_plain_row_reading_agrees_with_the_input_serializer(values):
    """A plain row is read as AssetLineInput reads it, value for value; any other row is left
    to AssetLineInput."""
    fast = plain_line(values)
    try:
        slow = services.AssetLine(**AssetLineInput().run_validation(values))
    except ValidationError:
        slow = None
    assert fast is None or repr(fast) == repr(slow)


def test_the_rows_a_partner_sends_take_the_plain_reading():
    row = dict(
        zip(COLUMNS, ["hdd_3_5", "Seagate", "Exos X18", "ZR1", "0.67", "purge"], strict=False)
    )
    assert plain_line({**row, "sanitized_at": "2026-01-01T08:00:00+01:00"}) is not None
