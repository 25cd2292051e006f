"""``/transformations/``: split, merge or process lots the caller holds."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from .. import services
from ..models import Lot
from ..selectors.genealogy import transformation_outputs
from ..selectors.visibility import lots_named, unknown_lots
from .auth import request_actor
from .common import idempotency_key, parsed
from .idempotency import idempotent
from .inputs import TransformationInput


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
