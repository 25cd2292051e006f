"""Partner API v1, reads: thin views over the selectors; every lot outside the caller's
knowledge is a 404, as if it did not exist."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from ..documents import genealogy_document, verdict_document
from ..models import CustodyEvent, Lot
from ..selectors.genealogy import DOWN, UP, contributions, trace
from ..selectors.verdicts import assess
from ..selectors.visibility import visible_events, visible_lots
from .auth import request_actor
from .filters import LotFilter
from .pagination import CursorPagination
from .serializers import EventSerializer, LotSerializer


class EventPagination(CursorPagination):
    ordering = "seq"


class LotViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = LotSerializer
    lookup_field = "code"
    filterset_class = LotFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Lot.objects.none()
        organization = request_actor(self.request).organization
        return visible_lots(organization).select_related(
            "custodian__organization",
            "destination__organization",
            "source_facility__organization",
            "verdict",
        )

    @extend_schema(responses=EventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=EventPagination)
    def events(self, request, code=None):
        lot = self.get_object()
        events = lot.events.select_related(
            "lot", "actor_organization", "facility__organization",
            "counterparty_facility__organization", "corrects",
        ).order_by("seq")  # fmt: skip
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
        genealogy = trace(lot, direction)
        visible = set(
            visible_lots(request_actor(request).organization)
            .filter(pk__in=[node.id for node in genealogy.nodes])
            .values_list("pk", flat=True)
        )
        document = genealogy_document(genealogy, contributions(lot) if direction == UP else None)
        # Least knowledge: lots the caller never held are named by code only.
        hidden = {node.code for node in genealogy.nodes if node.id not in visible}
        for node in document["lots"]:
            if node["code"] in hidden:
                node.update({"custodian": None, "country": None, "status": None})
        return Response(document)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def verdict(self, request, code=None):
        return Response(verdict_document(assess(self.get_object())))


class EventFeed(generics.ListAPIView):
    """Every event the caller may see, oldest first, resumable from the cursor it was given."""

    serializer_class = EventSerializer

    class pagination_class(CursorPagination):
        ordering = "id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return CustodyEvent.objects.none()
        organization = request_actor(self.request).organization
        return visible_events(organization).select_related(
            "lot", "actor_organization", "facility__organization",
            "counterparty_facility__organization", "corrects",
        )  # fmt: skip
