import os
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from custody.models import (
    CustodyEvent,
    EventKind,
    LogCheckpoint,
    Lot,
    LotStatus,
    LotVerdict,
)
from custody.projection import projection_drift
from custody.selectors.genealogy import contributions
from custody.selectors.log_verification import queued_entries
from custody.selectors.transparency_log import log_size
from custody.selectors.verification import verify_ledger
from recyclers.models import Certification, Facility, Organization

REPO = Path(__file__).resolve().parents[2]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--force", stdout=out)
    return out.getvalue()


def tamper() -> str:
    out = StringIO()
    call_command("demo_tamper", "--force", stdout=out)
    return out.getvalue()


def verify_ledger_command() -> tuple[str, str]:
    """Run ``verify_ledger``; it raises CommandError (exit status 1) on a broken chain."""
    out, err = StringIO(), StringIO()
    call_command("verify_ledger", "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


EVERY_RULE = {
    "foreign_custody",
    "denied_jurisdiction",
    "open_handoff",
    "seal_broken",
    "transit_loss",
    "unbalanced_transformation",
    "yield_shortfall",
    "yield_excess",
    "uncertified_custodian",
    "unsanitized_media",
    "broken_chain",
    "unknown_origin",
}


def finding_codes() -> set[str]:
    return {f["code"] for verdict in LotVerdict.objects.all() for f in verdict.findings}


class TestSeedDemo:
    def test_the_demo_has_a_signed_checkpoint_covering_every_event(
        self, db, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):  # as each write commits
            seed()
        checkpoint = LogCheckpoint.objects.order_by("-tree_size").first()
        assert checkpoint.tree_size == CustodyEvent.objects.count() == log_size()
        assert queued_entries() == []
        assert verify_ledger().ok

    def test_the_demo_shows_every_stage_of_the_chain(self, db):
        output = seed()
        assert "password 'ledger-demo'" in output
        statuses = set(Lot.objects.values_list("status", flat=True))
        assert statuses == {
            "registered",
            "in_transit",
            "received",
            "consumed",
            "delivered",
            "disposed",
        }
        delivered = Lot.objects.get(material="ndpr_oxide", status="delivered")
        shares = contributions(delivered)
        assert len(shares.pickups) >= 3
        assert len(shares.data_centers) == 2
        assert shares.total_share == pytest.approx(1)
        assert delivered.custodian.organization.slug == "lakeshore-magnetics"
        assert Lot.objects.filter(quarantined=True).count() == 1
        assert CustodyEvent.objects.filter(kind=EventKind.CORRECTED).count() == 1
        abroad = Lot.objects.get(custodian__country="MY")
        assert abroad.status == LotStatus.RECEIVED
        assert abroad.events.filter(kind=EventKind.DISPATCHED).count() == 2
        roles = set(Organization.objects.values_list("roles__code", flat=True))
        assert {
            "operator",
            "source",
            "carrier",
            "recycler",
            "separator",
            "refinery",
            "buyer",
            "auditor",
        } <= roles
        assert Facility.objects.filter(region="VA", kind="data_center").exists()
        assert Facility.objects.filter(region="TN", kind="recycling_plant").exists()
        assert Certification.objects.count() == 6
        assert verify_ledger().ok
        out, _ = verify_ledger_command()
        assert "Ledger verified" in out
        for lot in Lot.objects.all():
            assert projection_drift(lot, lot.events.order_by("seq")) == {}

    def test_the_demo_trips_every_rule_and_keeps_a_verified_oxide(self, db):
        seed()
        assert finding_codes() == EVERY_RULE - {"broken_chain"}
        tamper()
        assert finding_codes() == EVERY_RULE
        delivered = Lot.objects.get(material="ndpr_oxide", status="delivered")
        assert delivered.verdict.outcome == "verified"
        assert LotVerdict.objects.count() == Lot.objects.count()

    def test_running_it_twice_changes_nothing(self, db):
        seed()
        snapshot = (
            list(CustodyEvent.objects.values_list("hash", flat=True).order_by("id")),
            list(Lot.objects.values().order_by("id")),
            Facility.objects.count(),
        )
        seed()
        assert snapshot == (
            list(CustodyEvent.objects.values_list("hash", flat=True).order_by("id")),
            list(Lot.objects.values().order_by("id")),
            Facility.objects.count(),
        )

    def test_refuses_without_debug(self, db, settings):
        settings.DEBUG = False
        with pytest.raises(CommandError, match="DEBUG=1"):
            call_command("seed_demo", stdout=StringIO())
        assert not Lot.objects.exists()


class TestDemoTamper:
    def test_verify_ledger_exits_1_naming_the_altered_lot(self, db):
        seed()
        tampered = Lot.objects.get(external_ref="NW-RMA-T")
        registered = tampered.events.get(seq=1)
        output = tamper()
        assert f"Altered {tampered.code} (NW-RMA-T) event #1 (registered)" in output
        assert "mass_kg 34.000 -> 33.000" in output
        assert f"verify_ledger now exits 1 and names it: BROKEN {tampered.code} event #1" in output
        registered.refresh_from_db()
        assert registered.mass_kg == Decimal("33.000")
        report = verify_ledger()
        assert [(broken.lot_code, broken.seq) for broken in report.broken] == [(tampered.code, 1)]
        err = StringIO()
        with pytest.raises(CommandError, match="1 broken chain"):
            call_command("verify_ledger", "--no-progress", stdout=StringIO(), stderr=err)
        assert f"BROKEN {tampered.code} event #1" in err.getvalue()
        assert "the row was altered" in err.getvalue()
        tampered.refresh_from_db()
        assert tampered.verdict.outcome == "non_compliant"
        assert [f["code"] for f in tampered.verdict.findings] == ["broken_chain"]
        for lot in Lot.objects.exclude(pk=tampered.pk):
            assert projection_drift(lot, lot.events.order_by("seq")) == {}

    def test_running_it_twice_alters_the_row_once(self, db):
        seed()
        tamper()
        assert "was already altered; nothing changed" in tamper()
        tampered = Lot.objects.get(external_ref="NW-RMA-T")
        assert tampered.events.get(seq=1).mass_kg == Decimal("33.000")
        seed()
        assert [broken.lot_code for broken in verify_ledger().broken] == [tampered.code]

    def test_refuses_without_debug(self, db, settings):
        seed()
        settings.DEBUG = False
        with pytest.raises(CommandError, match="DEBUG=1"):
            call_command("demo_tamper", stdout=StringIO())
        assert verify_ledger().ok

    def test_refuses_without_the_demo(self, db):
        with pytest.raises(CommandError, match="run seed_demo first"):
            tamper()


def test_production_settings_pass_the_deploy_check():
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}
    } | {
        "DEBUG": "0",
        "SECRET_KEY": "a-production-grade-secret-key-5b1f0c9e7d3a48e2b6c4f1a0d9e8c7b6",
        "ALLOWED_HOSTS": "ledger.example.com",
        "LOG_SIGNING_KEY": "cHJvZHVjdGlvbi1sb2ctc2lnbmluZy1rZXktMDEyMzQ=",
        "CREDENTIAL_SIGNING_KEY": "cHJvZHVjdGlvbi1jcmVkZW50aWFsLWtleS0wMTIzNDU=",
        "PUBLIC_BASE_URL": "https://ledger.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout

    # Without a key to sign the transparency log's checkpoints, production does not deploy.
    del env["LOG_SIGNING_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "custody.E001" in result.stderr and "LOG_SIGNING_KEY" in result.stderr


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({"CREDENTIAL_SIGNING_KEY": None}, "custody.E002"),
        ({"PUBLIC_BASE_URL": None}, "custody.W001"),
        ({"PUBLIC_BASE_URL": "http://ledger.example.com"}, "custody.W001"),
    ],
)
def test_production_refuses_to_deploy_certificates_without_their_key_and_https_address(
    changes, check
):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE", "PUBLIC_BASE_URL"}
    } | {
        "DEBUG": "0",
        "SECRET_KEY": "a-production-grade-secret-key-5b1f0c9e7d3a48e2b6c4f1a0d9e8c7b6",
        "ALLOWED_HOSTS": "ledger.example.com",
        "LOG_SIGNING_KEY": "cHJvZHVjdGlvbi1sb2ctc2lnbmluZy1rZXktMDEyMzQ=",
        "CREDENTIAL_SIGNING_KEY": "cHJvZHVjdGlvbi1jcmVkZW50aWFsLWtleS0wMTIzNDU=",
        "PUBLIC_BASE_URL": "https://ledger.example.com",
    }
    for name, value in changes.items():
        if value is None:
            del env[name]
        else:
            env[name] = value
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert check in result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"} | {
        "DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


class TestRebuildProjections:
    def test_a_drifted_lot_is_reported_and_rebuilt_from_its_events(self, chain, pickup):
        Lot.objects.filter(pk=pickup.pk).update(status=LotStatus.DISPOSED, mass_kg=0)
        out = StringIO()
        with pytest.raises(CommandError, match="1 lot"):
            call_command("rebuild_projections", "--check", stdout=out)
        assert f"{pickup.code}: status: disposed -> registered, mass_kg: 0.000 -> 2.010" in (
            out.getvalue()
        )

        call_command("rebuild_projections", stdout=StringIO())
        pickup.refresh_from_db()
        assert (pickup.status, pickup.mass_kg) == (LotStatus.REGISTERED, Decimal("2.010"))
        call_command("rebuild_projections", "--check", stdout=out)
        assert "0 lot(s) differ" in out.getvalue()
