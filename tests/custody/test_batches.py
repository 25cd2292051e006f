"""Property: a batch does what the same actions one at a time do, or, if one of them is
refused, refuses with that action's error, named by its index, and writes nothing."""

from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from custody import services
from custody.errors import DomainError
from custody.models import Lot
from custody.projection import projection_drift
from custody.selectors.verification import verify_ledger
from custody.services.transaction import ledger_write

from ..conftest import drive_manifest
from .genealogy_builders import lot_at_plant

# Mostly moves that can succeed, some that cannot (bad input, or a state that forbids them).
ACTIONS = st.sampled_from(
    [
        ("weigh", "1.5"),
        ("weigh", "2.25"),
        ("weigh", "3.5"),
        ("weigh", "0"),
        ("weigh", "-1"),
        ("quarantine", "seal torn"),
        ("quarantine", ""),
        ("release", "resealed"),
        ("dispatch", "plant"),
        ("dispose", "shredded"),
    ]
)
# What each action's value is to its service.
ARGUMENTS = {
    "weigh": lambda value, chain: {"mass_kg": Decimal(value)},
    "quarantine": lambda value, chain: {"reason": value},
    "release": lambda value, chain: {"reason": value},
    "dispatch": lambda value, chain: {"destination": chain.plant},
    "dispose": lambda value, chain: {"method": value},
}
# Fields that differ between two runs of the same actions: times, uuids and the hashes over them.
UNSTABLE = {"head_hash", "last_occurred_at", "quarantine", "dispatch"}


def two_lots(chain) -> list[Lot]:
    actor = chain.actor(chain.source)
    return [
        services.register_pickup(
            actor=actor,
            facility=chain.data_center,
            material="hdd",
            mass_kg=Decimal("2"),
            assets=drive_manifest(1),
        )
        for _ in range(2)
    ]


def state(lot: Lot) -> dict:
    lot.refresh_from_db()
    events = [
        (event.kind, event.mass_kg, {k: v for k, v in event.details.items() if k not in UNSTABLE})
        for event in lot.events.filter(seq__gt=1).order_by("seq")  # after the pickup
    ]
    fields = ("status", "custodian_id", "destination_id", "quarantined", "mass_kg", "head_seq")
    return {"events": events, **{name: getattr(lot, name) for name in fields}}


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(st.tuples(st.integers(0, 1), ACTIONS), min_size=1, max_size=8))
def test_a_batch_does_what_its_actions_one_at_a_time_do(chain, steps):
    actor = chain.actor(chain.source)
    one_by_one, batched = two_lots(chain), two_lots(chain)
    first_refusal = None
    for index, (which, (name, value)) in enumerate(steps):
        service = services.LOT_ACTIONS[name]
        try:
            service(actor=actor, lot=one_by_one[which], **ARGUMENTS[name](value, chain))
        except DomainError as error:
            first_refusal = first_refusal or (index, error.code)
    actions = [
        services.LotAction(batched[which], name, ARGUMENTS[name](value, chain))
        for which, (name, value) in steps
    ]
    before = [state(lot) for lot in batched]
    try:
        services.record_batch(actor=actor, actions=actions)
    except DomainError as error:
        event(f"refused: {error.code}")
        index, code = first_refusal
        assert error.code == code
        assert error.field.startswith(f"events[{index}]")
        assert [state(lot) for lot in batched] == before
    else:
        event("recorded")
        assert first_refusal is None
        assert [state(lot) for lot in batched] == [state(lot) for lot in one_by_one]
        for lot in batched:
            assert projection_drift(lot, lot.events.order_by("seq")) == {}
    assert verify_ledger().broken == []


def test_services_joined_in_one_transaction_see_what_each_other_appended(chain):
    """A transformation or a correction inside a larger ledger transaction starts from the
    lots as the earlier services left them, pending events included."""
    drives = lot_at_plant(chain, "10.000")
    actor = chain.actor(chain.recycler)

    @ledger_write
    def weigh_correct_and_split():
        weighed = services.weigh_lot(actor=actor, lot=drives, mass_kg=Decimal("9.000"))
        services.correct_event(
            actor=actor,
            lot=drives,
            corrects=weighed,
            reason="scale drift",
            mass_kg=Decimal("9.500"),
        )
        return services.split_lot(actor=actor, lot=drives, masses=[Decimal("5"), Decimal("4.5")])

    weigh_correct_and_split()
    drives.refresh_from_db()
    assert [e.kind for e in drives.events.order_by("seq")][-3:] == [
        "weighed",
        "corrected",
        "transformed",
    ]
    assert drives.events.get(kind="corrected").corrects.kind == "weighed"
    assert (drives.status, drives.mass_kg) == ("consumed", Decimal("0"))
    assert projection_drift(drives, drives.events.order_by("seq")) == {}
    assert verify_ledger().broken == []
