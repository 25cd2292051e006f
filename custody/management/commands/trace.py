import json

from django.core.management.base import BaseCommand, CommandError

from custody.documents import genealogy_document
from custody.models import Lot
from custody.selectors.genealogy import DOWN, UP, contributions, trace


class Command(BaseCommand):
    help = "Print a lot's genealogy: what it came from (default) or what it went into (--down)."

    def add_arguments(self, parser):
        parser.add_argument("lot", metavar="LOT", help="Lot code, e.g. LOT-2026-000123.")
        parser.add_argument("--down", action="store_true", help="Descendants instead.")
        parser.add_argument("--format", choices=["tree", "json"], default="tree")

    def handle(self, *args, lot, down, format, **options):
        root = Lot.objects.select_related("custodian").filter(code=lot).first()
        if root is None:
            raise CommandError(f"No lot {lot}.")
        genealogy = trace(root, DOWN if down else UP)
        shares = None if down else contributions(root)
        if format == "json":
            self.stdout.write(json.dumps(genealogy_document(genealogy, shares), indent=2))
        else:
            self.write_tree(genealogy, shares)

    def write_tree(self, genealogy, shares) -> None:
        nodes = genealogy.by_id()
        edges: dict[int, list[tuple[int, object]]] = {}
        for parent, child, mass in genealogy.links:
            near, far = (child, parent) if genealogy.direction == UP else (parent, child)
            edges.setdefault(near, []).append((far, mass))
        root = genealogy.root
        where = root.custodian or "in transit"
        self.stdout.write(
            f"{root.code}  {root.material}  {root.mass_kg} kg {root.status} @ {where}"
        )
        shown: set[int] = set()

        def walk(lot_id: int, prefix: str) -> None:
            branches = edges.get(lot_id, [])
            for index, (far, mass) in enumerate(branches):
                last = index == len(branches) - 1
                node = nodes[far]
                repeat = far in shown and edges.get(far)
                where = f"{node.custodian} ({node.country})" if node.custodian else "in transit"
                self.stdout.write(
                    f"{prefix}{'└── ' if last else '├── '}{mass} kg  {node.code}  "
                    f"{node.material}  {node.mass_kg} kg {node.status} @ {where}"
                    + ("  (see above)" if repeat else "")
                )
                if not repeat:
                    shown.add(far)
                    walk(far, prefix + ("    " if last else "│   "))

        walk(root.pk, "")
        if shares is not None and shares.pickups:
            self.stdout.write("\nContributions by data center:")
            for row in shares.data_centers:
                self.stdout.write(
                    f"  {row.share:7.2%}  {row.mass_kg} kg  {row.facility}  "
                    f"({row.pickups} pickup{'s' if row.pickups != 1 else ''})"
                )
        if shares is not None and shares.unknown_origin:
            unknown = ", ".join(row.lot.code for row in shares.unknown_origin)
            self.stdout.write(f"\nUnknown origin (no pickup upstream): {unknown}")
