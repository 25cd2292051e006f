"""``/log/``: the transparency log's latest signed checkpoint (public), and inclusion and
consistency proofs (RFC 9162) for those with an API key; ``/.well-known/ledger-log-key``: the
key that signs the checkpoints. Hashes are base64, as in the checkpoint itself."""

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import renderers, serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ..selectors import log_key
from ..selectors import transparency_log as log
from ..selectors.transparency_log import b64
from .auth import request_actor
from .common import parsed_query


class NoteRenderer(renderers.BaseRenderer):
    """``Accept: text/plain`` (or ``?format=note``): the signed note alone, as C2SP clients
    read it; a problem's ``detail`` otherwise."""

    media_type = "text/plain"
    format = "note"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        text = data.get("note") or data.get("detail", "") if isinstance(data, dict) else ""
        return str(text).encode()


class CheckpointOutput(serializers.Serializer):
    origin = serializers.CharField(help_text="The log's name: the checkpoint's first line.")
    tree_size = serializers.IntegerField()
    root_hash = serializers.CharField(help_text="Base64 of the 32-byte RFC 6962 root hash.")
    signed_at = serializers.DateTimeField()
    note = serializers.CharField(help_text="The C2SP signed note: checkpoint and signature.")
    verifier_key = serializers.CharField(
        help_text="The signed-note verifier key, <name>+<key id>+<base64(0x01 || key)>."
    )


class InclusionQuery(serializers.Serializer):
    event = serializers.UUIDField(help_text="The event's uuid.")
    tree_size = serializers.IntegerField(
        required=False, min_value=1, help_text="Default: the latest checkpoint's."
    )


class InclusionOutput(serializers.Serializer):
    event = serializers.UUIDField()
    event_hash = serializers.CharField(help_text="The event's hash (hex): the leaf.")
    leaf_index = serializers.IntegerField()
    tree_size = serializers.IntegerField()
    leaf_hash = serializers.CharField(help_text="Base64 of SHA-256(0x00 || leaf).")
    hashes = serializers.ListField(child=serializers.CharField(), help_text="Base64, leaf up.")
    checkpoint = serializers.CharField(
        allow_null=True, help_text="The signed note of this tree size, if one was signed."
    )


class ConsistencyQuery(serializers.Serializer):
    first = serializers.IntegerField(min_value=0)
    second = serializers.IntegerField(
        required=False, min_value=0, help_text="Default: the latest checkpoint's tree size."
    )


class ConsistencyOutput(serializers.Serializer):
    first = serializers.IntegerField()
    second = serializers.IntegerField()
    hashes = serializers.ListField(child=serializers.CharField(), help_text="Base64.")
    first_checkpoint = serializers.CharField(allow_null=True)
    second_checkpoint = serializers.CharField(allow_null=True)


class LatestCheckpoint(APIView):
    """The latest signed checkpoint: public, no API key."""

    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [renderers.JSONRenderer, NoteRenderer]

    @extend_schema(responses={200: CheckpointOutput}, operation_id="log_checkpoint", auth=[])
    def get(self, request):
        """The latest checkpoint of the transparency log: tree size, root hash, signed note
        (``Accept: text/plain`` or ``?format=note`` for the note alone). ``409 log_empty``
        before the first event is integrated."""
        checkpoint = log.require_checkpoint()
        return Response(
            {
                "origin": log_key.key_name(),
                "tree_size": checkpoint.tree_size,
                "root_hash": b64(checkpoint.root_hash),
                "signed_at": checkpoint.signed_at,
                "note": checkpoint.note,
                "verifier_key": log_key.verifier_key(),
            }
        )


class InclusionProofView(APIView):
    @extend_schema(
        parameters=[InclusionQuery],
        responses={200: InclusionOutput},
        operation_id="log_inclusion_proof",
    )
    def get(self, request):
        """The proof that an event (one of a lot the caller may see; any other is a 404) is a
        leaf of the tree of ``tree_size`` leaves."""
        query = parsed_query(InclusionQuery, request)
        event = log.visible_event(request_actor(request).organization, query["event"])
        if event is None:
            raise NotFound()
        proof = log.inclusion_proof(event, query.get("tree_size"))
        return Response(log.inclusion_document(proof))


class ConsistencyProofView(APIView):
    @extend_schema(
        parameters=[ConsistencyQuery],
        responses={200: ConsistencyOutput},
        operation_id="log_consistency_proof",
    )
    def get(self, request):
        """The proof that the tree of ``first`` leaves is a prefix of the tree of ``second``."""
        query = parsed_query(ConsistencyQuery, request)
        proof = log.consistency_proof(query["first"], query.get("second"))
        return Response(log.consistency_document(proof))


def log_public_key(request):
    """``/.well-known/ledger-log-key``: the verifier key of the checkpoints, one line."""
    return HttpResponse(f"{log_key.verifier_key()}\n", content_type="text/plain; charset=utf-8")
