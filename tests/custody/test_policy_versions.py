"""Origin policies are immutable per version: an edit records a new version and keeps the old
one, and a verdict under an old version is reproduced exactly after later edits."""

import importlib
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custody.demo.policies import STRICT_EU, seed_policies
from custody.models import (
    CertificationRequirement,
    LotVerdict,
    OriginPolicy,
    OriginPolicyVersion,
    YieldWindow,
    content_sha256,
    policy_content,
)
from custody.selectors.verdicts import assess
from custody.services.policies import save_origin_policy
from custody.services.stored_verdicts import reassess_lot

from ..factories import UserFactory
from .verdict_chains import Knobs, VerdictChain

DEFAULT = "us-domestic-2027"
VERSIONS_MIGRATION = importlib.import_module("custody.migrations.0013_origin_policy_versions")

pytestmark = pytest.mark.django_db


@pytest.fixture
def builder(chain):
    return VerdictChain(chain)


def default_policy() -> OriginPolicy:
    return OriginPolicy.objects.get(is_default=True)


def edit(policy: OriginPolicy, saved_by=None, **fields) -> OriginPolicy:
    for name, value in fields.items():
        setattr(policy, name, value)
    return save_origin_policy(policy=policy, save_rules=lambda: None, saved_by=saved_by)


def assess_command(lot_code: str, *policy: str) -> dict:
    out = StringIO()
    call_command("assess", lot_code, *policy, "--format", "json", stdout=out)
    return json.loads(out.getvalue())


def findings_bytes(document: dict) -> bytes:
    return json.dumps(document["findings"], sort_keys=True).encode()


class TestAnOldVersionReproducesItsVerdict:
    def test_after_an_edit_version_1_gives_the_same_verdict_and_the_latest_the_new_one(
        self, builder
    ):
        lots = builder.build(Knobs(seals_intact=False))
        oxide = lots["oxide"].code
        before = assess_command(oxide)
        assert before["outcome"] == "non_compliant"
        assert before["policy"] == {"name": default_policy().name, "slug": DEFAULT, "version": 1}

        edit(
            default_policy(),
            name="US domestic, tightened",
            denied_countries=["CN", "IR", "KP", "RU", "US"],
            transformation_loss_tolerance=Decimal("0.0010"),
        )

        again = assess_command(oxide, "--policy", f"{DEFAULT}@1")
        assert findings_bytes(again) == findings_bytes(before)
        assert (again["outcome"], again["policy"]) == (before["outcome"], before["policy"])
        latest = assess_command(oxide, "--policy", DEFAULT)
        assert latest["policy"]["version"] == 2
        assert {f["code"] for f in latest["findings"]} == {
            "seal_broken",
            "denied_jurisdiction",
            "unbalanced_transformation",
        }
        assert "a denied jurisdiction under US domestic, tightened" in json.dumps(latest)
        by_default = assess_command(oxide)
        assert by_default["policy"] == latest["policy"]
        assert findings_bytes(by_default) == findings_bytes(latest)

    def test_the_stored_verdict_names_the_version_it_applied(self, builder):
        lots = builder.build()
        reassess_lot(lot=lots["oxide"])
        assert LotVerdict.objects.get(lot=lots["oxide"]).policy_version == 1
        edit(default_policy(), transformation_loss_tolerance=Decimal("0.0010"))
        reassess_lot(lot=lots["oxide"])
        stored = LotVerdict.objects.get(lot=lots["oxide"])
        assert (stored.outcome, stored.policy_version) == ("non_compliant", 2)
        # An old version's verdict is a reproduction, not the lot's latest verdict.
        assess_command(lots["oxide"].code, "--policy", f"{DEFAULT}@1")
        stored.refresh_from_db()
        assert (stored.outcome, stored.policy_version) == ("non_compliant", 2)

    def test_a_version_reads_only_its_stored_content(self, builder):
        """Windows and requirements edited after a version was saved change nothing in it."""
        lots = builder.build(Knobs(oxide_ratio=Decimal("0.97"), recycler_certified=False))
        policy = default_policy()
        policy.yields.all().delete()
        CertificationRequirement.objects.filter(policy=policy).delete()
        version_1 = OriginPolicyVersion.objects.get(policy=policy, number=1)
        verdict = assess(lots["oxide"], version_1)
        assert {f.code for f in verdict.findings} == {"yield_excess", "uncertified_custodian"}
        assert len(version_1.terms.yield_windows) == 8
        assert ("recycler", "r2v3") in version_1.terms.certification_requirements

    def test_the_rules_cost_one_query_whichever_version_is_named(self, builder):
        lots = builder.build()
        edit(default_policy(), max_transit_days=10)
        for policy in (None, default_policy(), f"{DEFAULT}@1"):
            with CaptureQueriesContext(connection) as queries:
                if isinstance(policy, str):
                    call_command(
                        "assess", lots["oxide"].code, "--policy", policy, stdout=StringIO()
                    )
                else:
                    assess(lots["oxide"], policy)
            policy_reads = [
                query["sql"] for query in queries.captured_queries if "policy" in query["sql"]
            ]
            assert len([sql for sql in policy_reads if sql.startswith("SELECT")]) == 1


