"""``/events/``: the event feed (``GET``) and batches of lot actions (``POST``)."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ErrorDetail, NotFound, ValidationError
from rest_framework.pagination import Cursor
from rest_framework.pagination import CursorPagination as DRFCursorPagination
from rest_framework.response import Response

from .. import services
from ..models import CustodyEvent, Lot
from ..selectors.transparency_log import feed
from ..selectors.visibility import lots_named, unknown_lots
from .auth import request_actor
from .common import idempotency_key, parsed, parsed_query
from .idempotency import idempotent
from .inputs import BatchInput
from .pagination import CursorPagination, is_position
from .serializers import (
    EventSerializer,
    attach_event_relations,
    attach_facilities,
    with_log_index,
)


class FeedQuery(serializers.Serializer):
    order = serializers.ChoiceField(
        choices=["log", "written"],
        required=False,
        help_text="The feed has one order, the log's (commit order); `written` and `log` are "
        "kept as names of it for clients that send them.",
    )


# A feed cursor's position starts with this mark: a cursor from before the feed was in log
# order (migration custody.0015) has none, and is refused rather than read as a position.
FEED_MARK = "L"


class BatchResult(serializers.Serializer):
    events = EventSerializer(many=True)


class EventFeed(generics.ListAPIView):
    """``GET``: every event the caller may see, each once, in commit order (the transparency
    log's), resumable from the cursor it was given, with the history of a lot that becomes
    visible to the caller right before the event that showed it. ``POST``: record a batch of
    lot actions."""

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
        ordering = "position"  # the place in the caller's feed (``transparency_log.feed``)

        def encode_cursor(self, cursor):
            if cursor.position is not None:
                cursor = cursor._replace(position=f"{FEED_MARK}{cursor.position}")
            return super().encode_cursor(cursor)

        def decode_cursor(self, request):
            """A cursor this feed gave: its position is marked; one from before migration
            ``custody.0015`` is a 400 ``stale_cursor`` saying what to do."""
            try:
                cursor = DRFCursorPagination.decode_cursor(self, request)
            except NotFound:  # not base64, not a cursor at all
                cursor = None
                marked = False
            else:
                if cursor is None or cursor.position is None:
                    return cursor
                marked = cursor.position.startswith(FEED_MARK)
                position = cursor.position[len(FEED_MARK) :]
                if marked and is_position(position):
                    return cursor._replace(position=position)
            if marked or cursor is None or not is_position(cursor.position):
                message, code = "Not a cursor this API gave.", "invalid_cursor"
            else:
                message, code = (
                    "A cursor from before the feed was in commit order: read the feed again "
                    "without a cursor, and skip the events you have (by uuid).",
                    "stale_cursor",
                )
            raise ValidationError({self.cursor_query_param: [ErrorDetail(message, code=code)]})

        def get_next_link(self):
            """Never null: at the end of the feed, a cursor after its last event (or where
            this page started), to poll from; an empty page means the caller is up to date."""
            if self.has_next:
                return super().get_next_link()
            if self.page:
                position = self._get_position_from_instance(self.page[-1], self.ordering)
            else:
                position = self.cursor.position if self.cursor else None
            return self.encode_cursor(Cursor(offset=0, reverse=False, position=position))

    @extend_schema(parameters=[FeedQuery])
    def get(self, request, *args, **kwargs):
        """Every event the caller may see, each once, from the cursor on, in log order (commit
        order): each event once it is in the transparency log (within about
        ``LOG_INTEGRATE_SECONDS``), nothing held back."""
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        attach_event_relations(*page)
        return self.get_paginated_response(EventSerializer(page, many=True).data)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return CustodyEvent.objects.none()
        organization = request_actor(self.request).organization
        parsed_query(FeedQuery, self.request)  # an unknown order is a 400
        events = feed(organization, self._forward_page())
        # The page's lots, actors and facilities are attached after it is read (``list``).
        return with_log_index(events)

    def _forward_page(self) -> tuple[int, int] | None:
        """Where a forward page of the feed starts (after which position) and its size."""
        cursor = self.paginator.decode_cursor(self.request)
        if cursor is not None and cursor.reverse:
            return None
        after = int(cursor.position) if cursor and cursor.position is not None else -1
        return after, self.paginator.get_page_size(self.request)


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
