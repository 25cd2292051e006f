"""Output serializers of the partner API (reads). Masses are decimal strings in kg; times are
ISO 8601 with offset."""

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import OuterRef
from rest_framework import serializers
from rest_framework.fields import is_simple_callable

from recyclers.api.serializers import FacilityRefSerializer
from recyclers.models import Facility, Organization

from ..models import CustodyEvent, EventKind, Lot, LotStatus, LotVerdict, Material
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


def attach_lot_relations(*lots: Lot) -> None:
    """Attach the facilities and the stored verdict (its outcome: all a lot's representation
    reads of it) that these lots' representations read, in one query each: Django's
    ``prefetch_related`` cost a quarter of a page's time in Python building its queries."""
    attach_facilities(*lots)
    wanted = [lot for lot in lots if not Lot.verdict.is_cached(lot)]
    verdicts = LotVerdict.objects.only("id", "lot_id", "outcome").filter(
        lot_id__in=[lot.pk for lot in wanted]
    )
    by_lot = {verdict.lot_id: verdict for verdict in verdicts} if wanted else {}
    for lot in wanted:
        Lot.verdict.related.set_cached_value(lot, by_lot.get(lot.pk))


def attach_event_relations(*events: CustodyEvent) -> None:
    """Attach what serializing these events reads besides themselves (their lots' codes, their
    actors, their facilities, the events they correct), each relation in one small query and
    only where not already known (a lot's own events know their lot). Joined to the events
    instead, a page was an 8-table join that PostgreSQL spent 12-19 ms planning, more than
    reading the page took."""
    attach_facilities(*events)
    for relation, model, fields in (
        (CustodyEvent.lot, Lot, ("id", "code")),
        (CustodyEvent.actor_organization, Organization, ()),
        (CustodyEvent.corrects, CustodyEvent, ("id", "uuid")),
    ):
        field = relation.field
        wanted = [event for event in events if not field.is_cached(event)]
        ids = {getattr(event, field.attname) for event in wanted} - {None}
        found = model.objects.only(*fields).in_bulk(ids) if fields else model.objects.in_bulk(ids)
        for event in wanted:
            pk = getattr(event, field.attname)
            field.set_cached_value(event, None if pk is None else found[pk])


# Output serializers declare every field: a ModelSerializer rebuilds its fields from the model
# on each use, which cost a millisecond per lot on the write path.

MISSING = object()


class PlainRepresentation:
    """DRF's ``to_representation`` for read-only output, without its per-field machinery.

    Serializing a page of 100 lots through DRF cost more than every query of the request
    (each field's ``get_attribute`` tries, checks for callables and for ``PKOnlyObject``): here
    each serializer plans its fields once (their source path and their own
    ``to_representation``) and a nested serializer (a facility) answers each object once per
    page, however many lots name it. The declared fields stay what the schema and the tests
    read, and ``tests/api/test_serializers.py`` holds the output equal to DRF's own."""

    def to_representation(self, instance):
        answer = {}
        for name, path, represent, allow_null, memo in self._plan():
            value = _follow(instance, path, allow_null)
            if value is MISSING:
                continue
            if value is None:
                answer[name] = None
            elif memo is None:
                answer[name] = represent(value)
            else:
                answer[name] = _remembered(memo, value, represent)
        return answer

    def _plan(self) -> list[tuple]:
        plan = getattr(self, "_representation_plan", None)
        if plan is None:
            plan = self._representation_plan = []
            for field in self._readable_fields:
                if isinstance(field, serializers.DateTimeField) and not hasattr(field, "timezone"):
                    # The current time zone read once per serializer, not once per value (a
                    # context-local lookup each time: a fifth of a page's serializing).
                    field.timezone = field.default_timezone()
                nested = isinstance(field, serializers.Serializer)
                path = tuple(field.source_attrs)
                plan.append(
                    (
                        field.field_name,
                        path,
                        field.to_representation,
                        field.allow_null,
                        {} if nested else None,
                    )
                )
        return plan


def _follow(instance, path: tuple[str, ...], allow_null: bool):
    """The value at ``path`` (an empty path is the instance: ``source="*"``), as DRF reads it:
    None through a missing related object; through a null one, None if the field allows it,
    else the field is left out (``MISSING``)."""
    value = instance
    for attr in path:
        if value is None:
            return None if allow_null else MISSING
        try:
            value = getattr(value, attr)
        except ObjectDoesNotExist:
            return None
        if callable(value) and is_simple_callable(value):
            value = value()
    return value


def _remembered(memo: dict, value, represent):
    """A nested object's representation, computed once per object (by identity: the page's
    objects are alive while it is serialized, so an identity is never reused meanwhile)."""
    known = memo.get(id(value))
    if known is None or known[0] is not value:
        known = memo[id(value)] = (value, represent(value))
    return known[1]


class LotSerializer(PlainRepresentation, serializers.Serializer):
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


class EventSerializer(PlainRepresentation, serializers.Serializer):
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
