"""The demo's reference data: partners, their facilities (with GS1 GLNs), certifications and the
admin login. Upserted by slug or GLN, so that a second run changes nothing."""

from datetime import date, timedelta

from django.contrib.auth import get_user_model

from recyclers.gs1 import gs1_check_digit
from recyclers.models import (
    Certification,
    CertificationScheme,
    Facility,
    FacilityKind,
    Membership,
    Organization,
    OrganizationRole,
)

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "ledger-demo"

ORGANIZATIONS = {
    "ledger-ops": ("Ledger Operations", "US", ["operator"]),
    "northwind-cloud": ("Northwind Cloud", "US", ["source"]),
    "blue-ridge-freight": ("Blue Ridge Freight", "US", ["carrier"]),
    "volunteer-metals": ("Volunteer Metals Recovery", "US", ["recycler"]),
    "appalachian-separation": ("Appalachian Separation Co.", "US", ["separator"]),
    "gulf-coast-rare-earths": ("Gulf Coast Rare Earths", "US", ["refinery"]),
    "lakeshore-magnetics": ("Lakeshore Magnetics", "US", ["buyer"]),
    "keystone-assurance": ("Keystone Assurance", "US", ["auditor"]),
    "straits-metal-trading": ("Straits Metal Trading Sdn Bhd", "MY", ["recycler"]),
    "cumberland-scrap": ("Cumberland Scrap Metals", "US", ["recycler"]),
    "baotou-trading": ("Baotou Rare Earth Trading Co.", "CN", ["recycler"]),
}

# slug -> (organization, name, kind, country, region, city, location reference for the GLN)
FACILITIES = {
    "iad7": (
        "northwind-cloud",
        "Northwind IAD-7",
        FacilityKind.DATA_CENTER,
        "US",
        "VA",
        "Ashburn",
        10007,
    ),
    "cmh2": (
        "northwind-cloud",
        "Northwind CMH-2",
        FacilityKind.DATA_CENTER,
        "US",
        "OH",
        "New Albany",
        10002,
    ),
    "roanoke": (
        "blue-ridge-freight",
        "Roanoke cross-dock",
        FacilityKind.WAREHOUSE,
        "US",
        "VA",
        "Roanoke",
        20001,
    ),
    "knoxville": (
        "volunteer-metals",
        "Knoxville dismantling plant",
        FacilityKind.RECYCLING_PLANT,
        "US",
        "TN",
        "Knoxville",
        30001,
    ),
    "chattanooga": (
        "appalachian-separation",
        "Chattanooga separation plant",
        FacilityKind.SEPARATION_PLANT,
        "US",
        "TN",
        "Chattanooga",
        40001,
    ),
    "port-arthur": (
        "gulf-coast-rare-earths",
        "Port Arthur refinery",
        FacilityKind.REFINERY,
        "US",
        "TX",
        "Port Arthur",
        50001,
    ),
    "elkhart": (
        "lakeshore-magnetics",
        "Elkhart magnet plant",
        FacilityKind.MAGNET_PLANT,
        "US",
        "IN",
        "Elkhart",
        60001,
    ),
    "nashville": (
        "cumberland-scrap",
        "Nashville scrap yard",
        FacilityKind.RECYCLING_PLANT,
        "US",
        "TN",
        "Nashville",
        80001,
    ),
    "baotou": (
        "baotou-trading",
        "Baotou bonded warehouse",
        FacilityKind.WAREHOUSE,
        "CN",
        "Inner Mongolia",
        "Baotou",
        90001,
    ),
    "port-klang": (
        "straits-metal-trading",
        "Port Klang scrap yard",
        FacilityKind.WAREHOUSE,
        "MY",
        "Selangor",
        "Port Klang",
        70001,
    ),
}

CERTIFICATIONS = [
    ("knoxville", CertificationScheme.R2V3, "R2V3-2291", "SERI-accredited registrar"),
    ("knoxville", CertificationScheme.ISO_14001, "EMS-77120", "Bureau Veritas"),
    ("chattanooga", CertificationScheme.ISO_14001, "EMS-80455", "DNV"),
    ("port-arthur", CertificationScheme.RMAP, "RMAP-RE-0142", "RMI"),
    ("port-arthur", CertificationScheme.ISO_14001, "EMS-91873", "DNV"),
    ("iad7", CertificationScheme.NAID_AAA, "NAID-55310", "i-SIGMA"),
]

GS1_COMPANY_PREFIX = "0614141"  # the example prefix of GS1's own documentation


def demo_gln(location_reference: int) -> str:
    body = f"{GS1_COMPANY_PREFIX}{location_reference:05d}"
    return f"{body}{gs1_check_digit(body)}"


def upsert(model, defaults: dict, **lookup):
    """Create the row, or update it where it differs: a second run saves nothing, so that the
    reference data history records no change that did not happen."""
    row = model.objects.filter(**lookup).first()
    if row is None:
        return model.objects.create(**lookup, **defaults)
    changed = {field: value for field, value in defaults.items() if getattr(row, field) != value}
    if changed:
        for field, value in changed.items():
            setattr(row, field, value)
        row.save()
    return row


def seed_partners() -> dict[str, Organization]:
    """Upsert the organizations, their facilities and certifications; organizations by slug."""
    organizations = {}
    for slug, (name, country, roles) in ORGANIZATIONS.items():
        organization = upsert(Organization, {"name": name, "country": country}, slug=slug)
        organization.roles.set(OrganizationRole.objects.filter(code__in=roles))
        organizations[slug] = organization
    for org_slug, name, kind, country, region, city, reference in FACILITIES.values():
        upsert(
            Facility,
            gln=demo_gln(reference),
            defaults={
                "organization": organizations[org_slug],
                "name": name,
                "kind": kind,
                "country": country,
                "region": region,
                "city": city,
            },
        )
    today = date.today()
    for facility_slug, scheme, number, issuer in CERTIFICATIONS:
        facility = Facility.objects.get(gln=demo_gln(FACILITIES[facility_slug][6]))
        upsert(
            Certification,
            facility=facility,
            scheme=scheme,
            number=number,
            defaults={
                "issued_by": issuer,
                "valid_from": today - timedelta(days=400),
                "valid_until": today + timedelta(days=700),
            },
        )
    return organizations


def facilities() -> dict[str, Facility]:
    """The demo facilities by slug (once ``seed_partners`` has run)."""
    return {slug: Facility.objects.get(gln=demo_gln(row[6])) for slug, row in FACILITIES.items()}


def seed_admin(operator: Organization):
    """The superuser ``ADMIN_USERNAME``, an admin member of the operator."""
    user_model = get_user_model()
    admin = user_model.objects.filter(username=ADMIN_USERNAME).first()
    if admin is None:
        admin = user_model.objects.create_superuser(
            ADMIN_USERNAME, "admin@example.com", ADMIN_PASSWORD
        )
    Membership.objects.get_or_create(user=admin, organization=operator, is_admin=True)
    return admin
