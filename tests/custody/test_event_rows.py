"""The rows verification streams: one EventRow type from either source, read in field order."""

import ast
from decimal import Decimal
from pathlib import Path

from django.db import connection

from custody import services
from custody.models import CustodyEvent
from custody.selectors import verification
from custody.selectors.verification import EventRow, event_rows, verify_rows

from ..conftest import ship


def test_verify_rows_unpacks_an_event_row_into_its_field_names_in_order():
    """verify_rows reads each row with one positional unpack (named reads cost its loop a few
    percent): the names it unpacks into must be EventRow's fields, in their order."""
    tree = ast.parse(Path(verification.__file__).read_text())
    function = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "verify_rows"
    )
    unpacks = [
        [target.id for target in node.targets[0].elts]
        for node in ast.walk(function)
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Tuple)
        and isinstance(node.value, ast.Name)
        and node.value.id == "row"
    ]
    expected = [name if name != "hash" else "stored_hash" for name in EventRow._fields]
    assert unpacks == [expected]


def test_event_rows_are_named_with_the_events_fields_in_canonical_text(chain, pickup):
    ship(chain, pickup, measured_kg=Decimal("2"))
    rows = list(event_rows(lot_codes=[pickup.code]))
    assert all(type(row) is EventRow for row in rows)
    events = CustodyEvent.objects.filter(lot=pickup).order_by("seq")
    for row, event in zip(rows, events, strict=True):
        assert (row.lot_id, row.lot_code, row.seq, row.kind) == (
            pickup.pk,
            pickup.code,
            event.seq,
            event.kind,
        )
        assert (row.lot_head_seq, row.lot_head_hash) == (3, events.last().hash)
        assert row.uuid == str(event.uuid)
        assert row.details == event.details and row.evidence == event.evidence
        assert (row.prev_hash, row.hash) == (event.prev_hash, event.hash)
    assert rows[-1].mass_kg == "2.000"
    assert verify_rows(rows).ok


def test_a_correction_row_names_the_event_it_corrects(chain, pickup):
    registered = pickup.events.get()
    services.correct_event(
        actor=chain.actor(chain.source),
        lot=pickup,
        corrects=registered,
        reason="Scale recalibrated",
        mass_kg=Decimal("2.000"),
    )
    rows = list(event_rows(lot_codes=[pickup.code]))
    assert [row.corrects_uuid for row in rows] == [None, str(registered.uuid)]


def test_postgresql_and_the_orm_stream_the_same_rows(chain, pickup):
    ship(chain, pickup)
    orm = list(verification._orm_rows(None, None, (0, 1), 100))
    if connection.vendor == "postgresql":
        assert list(verification._postgres_rows(None, None, (0, 1), 100)) == orm
    assert [row.seq for row in orm] == [1, 2, 3]
