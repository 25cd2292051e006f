"""``/lots/``: a partner's lots, each lot action (``POST /lots/{code}/<action>/``), its events,
trace and verdict. Every lot outside the caller's knowledge is a 404, as if it did not exist."""

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from .. import services
from ..documents import genealogy_document, verdict_document
from ..models import Lot
from ..selectors.disclosure import trace_for, verdict_for
from ..selectors.genealogy import DOWN, UP, contributions
from ..selectors.policies import policy_version
from ..selectors.visibility import lots_named, visible_lots
from .auth import request_actor
from .common import LOT_RELATIONS, idempotency_key, parsed
from .csv_manifest import COLUMNS, CSVParser, manifest_lines
from .filters import LotFilter
from .idempotency import idempotent
from .inputs import (
    CorrectInput,
    DeliverInput,
    DispatchInput,
    DisposeInput,
    HoldInput,
    ReceiveInput,
    RegisterPickupInput,
    WeighInput,
)
from .pagination import CursorPagination
from .serializers import (
    EventSerializer,
    LotSerializer,
    attach_event_relations,
    attach_facilities,
    attach_lot_relations,
    with_log_index,
)


class ActionResult(serializers.Serializer):
    event = EventSerializer()
    lot = LotSerializer()


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
    lookup_value_regex = "[^/\\x00]+"  # a NUL is no code: 404, not a query PostgreSQL refuses
    # DRF calls the handler named after the method: TRACE must not reach the ``trace`` action.
    http_method_names = ["get", "post", "head", "options"]
    filterset_class = LotFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Lot.objects.none()
        organization = request_actor(self.request).organization
        if self.action != "list":
            return visible_lots(organization).select_related(*LOT_RELATIONS)
        # The page's facilities are attached after it is read (``list``): joined to the lots,
        # PostgreSQL joined every lot before the visibility record cut them to a page.
        return visible_lots(organization, self._page_start())

    def list(self, request, *args, **kwargs):
        """The caller's lots, newest first, a page at a time."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        attach_lot_relations(*page)
        return self.get_paginated_response(LotSerializer(page, many=True).data)

    def filter_queryset(self, queryset):
        """The filters asked for; none when the query names none of them (building the
        filter set's form cost a page more than its query)."""
        if self.request.query_params.keys() & LotFilter.base_filters.keys():
            return super().filter_queryset(queryset)
        return queryset

    def _page_start(self) -> Q | None:
        """Where the list's page starts, as a condition on lot ids (pages go by id, newest
        first), for the visibility record to be read from there (``visible_lots``)."""
        cursor = self.paginator.decode_cursor(self.request)
        if cursor is None or cursor.position is None:
            return None
        position = int(cursor.position)
        return Q(lot_id__gt=position) if cursor.reverse else Q(lot_id__lt=position)

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
        attach_lot_relations(lot)
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
        events = with_log_index(lot.events.all()).order_by("seq")
        page = self.paginate_queryset(events)
        attach_event_relations(*page)
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

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "policy",
                str,
                description="The origin policy version to apply: `SLUG` (its latest version) or "
                "`SLUG@VERSION`, as a verdict names it; by default the latest version of the "
                "default policy. An unknown one is 400 `unknown_policy`.",
            )
        ],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def verdict(self, request, code=None):
        lot = self.get_object()
        reference = request.query_params.get("policy")
        policy = policy_version(reference) if reference is not None else None
        verdict = verdict_for(request_actor(request).organization, lot, policy)
        return Response(verdict_document(verdict))
