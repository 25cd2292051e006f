from decimal import Decimal

import pytest

from custody import services

from ..conftest import drive_manifest


@pytest.fixture
def two_lots(chain, pickup):
    other = services.register_pickup(
        actor=chain.actor(chain.source),
        facility=chain.data_center,
        material="hdd",
        mass_kg=Decimal("5"),
        assets=drive_manifest(2),
    )
    return pickup, other
