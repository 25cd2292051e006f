"""Output serializers of the partner API (reads). Masses are decimal strings in kg; times are
ISO 8601 with offset."""

from django.db.models import OuterRef
from rest_framework import serializers

from recyclers.api.serializers import FacilityRefSerializer
from recyclers.models import Facility

from ..models import CustodyEvent, EventKind, Lot, LotStatus, Material
from ..selectors.transparency_log import log_index_of

# The facilities each kind of object names, as the serializers below show them.
FACILITY_FIELDS = {
    Lot: ("custodian", "destination", "source_facility"),
    CustodyEvent: ("facility", "counterparty_facility"),
}


def attach_facilities(*objects: Lot | CustodyEvent) -> None:
    """Read the facilities (with their organizations) that these lots and events name in one
    query and attach them, so that serializing them reads nothing more: cheaper than joining
    six tables to each row, which PostgreSQL spends milliseconds planning."""
    fields = [(obj, name) for obj in objects for name in FACILITY_FIELDS[type(obj)]]
    wanted = {getattr(obj, f"{name}_id") for obj, name in fields} - {None}
    facilities = Facility.objects.select_related("organization").in_bulk(wanted)
    for obj, name in fields:
        if (pk := getattr(obj, f"{name}_id")) is not None:
            setattr(obj, name, facilities[pk])


# Output serializers declare every field: a ModelSerializer rebuilds its fields from the model
# on each use, which cost a millisecond per lot on the write path.


class LotSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    material = serializers.ChoiceField(choices=Material.choices, read_only=True)
    mass_kg = serializers.DecimalField(max_digits=14, decimal_places=3, read_only=True)
    item_count = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Items in the manifest; empty for bulk material."
    )
    status = serializers.ChoiceField(choices=LotStatus.choices, read_only=True)
    quarantined = serializers.BooleanField(read_only=True)
    custodian = FacilityRefSerializer(
        read_only=True, allow_null=True, help_text="The facility holding the lot; empty in transit."
    )
    destination = FacilityRefSerializer(
        read_only=True, allow_null=True, help_text="Named receiver of the open dispatch."
    )
    source_facility = FacilityRefSerializer(
        read_only=True, allow_null=True, help_text="The data center of a pickup."
    )
    external_ref = serializers.CharField(
        read_only=True, help_text="The partner's own reference (ERP, ticket)."
    )
    head_seq = serializers.IntegerField(read_only=True, help_text="Events in its chain.")
    head_hash = serializers.CharField(read_only=True, help_text="Hash of its latest event.")
    verdict = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_verdict(self, lot) -> str | None:
        """The latest stored verdict (``/verdict/`` assesses afresh)."""
        stored = getattr(lot, "verdict", None)
        return stored.outcome if stored else None


class EventSerializer(serializers.Serializer):
    uuid = serializers.UUIDField(read_only=True)
    lot = serializers.CharField(source="lot.code", read_only=True)
    seq = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=EventKind.choices, read_only=True)
    occurred_at = serializers.DateTimeField(
        read_only=True, help_text="Business time: when it happened."
    )
    recorded_at = serializers.DateTimeField(
        read_only=True, help_text="Record time: when the ledger learnt of it."
    )
    actor_organization = serializers.CharField(source="actor_organization.slug", read_only=True)
    actor_api_key = serializers.CharField(
        source="actor_api_key_prefix", read_only=True, help_text="Prefix of the key; empty if none."
    )
    facility = FacilityRefSerializer(read_only=True, allow_null=True)
    counterparty_facility = FacilityRefSerializer(read_only=True, allow_null=True)
    mass_kg = serializers.DecimalField(
        max_digits=14, decimal_places=3, read_only=True, allow_null=True
    )
    details = serializers.DictField(read_only=True)
    evidence = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="SHA-256 digests of evidence documents.",
    )
    corrects = serializers.UUIDField(
        source="corrects.uuid",
        read_only=True,
        allow_null=True,
        help_text="The event this one corrects.",
    )
    prev_hash = serializers.CharField(read_only=True)
    hash = serializers.CharField(read_only=True)
    log_index = serializers.SerializerMethodField(
        help_text="The event's leaf in the transparency log (commit order); null until it is "
        "integrated, a few seconds after it is written (and in a write's own answer)."
    )

    def get_log_index(self, event) -> int | None:
        # Annotated by the reads (``with_log_index``); an event just written has none yet.
        return getattr(event, "log_index", None)


def with_log_index(events):
    """Events with their log index, read in the same query."""
    return events.annotate(log_index=log_index_of(OuterRef("pk")))


def webhook_payload(event) -> dict:
    """What a webhook POSTs: the event as the API shows it."""
    return {"event": EventSerializer(event).data}
