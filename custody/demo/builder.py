"""A small scenario builder for the demo: who acts, when ("days ago") and the steps every scenario
repeats (a data-center pickup with its manifest, a dispatch, a receipt).

Every step goes through ``custody.services`` with an idempotency key derived from the scenario's
key, so that a second run replays instead of writing.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from custody import services
from custody.actors import Actor
from custody.models import AssetCategory, Lot, Material, SanitizationMethod, Transformation
from recyclers.models import Facility, Organization

DRIVE_KG = Decimal("0.680")
SERVER_KG = Decimal("28.000")
SOURCE = "northwind-cloud"
CARRIER = "blue-ridge-freight"


def pickup_ref(key: str) -> str:
    """The RMA number a demo pickup carries as its external reference."""
    return f"NW-RMA-{key.upper()}"


class Builder:
    def __init__(self, organizations: dict[str, Organization], facilities: dict[str, Facility]):
        self.organizations = organizations
        self.facilities = facilities
        self.now = timezone.now().replace(minute=0, second=0, microsecond=0)

    def actor(self, slug: str) -> Actor:
        return Actor(organization=self.organizations[slug])

    def days_ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    def pickup(
        self, key, *, facility, material, count, unit_kg, days_ago, category, unwiped=0
    ) -> Lot:
        """A pickup of ``count`` items; the first ``unwiped`` drives lack a sanitization record."""
        assets = [
            services.AssetLine(
                category=category,
                make="Seagate" if category == AssetCategory.HDD_3_5 else "Dell",
                model="Exos X16" if category == AssetCategory.HDD_3_5 else "PowerEdge R640",
                serial=f"{key.upper()}-{number:05d}",
                weight_kg=unit_kg,
                sanitization_method="" if number <= unwiped else SanitizationMethod.PURGE,
                sanitization_certificate=""
                if number <= unwiped
                else f"NW-WIPE-{key.upper()}-{number:05d}",
                sanitized_at=None if number <= unwiped else self.days_ago(days_ago + 2),
            )
            for number in range(1, count + 1)
        ]
        return services.register_pickup(
            actor=self.actor(SOURCE),
            facility=self.facilities[facility],
            material=material,
            mass_kg=unit_kg * count,
            assets=assets,
            occurred_at=self.days_ago(days_ago),
            external_ref=pickup_ref(key),
            idempotency_key=f"demo-{key}-pickup",
        )

    def drives(self, key, *, facility, count, days_ago, unwiped=0) -> Lot:
        """A pickup of 3.5-inch hard drives."""
        return self.pickup(
            key,
            facility=facility,
            material=Material.HDD,
            count=count,
            unit_kg=DRIVE_KG,
            days_ago=days_ago,
            category=AssetCategory.HDD_3_5,
            unwiped=unwiped,
        )

    def servers(self, key, *, facility, count, days_ago) -> Lot:
        """A pickup of retired servers."""
        return self.pickup(
            key,
            facility=facility,
            material=Material.RETIRED_SERVERS,
            count=count,
            unit_kg=SERVER_KG,
            days_ago=days_ago,
            category=AssetCategory.SERVER,
        )

    def move(self, key, lot, *, sender, to, days_ago, seals=1) -> None:
        """Dispatch ``lot`` from ``sender`` to facility ``to`` with the demo carrier."""
        services.dispatch_lot(
            actor=self.actor(sender),
            lot=lot,
            destination=self.facilities[to],
            carrier=self.organizations[CARRIER],
            seal_numbers=[f"BRF-{key.upper()}-{n}" for n in range(1, seals + 1)],
            occurred_at=self.days_ago(days_ago),
            idempotency_key=f"demo-{key}-dispatch-{to}",
        )

    def arrive(self, key, lot, *, receiver, at, mass, days_ago, seals_intact=True) -> None:
        """Receive ``lot`` at facility ``at`` with the measured ``mass`` (kg)."""
        services.receive_lot(
            actor=self.actor(receiver),
            lot=lot,
            measured_mass_kg=Decimal(mass),
            seals_intact=seals_intact,
            occurred_at=self.days_ago(days_ago),
            idempotency_key=f"demo-{key}-receive-{at}",
        )

    @staticmethod
    def output(transformation: Transformation, *, parent: Lot | None = None) -> Lot:
        """The lot ``transformation`` produced (the one from ``parent``, if it made several)."""
        link = {"parent_links__transformation": transformation}
        if parent is not None:
            link["parent_links__parent"] = parent  # the same link row: one filter, not two
        return Lot.objects.get(**link)
