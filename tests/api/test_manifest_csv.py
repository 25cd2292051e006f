"""Manifests of thousands of drives arrive as CSV after the pickup was registered."""

import uuid

from custody import services
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
