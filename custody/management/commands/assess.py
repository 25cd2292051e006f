import json

from django.core.management.base import BaseCommand, CommandError

from custody.documents import verdict_document
from custody.errors import DomainError
from custody.models import Lot
from custody.selectors.policies import policy_version
from custody.selectors.verdicts import assess
from custody.services.stored_verdicts import record_verdict

BADGES = {"verified": "VERIFIED", "unverified": "UNVERIFIED", "non_compliant": "NON-COMPLIANT"}


class Command(BaseCommand):
    help = "Apply an origin policy to a lot and everything upstream; print the verdict."

    def add_arguments(self, parser):
        parser.add_argument("lot", metavar="LOT")
        parser.add_argument(
            "--policy",
            metavar="SLUG[@VERSION]",
            help="The policy by slug, at its latest version or at VERSION (default: the latest "
            "version of the default policy).",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, lot, policy, format, **options):
        root = Lot.objects.filter(code=lot).first()
        if root is None:
            raise CommandError(f"No lot {lot}.")
        chosen = None
        if policy is not None:
            try:
                chosen = policy_version(policy)
            except DomainError as unknown:
                raise CommandError(unknown.message) from None
        verdict = assess(root, chosen)
        record_verdict(verdict=verdict)
        if format == "json":
            self.stdout.write(json.dumps(verdict_document(verdict), indent=2))
            return
        style = {"verified": self.style.SUCCESS, "unverified": self.style.WARNING}.get(
            verdict.outcome, self.style.ERROR
        )
        self.stdout.write(style(f"{root.code}: {BADGES[verdict.outcome]}"))
        self.stdout.write(
            f"Policy: {verdict.policy_label}; reproduce it with --policy {verdict.policy}"
        )
        self.stdout.write(f"Assessed: {verdict.assessed_at:%Y-%m-%d %H:%M} UTC")
        self.stdout.write(f"\nFindings ({len(verdict.findings)}):")
        for finding in verdict.findings:
            where = f"{finding.lot}#{finding.seq}" if finding.seq else finding.lot
            self.stdout.write(f"  [{finding.severity}] {finding.code} @ {where}: {finding.message}")
        if not verdict.findings:
            self.stdout.write("  none")
        if verdict.accepted_certifications:
            self.stdout.write("\nAccepted certifications (recorded after the events they cover):")
        for cited in verdict.accepted_certifications:
            self.stdout.write(
                f"  {cited.certification} at {cited.facility}, accepted by {cited.accepted_by} "
                f"on {cited.accepted_at[:10]}: {cited.reason}"
            )
        self.stdout.write("\nData centers:")
        for name, share in verdict.data_centers:
            self.stdout.write(f"  {share:7.2%}  {name}")
        self.stdout.write(f"Pickups upstream: {len(verdict.pickups)}")
        self.stdout.write(f"Countries: {', '.join(verdict.countries)}")
        self.stdout.write("\nMass balance:")
        for step in verdict.mass_balance:
            self.stdout.write(
                f"  {step.occurred_at:%Y-%m-%d} {step.kind:<8} {step.facility}: "
                f"in {step.mass_in_kg} kg, out {step.mass_out_kg} kg, residues "
                f"{step.residue_kg} kg, loss {step.loss_kg} kg ({step.loss_share:.1%})"
            )
