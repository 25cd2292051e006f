"""Every time the ledger accepts hashes to the same bytes in the writer and in every verifier:
four-digit years, six fraction digits, UTC. Hashes written before stay valid."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custody import services
from custody.hashing import content_hash, event_content, format_time, hash_event, ledger_json
from custody.models import CustodyEvent
from custody.selectors.verification import POSTGRES_TIME, verify_ledger

from ..conftest import refused

YEAR_ONE = datetime(1, 1, 1, tzinfo=UTC)


def old_format_time(moment: datetime) -> str:
    """``format_time`` before four-digit years: strftime's %Y, "999" for the year 999."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@given(st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(UTC)))
def test_times_from_the_year_1000_format_as_they_always_did(moment):
    assert format_time(moment) == old_format_time(moment)


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(999, 6, 1, 12, tzinfo=UTC), "0999-06-01T12:00:00.000000Z"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00.000000Z"),
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999999Z"),
        (
            datetime(2026, 1, 1, 5, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            "2026-01-01T00:00:00.000000Z",
        ),
    ],
)
def test_a_time_has_four_year_digits_and_six_fraction_digits(moment, text):
    assert format_time(moment) == text


def test_a_hash_computed_before_four_digit_years_is_unchanged():
    """The hash below was computed by the ledger's code before this change."""
    content = event_content(
        uuid="5f0c9a52-8a8e-4c1e-9a57-0c1a2b3c4d5e",
        lot_code="LOT-2026-000042",
        seq=2,
        kind="dispatched",
        occurred_at=datetime(2026, 11, 27, 16, 55, 2, tzinfo=UTC),
        recorded_at=datetime(2026, 11, 27, 17, 55, 2, 123456, tzinfo=timezone(timedelta(hours=1))),
        actor_organization_id=3,
        actor_user_id=None,
        actor_api_key="k3y",
        facility_id=7,
        counterparty_facility_id=9,
        mass_kg=Decimal("1250.5"),
        details=ledger_json(
            {
                "carrier": "carrier",
                "seal_numbers": ["S-1"],
                "note": "ü",
                "sanitized": datetime(1999, 1, 1, tzinfo=UTC),
            }
        ),
        evidence=["ab" * 32],
        corrects_uuid=None,
        prev_hash="cd" * 32,
    )
    assert content_hash(content) == (
        "0bd578473ed5a3b75f7b96eaccdc5b2437eb533f3c723bc742071b047c1f6cc3"
    )


@pytest.fixture
def floor_at_year_one(settings):
    settings.CUSTODY = {**settings.CUSTODY, "OCCURRED_AT_FLOOR": YEAR_ONE}


def register_at(chain, moment: datetime):
    return services.register_pickup(
        actor=chain.actor(chain.source),
        facility=chain.data_center,
        material="hdd",
        mass_kg=Decimal("1"),
        assets=[services.AssetLine(category="hdd_3_5")],
        occurred_at=moment,
    )


def test_a_time_before_the_floor_is_refused(chain):
    with refused("time_out_of_range", "occurred_at"):
        register_at(chain, datetime(999, 6, 1, 12, tzinfo=UTC))
    with refused("time_out_of_range", "occurred_at"):
        register_at(chain, datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    assert register_at(chain, datetime(2000, 1, 1, tzinfo=UTC)).events.count() == 1


def test_the_year_999_verifies_clean_when_the_floor_allows_it(chain, floor_at_year_one):
    lot = register_at(chain, datetime(999, 6, 1, 12, tzinfo=UTC))
    services.weigh_lot(actor=chain.actor(chain.source), lot=lot, mass_kg=Decimal("1.5"))
    report = verify_ledger()
    assert report.ok, [str(broken) for broken in report.broken]
    assert lot.events.get(seq=1).occurred_at == datetime(999, 6, 1, 12, tzinfo=UTC)


offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(2026, 1, 1), timezones=offsets
    )
)
def test_every_accepted_time_hashes_the_same_in_the_writer_and_the_verifier(
    chain, floor_at_year_one, moment
):
    lot = register_at(chain, moment)
    event = CustodyEvent.objects.select_related("lot").get(lot=lot)
    assert event.occurred_at == moment
    assert hash_event(event) == event.hash
    report = verify_ledger([lot.code])
    assert report.ok, [str(broken) for broken in report.broken]


@pytest.mark.postgres
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets
    )
)
def test_postgresql_formats_every_time_as_the_writer_does(db, moment):
    """The verifier reads times formatted by PostgreSQL: the same text, years 1 to 9999."""
    with connection.cursor() as cursor:
        # In UTC, as the ledger stores it (PostgreSQL refuses offsets past 15:59).
        cursor.execute(
            f"SELECT {POSTGRES_TIME.format('%s::timestamptz')}", [moment.astimezone(UTC)]
        )
        assert cursor.fetchone()[0] == format_time(moment)
