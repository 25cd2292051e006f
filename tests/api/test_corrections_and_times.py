"""Through the API: a correction names only fields its event may change, and every time the API
accepts is stored and hashed so that the ledger verifies."""

from datetime import UTC, datetime

import pytest

from custody.models import CustodyEvent, Lot
from custody.selectors.verification import verify_ledger

from ..conftest import ship
from .test_hostile_input import problem_at
from .test_write_api import keyed, pickup_body, post

ITEMS = "/api/v1/lots/"
UNSANITIZED = [{"category": "hdd_3_5"}]


class TestCorrections:
    def test_a_manifest_through_a_correction_is_a_problem_pointing_at_the_manifest_endpoint(
        self, chain, pickup
    ):
        lot = ship(chain, pickup)
        source = keyed(chain.source)
        body = {
            "corrects": str(lot.events.get(seq=1).uuid),
            "reason": "All drives were wiped",
            "corrections": {"manifest": {"drives": {"hdd_3_5": 900}, "unsanitized_drives": 0}},
        }
        alone = post(source, f"{ITEMS}{lot.code}/correct/", body)
        problem = problem_at(alone, 422, "corrections.manifest", "manifest_amendment_only")
        assert f"/api/v1/lots/{lot.code}/manifest/" in problem["detail"]
        item = {**body, "lot": lot.code, "action": "correct"}
        batch = post(source, "/api/v1/events/", {"events": [item]})
        problem_at(batch, 422, "events[0].corrections.manifest", "manifest_amendment_only")
        assert lot.events.count() == 3

    def test_unknown_and_fixed_fields_are_problems_naming_them(self, chain, pickup):
        source = keyed(chain.source)
        url = f"{ITEMS}{pickup.code}/correct/"
        wrong = str(pickup.events.get().uuid)
        unknown = post(source, url, {"corrects": wrong, "reason": "r", "corrections": {"x": 1}})
        problem_at(unknown, 422, "corrections.x", "unknown_correction_field")
        fixed = {"corrects": wrong, "reason": "r", "corrections": {"material": "ssd"}}
        problem_at(post(source, url, fixed), 422, "corrections.material", "field_not_correctable")
        ancient = {"occurred_at": "0999-06-01T12:00Z"}
        old = {"corrects": wrong, "reason": "r", "corrections": ancient}
        problem_at(post(source, url, old), 422, "corrections.occurred_at", "time_out_of_range")
        assert pickup.events.count() == 1

    def test_a_checked_correction_is_recorded(self, chain, pickup):
        lot = ship(chain, pickup, seals_intact=False)
        receipt = lot.events.get(kind="received")
        body = {
            "corrects": str(receipt.uuid),
            "reason": "The photo shows both seals intact",
            "corrections": {"seals_intact": True, "note": "seals checked"},
        }
        response = post(keyed(chain.recycler), f"{ITEMS}{lot.code}/correct/", body)
        assert response.status_code == 201, response.json()
        corrected = lot.events.get(kind="corrected")
        assert corrected.details["corrections"] == {"seals_intact": True, "note": "seals checked"}


class TestTimes:
    def test_the_year_999_is_below_the_floor(self, chain, pickup):
        source = keyed(chain.source)
        created = post(source, ITEMS, pickup_body(chain, occurred_at="0999-06-01T12:00:00Z"))
        problem_at(created, 422, "occurred_at", "time_out_of_range")
        weighed = post(
            source,
            f"{ITEMS}{pickup.code}/weigh/",
            {"mass_kg": "2", "occurred_at": "1999-12-31T23:59:59.999999Z"},
        )
        problem_at(weighed, 422, "occurred_at", "time_out_of_range")
        assert CustodyEvent.objects.count() == 1

    @pytest.mark.parametrize(
        ("sent", "stored"),
        [
            ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
            ("0999-06-01T12:00:00+00:00", datetime(999, 6, 1, 12, tzinfo=UTC)),
            ("2026-11-01T09:30:00+05:30", datetime(2026, 11, 1, 4, tzinfo=UTC)),
            ("2026-11-01T09:30:00.1234567Z", datetime(2026, 11, 1, 9, 30, 0, 123456, tzinfo=UTC)),
            ("2026-11-01T09:30:00.5-00:00", datetime(2026, 11, 1, 9, 30, 0, 500000, tzinfo=UTC)),
        ],
    )
    def test_every_accepted_time_round_trips_and_verifies(self, chain, settings, sent, stored):
        settings.CUSTODY = {**settings.CUSTODY, "OCCURRED_AT_FLOOR": datetime(1, 1, 1, tzinfo=UTC)}
        body = pickup_body(chain, occurred_at=sent, assets=UNSANITIZED)
        created = post(keyed(chain.source), ITEMS, body)
        assert created.status_code == 201, created.json()
        lot = Lot.objects.get(code=created.json()["code"])
        assert lot.events.get().occurred_at == stored
        report = verify_ledger()
        assert report.ok, [str(broken) for broken in report.broken]

    @pytest.mark.parametrize(
        ("sent", "status", "code"),
        [
            ("2026-06-30T23:59:60Z", 400, "invalid"),
            ("9999-12-31T23:59:59Z", 422, "time_in_future"),
            ("2026-11-01T09:30:00", 400, "naive_time"),
        ],
    )
    def test_times_the_ledger_cannot_take_are_problems(self, chain, sent, status, code):
        body = pickup_body(chain, occurred_at=sent, assets=UNSANITIZED)
        problem_at(post(keyed(chain.source), ITEMS, body), status, "occurred_at", code)
        assert not Lot.objects.exists()
