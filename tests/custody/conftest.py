from decimal import Decimal

import pytest

from custody import services
from custody.services import Consume, Produce

from .genealogy_builders import lot_at_plant, output_of, outputs_of, second_data_center


@pytest.fixture
def diamond(chain):
    """P1 (10 kg, DC Ashburn) is split into S1 (6 kg) and S2 (4 kg). S1 and P2 (4 kg, DC Columbus)
    are processed into M (5 kg). M and S2 are processed into F (4.5 kg). P1 reaches F by two
    paths: through S1 and M, and through S2."""
    actor = chain.actor(chain.recycler)
    p1 = lot_at_plant(chain, "10.000", serial_prefix="P1")
    p2 = lot_at_plant(chain, "4.000", data_center=second_data_center(chain), serial_prefix="P2")
    s1, s2 = outputs_of(services.split_lot(actor=actor, lot=p1, masses=[Decimal(6), Decimal(4)]))
    m = output_of(
        services.process_lots(
            actor=actor,
            inputs=[Consume(s1), Consume(p2)],
            outputs=[Produce("shredded_hdd", Decimal(5))],
        )
    )
    f = output_of(
        services.process_lots(
            actor=actor,
            inputs=[Consume(m), Consume(s2)],
            outputs=[Produce("ndfeb_magnets", Decimal("4.500"))],
        )
    )
    return {"p1": p1, "p2": p2, "s1": s1, "s2": s2, "m": m, "f": f}


@pytest.fixture
def delivered(chain, diamond):
    """The diamond's final lot F, delivered to the buyer, who never held the lots upstream."""
    lot = diamond["f"]
    services.deliver_lot(
        actor=chain.actor(chain.recycler), lot=lot, buyer_facility=chain.buyer_plant
    )
    lot.refresh_from_db()
    return lot
