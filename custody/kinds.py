"""The ledger's vocabulary: materials, lot statuses, asset categories, event, transformation
and residue kinds. Plain choices with no model behind them: the pure core (projection, hashing)
and the models both read them."""

from django.db import models

GENESIS_HASH = "0" * 64


class Material(models.TextChoices):
    RETIRED_SERVERS = "retired_servers", "Retired servers"
    HDD = "hdd", "Hard disk drives"
    SSD = "ssd", "Solid-state drives"
    MIXED_ESCRAP = "mixed_escrap", "Mixed e-scrap"
    SHREDDED_HDD = "shredded_hdd", "Shredded HDD"
    NDFEB_MAGNETS = "ndfeb_magnets", "NdFeB magnets"
    MAGNET_SWARF = "magnet_swarf", "Magnet swarf"
    REE_CONCENTRATE = "ree_concentrate", "REE concentrate"
    MIXED_REO = "mixed_reo", "Mixed rare-earth oxides"
    NDPR_OXIDE = "ndpr_oxide", "NdPr oxide"
    ND_OXIDE = "nd_oxide", "Nd oxide"
    PR_OXIDE = "pr_oxide", "Pr oxide"
    DY_OXIDE = "dy_oxide", "Dy oxide"
    TB_OXIDE = "tb_oxide", "Tb oxide"
    NDPR_METAL = "ndpr_metal", "NdPr metal"
    DY_METAL = "dy_metal", "Dy metal"
    TB_METAL = "tb_metal", "Tb metal"
    RESIDUE = "residue", "Residue"


SOURCE_MATERIALS = {
    Material.RETIRED_SERVERS,
    Material.HDD,
    Material.SSD,
    Material.MIXED_ESCRAP,
}


class LotStatus(models.TextChoices):
    REGISTERED = "registered", "Registered"
    IN_TRANSIT = "in_transit", "In transit"
    RECEIVED = "received", "Received"
    CONSUMED = "consumed", "Consumed"
    DELIVERED = "delivered", "Delivered"
    DISPOSED = "disposed", "Disposed"


CLOSED_STATUSES = {LotStatus.CONSUMED, LotStatus.DELIVERED, LotStatus.DISPOSED}


class AssetCategory(models.TextChoices):
    SERVER = "server", "Server"
    HDD_3_5 = "hdd_3_5", '3.5" hard disk drive'
    HDD_2_5 = "hdd_2_5", '2.5" hard disk drive'
    SSD = "ssd", "Solid-state drive"
    PSU = "psu", "Power supply"
    NETWORK = "network", "Network equipment"
    TAPE = "tape", "Tape cartridge"
    OTHER = "other", "Other"


DRIVE_CATEGORIES = {AssetCategory.HDD_3_5, AssetCategory.HDD_2_5, AssetCategory.SSD}


class SanitizationMethod(models.TextChoices):
    """NIST SP 800-88 media sanitization."""

    CLEAR = "clear", "Clear"
    PURGE = "purge", "Purge"
    DESTROY = "destroy", "Destroy"


class EventKind(models.TextChoices):
    REGISTERED = "registered", "Registered"
    DISPATCHED = "dispatched", "Dispatched"
    RECEIVED = "received", "Received"
    WEIGHED = "weighed", "Weighed"
    ASSAYED = "assayed", "Assayed"
    TRANSFORMED = "transformed", "Transformed"
    QUARANTINED = "quarantined", "Quarantined"
    RELEASED = "released", "Released"
    DELIVERED = "delivered", "Delivered"
    DISPOSED = "disposed", "Disposed"
    CORRECTED = "corrected", "Corrected"


# The fields of an event's details that a ``corrected`` event may change, by kind of event
# (besides its mass, given apart). ``services/correctable.py`` checks each as the service that
# wrote the event does; the verdict merges these alone. A dispatch's destination changes while
# the lot is on the road (the correction names it as its counterparty facility, and the lot
# heads there); after the receipt, the receipt records where it arrived. A delivery's buyer
# facility is corrected the same way (the lot is then held there). A registered event's
# manifest changes only through a manifest amendment, while the lot is at its data center;
# derived fields (a receipt's difference, a transformation's digest) never change.
CORRECTABLE_FIELDS: dict[str, frozenset[str]] = {
    EventKind.REGISTERED: frozenset({"occurred_at", "item_count", "external_ref", "intake"}),
    EventKind.DISPATCHED: frozenset(
        {"occurred_at", "destination", "carrier", "seal_numbers", "note"}
    ),
    EventKind.RECEIVED: frozenset({"occurred_at", "seals_intact", "note"}),
    EventKind.WEIGHED: frozenset({"occurred_at", "scale_ref", "note"}),
    EventKind.QUARANTINED: frozenset({"occurred_at", "reason"}),
    EventKind.RELEASED: frozenset({"occurred_at", "reason"}),
    EventKind.DELIVERED: frozenset({"occurred_at", "buyer_facility", "invoice_ref", "note"}),
    EventKind.DISPOSED: frozenset({"occurred_at", "method", "reason"}),
    EventKind.ASSAYED: frozenset(),
    EventKind.TRANSFORMED: frozenset(),
    EventKind.CORRECTED: frozenset(),
}
# Events after which a lot has left its data center: its manifest is closed.
LEAVES_SOURCE = frozenset(
    {EventKind.DISPATCHED, EventKind.TRANSFORMED, EventKind.DELIVERED, EventKind.DISPOSED}
)


class TransformationKind(models.TextChoices):
    SPLIT = "split", "Split"
    MERGE = "merge", "Merge"
    PROCESS = "process", "Process"


class ResidueKind(models.TextChoices):
    PLASTICS = "plastics", "Plastics"
    STEEL = "steel", "Steel"
    ALUMINIUM = "aluminium", "Aluminium"
    COPPER = "copper", "Copper"
    PCB = "pcb", "Printed circuit boards"
    GLASS = "glass", "Glass"
    SLAG = "slag", "Slag"
    DUST = "dust", "Dust"
    WASTEWATER = "wastewater", "Wastewater"
    OTHER = "other", "Other"
