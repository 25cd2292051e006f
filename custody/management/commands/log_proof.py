import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from custody.errors import DomainError
from custody.models import Lot
from custody.selectors import log_key
from custody.selectors import transparency_log as log


class Command(BaseCommand):
    help = (
        "Write what a buyer needs to check a lot's events against the transparency log offline "
        "(python -m custody.verify): the latest signed checkpoint, the log's verifier key and "
        "an inclusion proof per event, as the API answers them."
    )

    def add_arguments(self, parser):
        parser.add_argument("lot", metavar="LOT", help="A lot code.")
        parser.add_argument("--out", default="log-proofs", help="Folder (default: log-proofs).")
        parser.add_argument(
            "--since",
            type=int,
            metavar="SIZE",
            help="The older checkpoint of the consistency proof (old-checkpoint.note, "
            "consistency.json): the one of SIZE leaves (default: the first ever signed).",
        )

    def handle(self, *args, lot, out, since, **options):
        found = Lot.objects.filter(code=lot).first()
        if found is None:
            raise CommandError(f"No lot {lot}.")
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            checkpoint = log.require_checkpoint()
            proofs = [log.inclusion_proof(event) for event in found.events.order_by("seq")]
        except DomainError as exc:
            raise CommandError(exc.message) from None
        (folder / "checkpoint.note").write_text(checkpoint.note)
        (folder / "log.key").write_text(log_key.verifier_key() + "\n")
        for proof in proofs:
            path = folder / f"{found.code}-{proof.event.seq}.json"
            document = log.inclusion_document(proof)
            path.write_text(json.dumps(document, cls=DjangoJSONEncoder, indent=2) + "\n")
        self._write_consistency(folder, since)
        self.stdout.write(
            f"Wrote {folder}/checkpoint.note ({checkpoint.tree_size} leaves), {folder}/log.key, "
            f"{len(proofs)} inclusion proofs ({found.code}-<seq>.json), and the consistency "
            "proof from old-checkpoint.note (consistency.json)."
        )

    def _write_consistency(self, folder: Path, since: int | None) -> None:
        older = log.checkpoint_of_size(since) if since is not None else log.first_checkpoint()
        if older is None:
            raise CommandError(f"No checkpoint of {since} leaves was signed.")
        document = log.consistency_document(log.consistency_proof(older.tree_size))
        (folder / "old-checkpoint.note").write_text(older.note)
        (folder / "consistency.json").write_text(json.dumps(document, indent=2) + "\n")