class TestSavingAPolicy:
    def test_a_change_records_the_next_version_with_who_and_the_whole_content(self):
        operator = UserFactory(username="policy-editor")
        policy = edit(default_policy(), saved_by=operator, max_transit_days=7)
        assert policy.version == 2
        old, new = OriginPolicyVersion.objects.filter(policy=policy).order_by("number")
        assert (old.number, old.content["max_transit_days"], old.saved_by) == (1, 14, None)
        assert (new.number, new.content["max_transit_days"], new.saved_by) == (2, 7, operator)
        assert new.content == policy_content(policy)
        assert new.content_sha256 == content_sha256(new.content) != old.content_sha256

    def test_a_save_that_changes_nothing_records_no_version(self):
        policy = edit(default_policy(), is_default=True)
        assert policy.version == 1
        assert OriginPolicyVersion.objects.filter(policy=policy).count() == 1

    def test_the_migration_recorded_the_default_policy_as_version_1(self):
        policy = default_policy()
        (version,) = policy.versions.all()
        assert version.number == policy.version == 1
        assert version.content == policy_content(policy)
        assert version.content["allowed_countries"] == ["US"]
        assert version.content["transit_loss_tolerance"] == "0.0200"
        assert {"category": "hdd_3_5", "min_grams": "10.00", "max_grams": "25.00"} in (
            version.content["content_windows"]
        )

    def test_the_migration_keeps_a_policy_saved_before_it_at_its_version(self):
        """A policy an operator had edited twice before versions were kept is version 3."""
        older = OriginPolicy.objects.create(
            name="Older", slug="older", allowed_countries=["US", "CA"], version=3
        )
        VERSIONS_MIGRATION.backfill(django_apps, None)
        (version,) = older.versions.all()
        assert (version.number, version.content["allowed_countries"]) == (3, ["CA", "US"])
        assert version.saved_at == older.updated_at
        assert default_policy().versions.count() == 1  # already recorded: left as it is

    def test_the_demo_policy_is_saved_through_the_service_as_version_1(self):
        policy = seed_policies()
        assert policy.slug == STRICT_EU
        (version,) = policy.versions.all()
        assert version.number == 1
        assert version.content["denied_countries"] == ["BY", "CN", "IR", "KP", "RU"]
        assert len(version.content["certification_requirements"]) == 4


class TestVersionsAreAppendOnly:
    def test_the_orm_cannot_update_or_delete_a_version(self):
        version = default_policy().versions.get()
        version.content = {**version.content, "max_transit_days": 99}
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            version.save()
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            OriginPolicyVersion.objects.filter(pk=version.pk).delete()
        assert default_policy().versions.get().content["max_transit_days"] == 14

    def test_raw_sql_update_and_delete_fail(self):
        for statement in (
            "UPDATE custody_originpolicyversion SET content_sha256 = ''",
            "DELETE FROM custody_originpolicyversion",
        ):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement)
        assert default_policy().versions.get().content_sha256 != ""


class TestNamingAPolicy:
    @pytest.mark.parametrize(
        "reference, message",
        [
            ("nope", "No origin policy 'nope'"),
            ("nope@1", "No origin policy 'nope'"),
            (
                f"{DEFAULT}@2",
                f"Origin policy '{DEFAULT}' has no version 2: its versions are 1 to 1",
            ),
            (f"{DEFAULT}@0", "has no version 0"),
            (f"{DEFAULT}@99999999999999999999", "has no version 99999999999999999999"),
            (f"{DEFAULT}@latest", "name one as SLUG or SLUG@VERSION"),
            ("us domestic", "name one as SLUG or SLUG@VERSION"),
            ("", "name one as SLUG or SLUG@VERSION"),
        ],
    )
    def test_an_unknown_policy_or_version_is_a_clear_command_error(
        self, builder, reference, message
    ):
        lots = builder.build()
        with pytest.raises(CommandError, match=message):
            call_command("assess", lots["oxide"].code, "--policy", reference, stdout=StringIO())

    def test_the_text_verdict_says_how_to_reproduce_it(self, builder):
        lots = builder.build()
        out = StringIO()
        call_command("assess", lots["oxide"].code, stdout=out)
        assert f"; reproduce it with --policy {DEFAULT}@1" in out.getvalue()


policy_edits = st.lists(
    st.fixed_dictionaries(
        {
            "denied_countries": st.lists(st.sampled_from(["CN", "RU", "US", "MY"]), unique=True),
            "max_transit_days": st.integers(1, 30),
            "transit_loss_tolerance": st.decimals(Decimal(0), Decimal("0.05"), places=4),
            "transformation_loss_tolerance": st.decimals(Decimal(0), Decimal("0.1"), places=4),
            "oxide_max_ratio": st.decimals(Decimal("0.70"), Decimal("0.95"), places=4),
        }
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=policy_edits)
def test_every_version_gives_the_same_verdict_after_any_later_edits(chain, edits):
    lots = VerdictChain(chain).build(Knobs(seals_intact=False, transit_days=3))
    now = timezone.now()
    policy = default_policy()
    first_seen = {}
    for fields in edits:
        oxide_max_ratio = fields.pop("oxide_max_ratio")
        for name, value in fields.items():
            setattr(policy, name, value)
        save_origin_policy(
            policy=policy,
            save_rules=lambda ratio=oxide_max_ratio: YieldWindow.objects.filter(
                policy=policy, input_material="ree_concentrate", output_material="ndpr_oxide"
            ).update(max_ratio=ratio),
        )
        version = policy.versions.order_by("-number").first()
        assert version.content == policy_content(policy)
        first_seen[version.number] = findings_of(assess(lots["oxide"], version, now=now))
    for number, findings in first_seen.items():
        version = OriginPolicyVersion.objects.get(policy=policy, number=number)
        assert findings_of(assess(lots["oxide"], version, now=now)) == findings


def findings_of(verdict) -> bytes:
    return json.dumps([finding.as_dict() for finding in verdict.findings]).encode()
