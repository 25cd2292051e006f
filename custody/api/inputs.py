"""Input serializers of the partner API: they only parse and shape; every rule lives in the
services. Unknown fields are refused; facilities are named by id or GLN; masses are decimal
strings in kg (to the gram); times are ISO 8601 with an offset."""

from django.conf import settings
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from recyclers.models import Organization

from ..errors import DomainError
from ..kinds import CORRECTABLE_FIELDS
from ..models import AssetCategory, SanitizationMethod
from ..services import AssetLine
from ..services.guards import facility_named
from ..services.validation import (
    MAX_ITEM_COUNT,
    MAX_SEALS,
    METHOD_LENGTH,
    NOTE_LENGTH,
    PLAIN_DECIMAL,
    REFERENCE_LENGTH,
    SEAL_LENGTH,
)


class Strict(serializers.Serializer):
    """Refuses fields it does not know, and fields the server sets: a typo must not pass for
    an omission, nor a chosen ``secret`` or ``id`` be silently replaced."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field."] for name in unknown}, code="unknown_field"
                )
            read_only = sorted(name for name in data if self.fields[name].read_only)
            if read_only:
                raise serializers.ValidationError(
                    {name: ["Set by the server; it cannot be sent."] for name in read_only},
                    code="read_only_field",
                )
        return super().to_internal_value(data)


class Mass(serializers.DecimalField):
    """A decimal string such as ``"1250.5"`` (digits and a point, a minus sign for the service
    to refuse), or a JSON number. ``Decimal()`` would also take ``" 1"``, ``"+1"``, ``"1e3"``,
    ``"1_000"`` and other scripts' digits: refused here, before it sees them."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=14, decimal_places=3, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, str) and not PLAIN_DECIMAL.fullmatch(data)):
            self.fail("invalid")
        return super().to_internal_value(data)


class ItemCount(serializers.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(
            required=False, allow_null=True, default=None, max_value=MAX_ITEM_COUNT, **kwargs
        )


class Moment(serializers.DateTimeField):
    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        if isinstance(value, str) and not has_offset(value):
            raise serializers.ValidationError(
                "Give the time with its UTC offset.", code="naive_time"
            )
        return moment


def has_offset(text: str) -> bool:
    tail = text.strip()[-6:]
    return tail.endswith(("Z", "z")) or (tail[:1] in ("+", "-") and ":" in tail)


@extend_schema_field(
    {"oneOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]{13}$"}]},
)
class FacilityRef(serializers.Field):
    """A facility by its id (a number) or its GLN (13 digits)."""

    default_error_messages = {"unknown_facility": "No facility {value}."}

    def to_internal_value(self, value):
        try:
            return facility_named(value, field=self.field_name)
        except DomainError:
            self.fail("unknown_facility", value=value)

    def to_representation(self, value):
        return value.pk


class OrganizationRef(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", queryset=Organization.objects.all(), **kwargs)


class Evidence(serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(
            child=serializers.CharField(max_length=64), required=False, max_length=100, **kwargs
        )


class AssetLineInput(Strict):
    category = serializers.ChoiceField(choices=AssetCategory.choices)
    make = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    model = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    serial = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    weight_kg = Mass(required=False, allow_null=True, default=None)
    sanitization_method = serializers.ChoiceField(
        choices=SanitizationMethod.choices, required=False, default="", allow_blank=True
    )
    sanitization_certificate = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True
    )
    sanitized_at = Moment(required=False, allow_null=True, default=None)


# The most lines one request may add to a manifest (JSON assets or CSV rows): the request must
# be done well within the server's timeout (README, "Partner API";
# benchmarks/manifest_upload.py measures it).
MAX_MANIFEST_ROWS = 10_000


class RegisterPickupInput(Strict):
    facility = FacilityRef()
    material = serializers.CharField(max_length=32)
    mass_kg = Mass()
    item_count = ItemCount()
    occurred_at = Moment(required=False, default=None)
    external_ref = serializers.CharField(
        max_length=100, required=False, default="", allow_blank=True
    )
    evidence = Evidence()
    assets = AssetLineInput(many=True, allow_empty=True, max_length=MAX_MANIFEST_ROWS)

    def service_arguments(self) -> dict:
        data = dict(self.validated_data)
        data["assets"] = [AssetLine(**line) for line in data["assets"]]
        return data


class Common(Strict):
    occurred_at = Moment(required=False, default=None)
    evidence = Evidence()


class DispatchInput(Common):
    destination = FacilityRef()
    carrier = OrganizationRef(required=False, allow_null=True, default=None)
    seal_numbers = serializers.ListField(
        child=serializers.CharField(max_length=SEAL_LENGTH),
        required=False,
        default=list,
        max_length=MAX_SEALS,
    )
    declared_mass_kg = Mass(required=False, allow_null=True, default=None)
    note = serializers.CharField(
        max_length=NOTE_LENGTH, required=False, default="", allow_blank=True
    )


class ReceiveInput(Common):
    measured_mass_kg = Mass()
    seals_intact = serializers.BooleanField()
    note = serializers.CharField(
        max_length=NOTE_LENGTH, required=False, default="", allow_blank=True
    )


class WeighInput(Common):
    mass_kg = Mass()
    scale_ref = serializers.CharField(
        max_length=REFERENCE_LENGTH, required=False, default="", allow_blank=True
    )
    note = serializers.CharField(
        max_length=NOTE_LENGTH, required=False, default="", allow_blank=True
    )


class HoldInput(Common):
    reason = serializers.CharField(max_length=NOTE_LENGTH)


class DeliverInput(Common):
    buyer_facility = FacilityRef()
    invoice_ref = serializers.CharField(
        max_length=REFERENCE_LENGTH, required=False, default="", allow_blank=True
    )
    note = serializers.CharField(
        max_length=NOTE_LENGTH, required=False, default="", allow_blank=True
    )


class DisposeInput(Common):
    method = serializers.CharField(max_length=METHOD_LENGTH)
    reason = serializers.CharField(
        max_length=NOTE_LENGTH, required=False, default="", allow_blank=True
    )


class CorrectInput(Common):
    corrects = serializers.UUIDField(help_text="The uuid of the wrong event of this lot.")
    reason = serializers.CharField(max_length=NOTE_LENGTH)
    mass_kg = Mass(required=False, allow_null=True, default=None)
    corrections = serializers.DictField(
        required=False,
        default=dict,
        help_text="The corrected fields, by the kind of the corrected event: "
        + "; ".join(
            f"{kind}: {', '.join(sorted(fields)) or 'none'}"
            for kind, fields in CORRECTABLE_FIELDS.items()
        )
        + ". A manifest changes only through POST /lots/{code}/manifest/.",
    )


class ConsumeInput(Strict):
    lot = serializers.CharField(max_length=32, help_text="Lot code.")
    mass_kg = Mass(
        required=False,
        allow_null=True,
        default=None,
        help_text="Mass taken from the lot; all of it when absent.",
    )


class ProduceInput(Strict):
    material = serializers.CharField(max_length=32)
    mass_kg = Mass()
    item_count = ItemCount()
    external_ref = serializers.CharField(
        max_length=100, required=False, default="", allow_blank=True
    )


class ResidueInput(Strict):
    kind = serializers.CharField(max_length=32)
    mass_kg = Mass()
    destination = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True
    )


