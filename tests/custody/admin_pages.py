"""What the admin tests share: page addresses, a lot shipped to the plant, a fresh pickup,
query counts, messages and action posts."""

from decimal import Decimal

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from custody import services
from custody.models import CustodyEvent, Lot

from ..conftest import days_ago, drive_manifest, ship

LOT_LIST = reverse("admin:custody_lot_changelist")


def lot_page(lot: Lot) -> str:
    return reverse("admin:custody_lot_change", args=[lot.pk])


def event_page(event: CustodyEvent, view: str = "change") -> str:
    return reverse(f"admin:custody_custodyevent_{view}", args=[event.pk])


def ship_to_plant(chain, lot: Lot, *, seals_intact: bool = False) -> Lot:
    """The pickup shipped to the recycler's plant under two seals, one cut on arrival."""
    return ship(
        chain,
        lot,
        measured_kg=Decimal("1.990"),
        seals_intact=seals_intact,
        received_note="one seal cut",
        carrier=chain.carrier,
        seal_numbers=["S-1001", "S-1002"],
        dispatched_at=days_ago(19),
        received_at=days_ago(18),
    )


def new_pickup(chain, serial_base: int = 0) -> Lot:
    lines = drive_manifest(3)
    return services.register_pickup(
        actor=chain.actor(chain.source),
        facility=chain.data_center,
        material="hdd",
        mass_kg=Decimal("2.010"),
        assets=lines,
        occurred_at=days_ago(20),
        external_ref=f"RMA-{serial_base}",
    )


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def message_texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def action_post(action: str, lots, *, reason: str | None = None) -> dict:
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(lot.pk) for lot in lots]}
    if reason is not None:
        data.update({"apply": "1", "reason": reason})
    else:
        data["index"] = "0"
    return data
