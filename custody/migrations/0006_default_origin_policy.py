from django.db import migrations

NAME = "US domestic (DFARS 252.225-7052, 2027)"

CONTENT_GRAMS = [("hdd_3_5", "10", "25"), ("hdd_2_5", "2", "6")]
YIELDS = [
    ("shredded_hdd", "ndfeb_magnets", "0.0150", "0.0400", "magnet fraction of shredded drives"),
    ("ndfeb_magnets", "ree_concentrate", "0.2800", "0.3300", "rare earths are ~30 % of NdFeB"),
    ("magnet_swarf", "ree_concentrate", "0.2000", "0.3300", "swarf carries oxide and coolant"),
    ("ree_concentrate", "mixed_reo", "0.8500", "1.0000", ""),
    ("ree_concentrate", "ndpr_oxide", "0.6500", "0.9000", "Nd and Pr are most of the REO"),
    ("ndpr_oxide", "ndpr_metal", "0.8000", "0.8600", "oxide-to-metal mass factor"),
    ("dy_oxide", "dy_metal", "0.8400", "0.8800", "oxide-to-metal mass factor"),
    ("tb_oxide", "tb_metal", "0.8300", "0.8700", "oxide-to-metal mass factor"),
]
REQUIREMENTS = [
    ("recycler", "r2v3"),
    ("recycler", "e_stewards"),
    ("separator", "iso_14001"),
    ("separator", "rmap"),
    ("refinery", "iso_14001"),
    ("refinery", "rmap"),
]


def create(apps, schema_editor):
    OriginPolicy = apps.get_model("custody", "OriginPolicy")
    if OriginPolicy.objects.filter(slug="us-domestic-2027").exists():
        return
    policy = OriginPolicy.objects.create(
        name=NAME,
        slug="us-domestic-2027",
        description=(
            "From 1 January 2027 DFARS 252.225-7052 restricts magnets whose rare earths were "
            "mined, refined, separated, melted or produced in a covered country (China, Russia, "
            "North Korea, Iran). Custody must stay in the United States from the data-center "
            "pickup to the buyer."
        ),
        is_default=True,
        allowed_countries=["US"],
        denied_countries=["CN", "IR", "KP", "RU"],
        max_transit_days=14,
        transit_loss_tolerance="0.0200",
        transformation_loss_tolerance="0.0500",
    )
    DriveContentWindow = apps.get_model("custody", "DriveContentWindow")
    for category, low, high in CONTENT_GRAMS:
        DriveContentWindow.objects.create(
            policy=policy, category=category, min_grams=low, max_grams=high
        )
    YieldWindow = apps.get_model("custody", "YieldWindow")
    for source, target, low, high, note in YIELDS:
        YieldWindow.objects.create(
            policy=policy,
            input_material=source,
            output_material=target,
            min_ratio=low,
            max_ratio=high,
            note=note,
        )
    CertificationRequirement = apps.get_model("custody", "CertificationRequirement")
    for role, scheme in REQUIREMENTS:
        CertificationRequirement.objects.create(policy=policy, role=role, scheme=scheme)


class Migration(migrations.Migration):
    dependencies = [("custody", "0005_origin_policies")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
