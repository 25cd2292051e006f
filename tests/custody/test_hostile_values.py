"""Values no entry point may pass to the services: mass text that only Decimal() reads, counts
beyond their column, times whose UTC value does not exist, objects nested a thousand deep,
manifests too large to digest within a request. Each is a DomainError naming the field, and
nothing is written."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from custody import hashing, services
from custody.errors import DomainError
from custody.services import Consume, Produce, pickups
from custody.services.validation import MAX_DEPTH, MAX_ITEM_COUNT, clean_mass

from ..conftest import drive_manifest, refused
from .genealogy_builders import lot_at_plant

ONE_HOUR_EAST = timezone(timedelta(hours=1))
ONE_HOUR_WEST = timezone(timedelta(hours=-1))


def nested(depth: int, leaf=1):
    """``{"a": {"a": ... leaf}}``, ``depth`` objects deep, built without recursion."""
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    "text", ["1_000", "\u0661\u0662", "\uff11", "+1", " 1", "1 ", "1e3", "1E3", "0x10", ".5", "1."]
)
def test_a_mass_as_text_is_digits_and_a_point_and_nothing_else(text):
    with pytest.raises(DomainError) as caught:
        clean_mass(text)
    assert (caught.value.code, caught.value.field) == ("invalid_mass", "mass_kg")


@pytest.mark.parametrize(
    ("value", "mass"),
    [("1250.5", "1250.5"), ("0.001", "0.001"), (12, "12"), (Decimal("1E+3"), "1000")],
)
def test_plain_masses_decimals_and_integers_still_pass(value, mass):
    assert clean_mass(value) == Decimal(mass)


def test_a_negative_mass_as_text_is_still_a_negative_mass():
    with pytest.raises(DomainError) as caught:
        clean_mass("-1")
    assert caught.value.code == "negative_mass"


def test_a_pickup_counts_no_more_items_than_the_column_holds(chain):
    pickup = {
        "actor": chain.actor(chain.source),
        "facility": chain.data_center,
        "material": "hdd",
        "mass_kg": Decimal("2"),
        "assets": drive_manifest(1),
    }
    with refused("invalid_item_count", "item_count"):
        services.register_pickup(**pickup, item_count=MAX_ITEM_COUNT + 1)
    assert services.register_pickup(**pickup, item_count=MAX_ITEM_COUNT).item_count == 2**31 - 1


def test_a_transformation_output_counts_no_more_items_than_the_column_holds(chain):
    drives = lot_at_plant(chain, "10")
    with refused("invalid_item_count", "outputs[0].item_count"):
        services.process_lots(
            actor=chain.actor(chain.recycler),
            inputs=[Consume(drives)],
            outputs=[Produce("shredded_hdd", Decimal("10"), item_count=2**31)],
        )


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=ONE_HOUR_EAST),  # year 0 in UTC
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=ONE_HOUR_WEST),  # year 10000 in UTC
    ],
)
def test_a_time_whose_utc_value_overflows_is_refused(chain, pickup, moment):
    with refused("time_out_of_range", "occurred_at"):
        services.weigh_lot(
            actor=chain.actor(chain.source), lot=pickup, mass_kg=Decimal(2), occurred_at=moment
        )
    line = services.AssetLine(category="hdd_3_5", serial="X", sanitized_at=moment)
    with refused("time_out_of_range", "assets[0].sanitized_at"):
        services.register_pickup(
            actor=chain.actor(chain.source),
            facility=chain.data_center,
            material="hdd",
            mass_kg=Decimal(1),
            assets=[line],
        )


def test_corrections_nested_deeper_than_the_limit_are_refused_without_recursing(chain, pickup):
    wrong = pickup.events.get()
    correct = {"actor": chain.actor(chain.source), "lot": pickup, "corrects": wrong.uuid}
    for depth in (MAX_DEPTH + 1, 100_000):
        with refused("too_deep", "corrections"):
            services.correct_event(**correct, reason="typo", corrections=nested(depth))
    # Within the limit, the nesting passes: the field it names is then judged (and a registered
    # event has no field "a").
    with refused("unknown_correction_field", "corrections.a"):
        services.correct_event(**correct, reason="typo", corrections=nested(MAX_DEPTH))


def test_the_ledger_refuses_to_hash_values_nested_deeper_than_it_can_serialize():
    assert hashing.ledger_json(nested(hashing.MAX_NESTING)) == nested(hashing.MAX_NESTING)
    with pytest.raises(hashing.NotCanonical, match="nested deeper"):
        hashing.ledger_json(nested(5000))
    with pytest.raises(hashing.NotCanonical, match="nested deeper"):
        hashing.ledger_json({"list": [[[]]] * 2 + [nested(hashing.MAX_NESTING)]})


def test_a_manifest_holds_no_more_lines_than_an_amendment_can_digest(chain, monkeypatch):
    monkeypatch.setattr(pickups, "MAX_MANIFEST_LINES", 4)
    source = chain.actor(chain.source)
    with refused("manifest_too_large", "assets"):
        services.register_pickup(
            actor=source,
            facility=chain.data_center,
            material="hdd",
            mass_kg=Decimal(3),
            assets=drive_manifest(5),
        )
    lot = services.register_pickup(
        actor=source,
        facility=chain.data_center,
        material="hdd",
        mass_kg=Decimal(3),
        assets=drive_manifest(3),
    )
    more = [services.AssetLine(category="hdd_3_5", serial=f"MORE-{n}") for n in range(2)]
    with refused("manifest_too_large", "assets"):
        services.amend_manifest(actor=source, lot=lot, assets=more)
    services.amend_manifest(actor=source, lot=lot, assets=more[:1])
    assert lot.assets.count() == 4