class TransformationInput(Common):
    """``split``: ``lot`` and ``masses``. ``merge``: ``lots`` (and optionally ``material`` and
    ``mass_kg``). ``process``: ``inputs``, ``outputs`` and ``residues``."""

    kind = serializers.ChoiceField(choices=["split", "merge", "process"])
    lot = serializers.CharField(max_length=32, required=False)
    masses = serializers.ListField(child=Mass(), required=False, max_length=1000)
    lots = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, max_length=1000
    )
    material = serializers.CharField(max_length=32, required=False, allow_null=True)
    mass_kg = Mass(required=False, allow_null=True)
    inputs = ConsumeInput(many=True, required=False, max_length=1000)
    outputs = ProduceInput(many=True, required=False, max_length=1000)
    residues = ResidueInput(many=True, required=False, max_length=100)
    note = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)

    REQUIRED = {"split": ["lot", "masses"], "merge": ["lots"], "process": ["inputs", "outputs"]}

    def validate(self, attrs):
        missing = [name for name in self.REQUIRED[attrs["kind"]] if name not in attrs]
        if missing:
            raise serializers.ValidationError(
                {name: [f"Required for a {attrs['kind']}."] for name in missing}, code="required"
            )
        return attrs


ACTION_INPUTS = {
    "dispatch": DispatchInput,
    "receive": ReceiveInput,
    "weigh": WeighInput,
    "quarantine": HoldInput,
    "release": HoldInput,
    "deliver": DeliverInput,
    "dispose": DisposeInput,
    "correct": CorrectInput,
}


def _batch_item(name: str, input_class):
    """One event of a batch: the lot, the action, and the fields of that action's endpoint."""
    return type(
        f"Batch{name.capitalize()}",
        (input_class,),
        {
            "__doc__": f"``{name}`` a lot: the fields of ``POST /lots/{{code}}/{name}/``.",
            "lot": serializers.CharField(max_length=32, help_text="Lot code."),
            "action": serializers.ChoiceField(choices=[name]),
        },
    )


BATCH_ITEMS = {name: _batch_item(name, input_class) for name, input_class in ACTION_INPUTS.items()}


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="BatchEvent",
        serializers=BATCH_ITEMS,
        resource_type_field_name="action",
        many=True,
    )
)
class BatchEvents(serializers.ListField):
    """A list of lot actions, each checked by the input of its own endpoint."""

    def __init__(self, **kwargs):
        limit = settings.CUSTODY["MAX_BATCH_EVENTS"]
        super().__init__(min_length=1, max_length=limit, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        if not data:
            self.fail("min_length", min_length=1)
        if len(data) > self.max_length:  # refused before any of it is parsed
            self.fail("max_length", max_length=self.max_length)
        parsed, errors = [], []
        inputs = {}  # one of each kind: building a serializer's fields costs more than using them
        for item in data:
            name = item.get("action") if isinstance(item, dict) else None
            if not isinstance(item, dict):
                errors.append([serializers.ErrorDetail("An object.", code="not_a_dict")])
            elif not isinstance(name, str) or name not in BATCH_ITEMS:
                choices = ", ".join(BATCH_ITEMS)
                errors.append(
                    {
                        "action": [
                            serializers.ErrorDetail(f"One of {choices}.", code="invalid_choice")
                        ]
                    }
                )
            else:
                item_input = inputs.setdefault(name, BATCH_ITEMS[name]())
                try:
                    parsed.append(dict(item_input.run_validation(item)))
                    errors.append({})
                except serializers.ValidationError as error:
                    errors.append(error.detail)
        if any(errors):
            raise serializers.ValidationError(errors)
        return parsed


class BatchInput(Strict):
    """Lot actions recorded in order, in one transaction: all or none."""

    events = BatchEvents()
