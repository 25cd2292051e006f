"""Partner API v1: thin views that parse, call ``custody.services`` or the selectors, and
serialize. Every lot outside the caller's knowledge is a 404, as if it did not exist."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from .. import services
from ..documents import genealogy_document, verdict_document
from ..models import CustodyEvent, EventKind, Lot, WebhookSubscription
from ..selectors.genealogy import DOWN, UP, contributions, trace_for, transformation_outputs
from ..selectors.verdicts import assess
from ..selectors.visibility import lots_named, settled_events, unknown_lots, visible_lots
from .auth import request_actor
from .csv_manifest import COLUMNS, CSVParser, manifest_lines
from .filters import LotFilter
from .idempotency import idempotent
from .inputs import (
    BatchInput,
    CorrectInput,
    DeliverInput,
    DispatchInput,
    DisposeInput,
    HoldInput,
    ReceiveInput,
    RegisterPickupInput,
    TransformationInput,
    WeighInput,
)
from .pagination import CursorPagination
from .serializers import EventSerializer, LotSerializer, attach_facilities


def parsed(input_class, request) -> dict:
    serializer = input_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    arguments = dict(serializer.validated_data)
    if hasattr(serializer, "service_arguments"):
        arguments = serializer.service_arguments()
    return arguments


def idempotency_key(request) -> str | None:
    return request.headers.get("Idempotency-Key", "").strip() or None


class ActionResult(serializers.Serializer):
    event = EventSerializer()
    lot = LotSerializer()


LOT_RELATIONS = (
    "custodian__organization",
    "destination__organization",
    "source_facility__organization",
    "verdict",
)


EVENT_RELATIONS = (
    "lot",
    "actor_organization",
    "facility__organization",
    "counterparty_facility__organization",
    "corrects",
)


def action_result(event) -> dict:
    """The event written and the lot as it now stands (the service left both in memory)."""
    attach_facilities(event.lot, event)
    return {"event": EventSerializer(event).data, "lot": LotSerializer(event.lot).data}


def lot_action(name: str, input_class, service):
    """``POST /lots/{code}/<name>/``: parse, call the service, answer with the event and the
    lot as it now stands."""

    def act(self, request, code=None):
        lot = self.get_object()
        event = service(
            actor=request_actor(request),
            lot=lot,
            idempotency_key=idempotency_key(request),
            **parsed(input_class, request),
        )
        return Response(action_result(event), status=201)

    # The router maps the HTTP method to this name: set it before ``action`` reads it.
    act.__name__ = act.__qualname__ = f"{name}_lot"
    act = action(
        detail=True, methods=["post"], url_path=name, filterset_class=None, pagination_class=None
    )(idempotent(act))
    return extend_schema(
        request=input_class, responses={201: ActionResult}, operation_id=f"lot_{name}"
    )(act)


class EventPagination(CursorPagination):
    ordering = "seq"


class LotViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = LotSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filterset_class = LotFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Lot.objects.none()
        organization = request_actor(self.request).organization
        return visible_lots(organization).select_related(*LOT_RELATIONS)

    def get_object(self):
        """One lot by code, if the caller may see it: a 404 either way, so that a lot the
        caller may not see does not exist for it."""
        code = self.kwargs["code"]
        lot = lots_named(request_actor(self.request).organization, [code]).get(code)
        if lot is None:
            raise NotFound()
        return lot

    def retrieve(self, request, code=None):
        lot = self.get_object()
        attach_facilities(lot)
        return Response(LotSerializer(lot).data)

    @extend_schema(request=RegisterPickupInput, responses={201: LotSerializer})
    @idempotent
    def create(self, request):
        """Register a pickup at a data center, with its asset manifest."""
        lot = services.register_pickup(
            actor=request_actor(request),
            idempotency_key=idempotency_key(request),
            **parsed(RegisterPickupInput, request),
        )
        attach_facilities(lot)
        return Response(LotSerializer(lot).data, status=201)

    dispatch_lot = lot_action("dispatch", DispatchInput, services.dispatch_lot)
    receive_lot = lot_action("receive", ReceiveInput, services.receive_lot)
    weigh_lot = lot_action("weigh", WeighInput, services.weigh_lot)
    quarantine_lot = lot_action("quarantine", HoldInput, services.quarantine_lot)
    release_lot = lot_action("release", HoldInput, services.release_lot)
    deliver_lot = lot_action("deliver", DeliverInput, services.deliver_lot)
    dispose_lot = lot_action("dispose", DisposeInput, services.dispose_lot)
    correct_lot = lot_action("correct", CorrectInput, services.correct_event)

    @extend_schema(
        request={"text/csv": OpenApiTypes.STR},
        responses={201: ActionResult},
        description="Add manifest lines from a CSV file (header: "
        + ", ".join(COLUMNS)
        + ") while the lot is still at its data center.",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="manifest",
        parser_classes=[CSVParser],
        filterset_class=None,
        pagination_class=None,
    )
    @idempotent
    def manifest(self, request, code=None):
        lot = self.get_object()
        if not isinstance(request.data, str):
            raise ValidationError({"csv": ["Send the manifest as text/csv."]})
        event = services.amend_manifest(
            actor=request_actor(request),
            lot=lot,
            assets=manifest_lines(request.data),
            idempotency_key=idempotency_key(request),
        )
        return Response(action_result(event), status=201)

    @extend_schema(responses=EventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=EventPagination)
    def events(self, request, code=None):
        lot = self.get_object()
        events = lot.events.select_related(*EVENT_RELATIONS).order_by("seq")
        page = self.paginate_queryset(events)
        return self.get_paginated_response(EventSerializer(page, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("direction", str, enum=[UP, DOWN], default=UP)],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def trace(self, request, code=None):
        lot = self.get_object()
        direction = request.query_params.get("direction", UP)
        if direction not in (UP, DOWN):
            raise ValidationError({"direction": ["Use 'up' or 'down'."]})
        genealogy = trace_for(request_actor(request).organization, lot, direction)
        document = genealogy_document(genealogy, contributions(lot) if direction == UP else None)
        return Response(document)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def verdict(self, request, code=None):
        return Response(verdict_document(assess(self.get_object())))


class BatchResult(serializers.Serializer):
    events = EventSerializer(many=True)


class EventFeed(generics.ListAPIView):
    """``GET``: every event the caller may see, oldest first, resumable from the cursor it was
    given (less the youngest, see ``settled_events``). ``POST``: record a batch of lot
    actions."""

    serializer_class = EventSerializer

    @extend_schema(request=BatchInput, responses={201: BatchResult}, operation_id="events_batch")
    @idempotent
    def post(self, request):
        """Record lot actions (``weigh``, ``dispatch``, ``receive``...) in order, in one
        transaction: every one of them or, if any is refused, none. A refused action is named
        in the error (``events[3].mass_kg``)."""
        items = parsed(BatchInput, request)["events"]
        actor = request_actor(request)
        lots = _visible_lots_named(actor, [item["lot"] for item in items])
        actions = [
            services.LotAction(lots[item["lot"]], item["action"], _action_arguments(item))
            for item in items
        ]
        events = services.record_batch(
            actor=actor, actions=actions, idempotency_key=idempotency_key(request)
        )
        attach_facilities(*events)
        return Response({"events": EventSerializer(events, many=True).data}, status=201)

    class pagination_class(CursorPagination):
        ordering = "id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return CustodyEvent.objects.none()
        organization = request_actor(self.request).organization
        return settled_events(organization).select_related(*EVENT_RELATIONS)


class TransformationSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    kind = serializers.CharField()
    facility = serializers.IntegerField(source="facility_id")
    occurred_at = serializers.DateTimeField()
    consumed_kg = serializers.DecimalField(max_digits=14, decimal_places=3)
    output_kg = serializers.DecimalField(max_digits=14, decimal_places=3)
    residue_kg = serializers.DecimalField(max_digits=14, decimal_places=3)
    residues = serializers.JSONField()
    digest = serializers.CharField()
    outputs = serializers.SerializerMethodField()

    def get_outputs(self, transformation) -> list[str]:
        return [lot.code for lot in transformation_outputs(transformation)]


class TransformationCreate(generics.GenericAPIView):
    """``POST /transformations/``: split, merge or process lots the caller holds."""

    serializer_class = TransformationInput

    @extend_schema(request=TransformationInput, responses={201: TransformationSerializer})
    @idempotent
    def post(self, request):
        data = parsed(TransformationInput, request)
        actor = request_actor(request)
        lots = _held_lots(
            actor,
            [data.get("lot"), *data.get("lots", []), *(i["lot"] for i in data.get("inputs", []))],
        )
        common = {
            "actor": actor,
            "occurred_at": data["occurred_at"],
            "evidence": data.get("evidence", ()),
            "note": data["note"],
            "idempotency_key": idempotency_key(request),
        }
        residues = [services.Residue(**r) for r in data.get("residues", [])]
        if data["kind"] == "split":
            done = services.split_lot(
                lot=lots[data["lot"]], masses=data["masses"], residues=residues, **common
            )
        elif data["kind"] == "merge":
            done = services.merge_lots(
                lots=[lots[code] for code in data["lots"]],
                material=data.get("material"),
                mass_kg=data.get("mass_kg"),
                residues=residues,
                **common,
            )
        else:
            done = services.process_lots(
                inputs=[services.Consume(lots[i["lot"]], i["mass_kg"]) for i in data["inputs"]],
                outputs=[services.Produce(**o) for o in data["outputs"]],
                residues=residues,
                **common,
            )
        return Response(TransformationSerializer(done).data, status=201)


def _held_lots(actor, codes) -> dict[str, Lot]:
    """The named lots; any the caller may not see is refused as unknown (422), whether the lot
    exists or not."""
    wanted = {code for code in codes if code}
    found = lots_named(actor.organization, wanted)
    if unknown := sorted(wanted - set(found)):
        raise unknown_lots(unknown, field="lots")
    return found


def _action_arguments(item: dict) -> dict:
    """An event of a batch without what names it (``lot``, ``action``): its action's fields."""
    return {name: value for name, value in item.items() if name not in ("lot", "action")}


def _visible_lots_named(actor, codes: list[str]) -> dict[str, Lot]:
    """The lots a batch names, by code; the first the caller may not see is refused as unknown
    (422), whether it exists or not."""
    found = lots_named(actor.organization, codes)
    for index, code in enumerate(codes):
        if code not in found:
            raise unknown_lots([code], field=f"events[{index}].lot")
    return found


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    event_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=EventKind.choices), required=False, max_length=20
    )

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "event_kinds", "secret", "is_active", "created_at"]
        read_only_fields = ["secret", "created_at"]


class WebhookSubscriptionViewSet(
    mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet
):
    """The caller's webhook subscriptions: each event of a lot it may see is POSTed to the URL,
    signed with the subscription's secret (``Webhook-Signature: t=...,v1=...``)."""

    serializer_class = WebhookSubscriptionSerializer
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookSubscription.objects.none()
        return WebhookSubscription.objects.filter(
            organization=request_actor(self.request).organization
        )

    def perform_create(self, serializer):
        serializer.save(organization=request_actor(self.request).organization)

    @idempotent
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)
