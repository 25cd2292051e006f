"""Building blocks for genealogy tests: lots at the recycler's plant, made through services."""

from decimal import Decimal

from custody import services
from custody.models import Lot
from custody.selectors.genealogy import transformation_outputs

from ..conftest import days_ago, drive_manifest, ship
from ..factories import FacilityFactory


def lot_at_plant(chain, mass: str, *, data_center=None, serial_prefix: str = "S") -> Lot:
    """A pickup at ``data_center`` (default: the chain's), shipped to and received at the plant."""
    data_center = data_center or chain.data_center
    lines = drive_manifest(2)
    lines = [
        services.AssetLine(**{**line.__dict__, "serial": f"{serial_prefix}-{index}"})
        for index, line in enumerate(lines)
    ]
    lot = services.register_pickup(
        actor=chain.actor(data_center.organization),
        facility=data_center,
        material="hdd",
        mass_kg=Decimal(mass),
        assets=lines,
        occurred_at=days_ago(30),
    )
    return ship(chain, lot, dispatched_at=days_ago(29), received_at=days_ago(28))


def second_data_center(chain):
    return FacilityFactory(
        organization=chain.source, name="DC Columbus", kind="data_center", region="OH"
    )


def refresh(*lots):
    for lot in lots:
        lot.refresh_from_db()
    return lots


def output_of(transformation) -> Lot:
    (lot,) = transformation_outputs(transformation)
    return lot


outputs_of = transformation_outputs
