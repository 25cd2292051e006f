"""``/events/``: the event feed (``GET``) and batches of lot actions (``POST``)."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.pagination import Cursor
from rest_framework.response import Response

from .. import services
from ..models import CustodyEvent, Lot
from ..selectors.transparency_log import logged_events
from ..selectors.visibility import lots_named, settled_events, unknown_lots
from .auth import request_actor
from .common import EVENT_RELATIONS, idempotency_key, parsed, parsed_query
from .idempotency import idempotent
from .inputs import BatchInput
from .pagination import CursorPagination
from .serializers import EventSerializer, attach_facilities, with_log_index


class FeedQuery(serializers.Serializer):
    order = serializers.ChoiceField(
        choices=["written", "log"],
        required=False,
        help_text="`log`: by log index (commit order), no hold-back. Default `written`.",
    )


class BatchResult(serializers.Serializer):
    events = EventSerializer(many=True)


class EventFeed(generics.ListAPIView):
    """``GET``: every event the caller may see, each once, resumable from the cursor it was
    given: in the order it was written, and the history of a lot that becomes visible to the
    caller when it does. ``POST``: record a batch of lot actions.

    What was written in the last ``FEED_SETTLE_SECONDS`` is held back: ids are taken when a
    transaction inserts, not when it commits, so a younger event could otherwise be read before
    an older one commits, and a cursor that moved past its id would never see it."""

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
        ordering = "position"  # the place in the caller's feed (``settled_events``)

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
        """Every event the caller may see, each once, from the cursor on. ``order=log``: in log
        order (commit order), each event once it is in the transparency log, nothing held back;
        by default, in the order written, less the last ``FEED_SETTLE_SECONDS``. A cursor
        belongs to its order."""
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return CustodyEvent.objects.none()
        organization = request_actor(self.request).organization
        if parsed_query(FeedQuery, self.request).get("order") == "log":
            events = logged_events(organization, self._forward_page())
        else:
            events = settled_events(organization)
        return with_log_index(events.select_related(*EVENT_RELATIONS))

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
