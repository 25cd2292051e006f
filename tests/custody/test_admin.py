"""The operator admin: read-only ledger pages, the timeline, and the service-backed actions."""

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from custody import services
from custody.models import CustodyEvent, EventKind, Lot, OriginPolicy
from recyclers.models import CertificationStatus, Membership

from ..conftest import days_ago, drive_manifest
from ..factories import CertificationFactory, MembershipFactory

LOT_LIST = reverse("admin:custody_lot_changelist")


def lot_page(lot: Lot) -> str:
    return reverse("admin:custody_lot_change", args=[lot.pk])


def event_page(event: CustodyEvent, view: str = "change") -> str:
    return reverse(f"admin:custody_custodyevent_{view}", args=[event.pk])


def ship_to_plant(chain, lot: Lot, *, seals_intact: bool = False) -> Lot:
    """Dispatch ``lot`` from its data center to the recycler's plant and receive it there."""
    services.dispatch_lot(
        actor=chain.actor(chain.source),
        lot=lot,
        destination=chain.plant,
        carrier=chain.carrier,
        seal_numbers=["S-1001", "S-1002"],
        occurred_at=days_ago(19),
    )
    services.receive_lot(
        actor=chain.actor(chain.recycler),
        lot=lot,
        measured_mass_kg=Decimal("1.990"),
        seals_intact=seals_intact,
        occurred_at=days_ago(18),
        note="one seal cut",
    )
    lot.refresh_from_db()
    return lot


def new_pickup(chain, serial_base: int = 0) -> Lot:
    lines = drive_manifest(3)
    return services.register_pickup(
        actor=chain.actor(chain.source),
        facility=chain.data_center,
        material="hdd",
        mass_kg=Decimal("2.010"),
        assets=lines,
        occurred_at=days_ago(20),
        external_ref=f"RMA-{serial_base}",
    )


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def message_texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def action_post(action: str, lots, *, reason: str | None = None) -> dict:
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(lot.pk) for lot in lots]}
    if reason is not None:
        data.update({"apply": "1", "reason": reason})
    else:
        data["index"] = "0"
    return data


@pytest.fixture
def operator_admin(admin_user, chain):
    Membership.objects.create(user=admin_user, organization=chain.operator)
    return admin_user


class TestLotPages:
    def test_the_list_shows_lots_with_a_constant_number_of_queries(
        self, admin_client, chain, pickup, django_assert_max_num_queries
    ):
        baseline = count_queries(admin_client, LOT_LIST)
        assert baseline <= 12
        for number in range(1, 6):
            ship_to_plant(chain, new_pickup(chain, number))
        with django_assert_max_num_queries(baseline):
            response = admin_client.get(LOT_LIST)
        assert response.context["cl"].result_count == 6
        content = response.content.decode()
        assert pickup.code in content
        assert "Knoxville plant" in content  # custodian column, joined not queried

    def test_the_lot_page_costs_the_same_queries_for_2_or_22_events(
        self, admin_client, chain, pickup, django_assert_max_num_queries
    ):
        lot = ship_to_plant(chain, pickup)
        baseline = count_queries(admin_client, lot_page(lot))
        for grams in range(20):
            services.weigh_lot(
                actor=chain.actor(chain.recycler), lot=lot, mass_kg=Decimal("1.9") + grams
            )
        assert lot.events.count() == 23
        with django_assert_max_num_queries(baseline):
            response = admin_client.get(lot_page(lot))
        assert len(response.context["timeline"]) == 23

    def test_the_lot_page_costs_the_same_queries_for_3_or_40_manifest_lines(
        self, admin_client, chain, pickup, django_assert_max_num_queries
    ):
        baseline = count_queries(admin_client, lot_page(pickup))
        big = services.register_pickup(
            actor=chain.actor(chain.source),
            facility=chain.data_center,
            material="hdd",
            mass_kg=Decimal("26.800"),
            assets=drive_manifest(40),
            occurred_at=days_ago(20),
        )
        with django_assert_max_num_queries(baseline):
            response = admin_client.get(lot_page(big))
        content = response.content.decode()
        assert "View all 40 lines of the manifest" in content
        assert "Every drive has a sanitization record." in content
        assets = admin_client.get(response.context["manifest"]["url"])
        assert assets.status_code == 200
        assert assets.context["cl"].result_count == 40
        assert "ZR000039" in assets.content.decode()

    def test_the_timeline_shows_every_event_with_its_hash_chain(self, admin_client, chain, pickup):
        lot = ship_to_plant(chain, pickup, seals_intact=False)
        response = admin_client.get(lot_page(lot))
        content = response.content.decode()
        events = list(lot.events.order_by("seq"))
        assert [row["event"].pk for row in response.context["timeline"]] == [
            event.pk for event in events
        ]
        for event in events:
            assert f'data-kind="{event.kind}"' in content
            assert event_page(event) in content
            assert f'title="{event.hash}"' in content
        assert f'data-hash="{lot.head_hash}"' in content
        assert 'data-chain-ok="true"' in content
        # The receipt reads as a receipt: broken seals, the carrier by name, where it came from.
        received = response.context["timeline"][2]
        assert ("seals", "BROKEN", "bad") in received["summary"]
        dispatched = response.context["timeline"][1]
        assert ("carrier", "Carrier", "") in dispatched["summary"]
        assert "S-1001, S-1002" in content
        assert "from DC Ashburn" in " ".join(content.split())
        # The manifest is summarized, with every drive's sanitization record counted.
        assert "hard disk drive: 3 (3 with a sanitization record)" in content

    def test_a_broken_chain_is_shown_with_its_finding(self, admin_client, chain, pickup):
        Lot.objects.filter(pk=pickup.pk).update(head_seq=2)  # a head no event backs
        response = admin_client.get(lot_page(pickup))
        assert response.context["chain_ok"] is False
        content = response.content.decode()
        assert 'data-chain-ok="false"' in content
        assert "the chain ends at event #1 but the lot&#x27;s head is event #2" in content

    def test_lots_cannot_be_added_changed_or_deleted(self, admin_client, chain, pickup):
        page = admin_client.get(lot_page(pickup)).content.decode()
        assert 'name="_save"' not in page
        assert "deletelink" not in page
        assert reverse("admin:custody_lot_add") not in admin_client.get(LOT_LIST).content.decode()
        assert admin_client.get(reverse("admin:custody_lot_add")).status_code == 403
        response = admin_client.post(lot_page(pickup), {"external_ref": "HACKED"})
        assert response.status_code == 403
        delete = reverse("admin:custody_lot_delete", args=[pickup.pk])
        assert admin_client.post(delete, {"post": "yes"}).status_code == 403
        pickup.refresh_from_db()
        assert pickup.external_ref == ""
        assert Lot.objects.filter(pk=pickup.pk).exists()

    def test_search_by_asset_serial_finds_each_lot_once(self, admin_client, chain, pickup):
        other = new_pickup(chain, 1)  # the same drive serials, in another lot
        response = admin_client.get(LOT_LIST, {"q": "ZR00000"})  # matches 3 assets of each lot
        assert response.status_code == 200
        assert sorted(lot.pk for lot in response.context["cl"].result_list) == sorted(
            [pickup.pk, other.pk]
        )
        assert response.context["cl"].result_count == 2

    def test_filters_by_custodian_country_and_source_facility(self, admin_client, chain, pickup):
        response = admin_client.get(LOT_LIST, {"custodian__country": "US"})
        assert [lot.pk for lot in response.context["cl"].result_list] == [pickup.pk]
        response = admin_client.get(LOT_LIST, {"custodian__country": "MY"})
        assert list(response.context["cl"].result_list) == []
        response = admin_client.get(
            LOT_LIST, {"source_facility__id__exact": str(chain.data_center.pk)}
        )
        assert [lot.pk for lot in response.context["cl"].result_list] == [pickup.pk]


class TestEventPages:
    def test_event_and_asset_lists_cost_no_query_per_row(
        self, admin_client, chain, pickup, django_assert_max_num_queries
    ):
        urls = [
            reverse("admin:custody_custodyevent_changelist"),
            reverse("admin:custody_asset_changelist"),
        ]
        baselines = {url: count_queries(admin_client, url) for url in urls}
        for number in range(1, 5):
            ship_to_plant(chain, new_pickup(chain, number))
        for url in urls:
            with django_assert_max_num_queries(baselines[url]):
                response = admin_client.get(url)
            assert response.context["cl"].result_count > 10

    def test_events_are_read_only_even_for_a_superuser(self, admin_client, chain, pickup):
        event = pickup.events.get()
        response = admin_client.get(event_page(event))
        assert response.status_code == 200
        content = response.content.decode()
        assert 'name="_save"' not in content
        assert "deletelink" not in content
        assert event.hash in content
        assert lot_page(pickup) in content  # links back to its lot
        assert admin_client.post(event_page(event), {"kind": "disposed"}).status_code == 403
        assert admin_client.get(event_page(event, "delete")).status_code == 403
        assert admin_client.post(event_page(event, "delete"), {"post": "yes"}).status_code == 403
        assert admin_client.get(reverse("admin:custody_custodyevent_add")).status_code == 403
        stored = CustodyEvent.objects.get(pk=event.pk)
        assert (stored.kind, stored.hash) == (EventKind.REGISTERED, event.hash)

    def test_the_event_list_offers_no_delete_action(self, admin_client, chain, pickup):
        changelist = reverse("admin:custody_custodyevent_changelist")
        response = admin_client.get(changelist)
        assert response.status_code == 200
        assert "delete_selected" not in response.content.decode()
        event = pickup.events.get()
        response = admin_client.post(
            changelist,
            {"action": "delete_selected", ACTION_CHECKBOX_NAME: [event.pk], "index": 0},
        )
        assert CustodyEvent.objects.filter(pk=event.pk).exists()

    def test_event_detail_shows_json_and_the_corrected_event(self, admin_client, chain, pickup):
        registered = pickup.events.get()
        correction = services.correct_event(
            actor=chain.actor(chain.source),
            lot=pickup,
            corrects=registered,
            reason="scale misread",
            mass_kg=Decimal("2.100"),
        )
        content = admin_client.get(event_page(correction)).content.decode()
        assert event_page(registered) in content
        assert "&quot;reason&quot;: &quot;scale misread&quot;" in content  # pretty JSON
        content = admin_client.get(event_page(registered)).content.decode()
        assert event_page(correction) in content  # "corrected by"

    def test_the_event_list_searches_lot_code_uuid_and_hash(self, admin_client, chain, pickup):
        changelist = reverse("admin:custody_custodyevent_changelist")
        event = pickup.events.get()
        for term in (pickup.code, str(event.uuid), event.hash[:20]):
            response = admin_client.get(changelist, {"q": term})
            assert [found.pk for found in response.context["cl"].result_list] == [event.pk]


class TestQuarantineActions:
    def test_without_an_operator_membership_nothing_happens(
        self, admin_client, admin_user, chain, pickup
    ):
        # A superuser, and a member of a partner organization, but not of the operator.
        MembershipFactory(user=admin_user, organization=chain.recycler)
        response = admin_client.post(
            LOT_LIST, action_post("quarantine_lots", [pickup], reason="suspicious"), follow=True
        )
        assert response.status_code == 200
        assert any("operator organization" in text for text in message_texts(response))
        pickup.refresh_from_db()
        assert pickup.quarantined is False
        assert list(pickup.events.values_list("kind", flat=True)) == [EventKind.REGISTERED]

    def test_the_action_asks_for_a_reason_first(self, admin_client, operator_admin, pickup):
        response = admin_client.post(LOT_LIST, action_post("quarantine_lots", [pickup]))
        assert response.status_code == 200
        assert response.templates[0].name == "admin/custody/lot/action_confirmation.html"
        content = response.content.decode()
        assert pickup.code in content and 'name="reason"' in content
        response = admin_client.post(LOT_LIST, action_post("quarantine_lots", [pickup], reason=" "))
        assert response.status_code == 200
        assert response.context["form"].errors["reason"]
        pickup.refresh_from_db()
        assert pickup.quarantined is False

    def test_quarantine_and_release_go_through_the_services(
        self, admin_client, operator_admin, chain, pickup
    ):
        other = new_pickup(chain, 1)
        response = admin_client.post(
            LOT_LIST,
            action_post("quarantine_lots", [pickup, other], reason="seal mismatch"),
            follow=True,
        )
        assert response.redirect_chain[-1][0].endswith(LOT_LIST)
        for lot in (pickup, other):
            lot.refresh_from_db()
            assert lot.quarantined is True
            event = lot.events.get(kind=EventKind.QUARANTINED)
            assert event.actor_organization == chain.operator
            assert event.actor_user == operator_admin
            assert event.details["reason"] == "seal mismatch"
            assert lot.head_hash == event.hash
        assert any("2 lots quarantined" in text for text in message_texts(response))

        # A lot already quarantined is reported by its error code; the others still go through.
        services.release_lot(actor=chain.actor(chain.operator), lot=other, reason="cleared")
        response = admin_client.post(
            LOT_LIST, action_post("quarantine_lots", [pickup, other], reason="again"), follow=True
        )
        texts = message_texts(response)
        assert any(pickup.code in text and "(lot_quarantined)" in text for text in texts)
        assert any(f"1 lot quarantined: {other.code}" in text for text in texts)

        response = admin_client.post(
            LOT_LIST, action_post("release_lots", [pickup], reason="inspected"), follow=True
        )
        pickup.refresh_from_db()
        assert pickup.quarantined is False
        assert pickup.events.order_by("-seq").first().kind == EventKind.RELEASED


class TestPartnerPages:
    def test_list_pages_render_without_a_query_per_row(
        self, admin_client, chain, django_assert_max_num_queries
    ):
        CertificationFactory(facility=chain.plant)
        urls = [
            reverse(f"admin:recyclers_{name}_changelist")
            for name in ("organization", "facility", "certification", "membership")
        ]
        baselines = {url: count_queries(admin_client, url) for url in urls}
        for number in range(5):
            CertificationFactory(facility=chain.buyer_plant, number=f"R2-X{number}")
            MembershipFactory(organization=chain.recycler)
        for url in urls:
            with django_assert_max_num_queries(baselines[url]):
                assert admin_client.get(url).status_code == 200

    def test_facilities_count_valid_certifications(self, admin_client, chain):
        CertificationFactory(facility=chain.plant)
        CertificationFactory(facility=chain.plant, status=CertificationStatus.SUSPENDED)
        CertificationFactory(
            facility=chain.plant, valid_from=days_ago(800).date(), valid_until=days_ago(400).date()
        )
        response = admin_client.get(reverse("admin:recyclers_facility_changelist"))
        counts = {f.pk: f.valid_certification_count for f in response.context["cl"].result_list}
        assert counts[chain.plant.pk] == 1
        assert counts[chain.data_center.pk] == 0

    def test_organization_form_edits_roles_with_checkboxes(self, admin_client, chain):
        url = reverse("admin:recyclers_organization_change", args=[chain.recycler.pk])
        content = admin_client.get(url).content.decode()
        assert 'type="checkbox" name="roles"' in content
        assert "Knoxville plant" in content  # the facilities inline


def test_the_lot_page_flags_drives_without_a_sanitization_record(admin_client, chain):
    lot = services.register_pickup(
        actor=chain.actor(chain.source),
        facility=chain.data_center,
        material="hdd",
        mass_kg=Decimal("1.340"),
        assets=[*drive_manifest(1), services.AssetLine(category="hdd_2_5", serial="NOWIPE")],
    )
    content = admin_client.get(lot_page(lot)).content.decode()
    assert "1 drive without a sanitization record." in content
    assert "hard disk drive: 1 (0 with a sanitization record)" in content


def test_the_lot_page_shows_parents_children_and_contributions_by_data_center(
    admin_client, diamond
):
    content = admin_client.get(lot_page(diamond["f"])).content.decode()
    text = " ".join(content.split())
    assert f"{diamond['m'].code}</a> Shredded HDD: <strong>2.500 kg</strong>" in text
    assert f"{diamond['s2'].code}</a> Hard disk drives: <strong>2.000 kg</strong>" in text
    assert "Contributions by data center (2 pickups upstream)" in text
    assert 'DC Ashburn (US)</a></td><td class="num">77.78%</td><td class="num">3.500 kg' in text
    middle = " ".join(admin_client.get(lot_page(diamond["m"])).content.decode().split())
    assert f"{diamond['f'].code}</a> NdFeB magnets: <strong>2.500 kg</strong>" in middle


def test_the_transformation_page_lists_its_links_and_loss(admin_client, diamond):
    from custody.models import Transformation

    merge_into_f = Transformation.objects.get(links__child=diamond["f"], links__parent=diamond["m"])
    page = admin_client.get(f"/admin/custody/transformation/{merge_into_f.pk}/change/")
    text = " ".join(page.content.decode().split())
    assert page.status_code == 200
    assert f"{diamond['m'].code}</a> &rarr;" in text
    assert "Save" not in text


class TestVerdictInTheAdmin:
    def test_the_lot_page_shows_the_verdict_and_links_each_finding_to_its_event(
        self, admin_client, chain, pickup
    ):
        lot = ship_to_plant(chain, pickup, seals_intact=False)
        content = admin_client.get(lot_page(lot)).content.decode()
        assert 'data-outcome="non_compliant"' in content
        receipt = lot.events.get(kind="received")
        assert 'data-code="seal_broken"' in content
        assert f'<a href="{event_page(receipt)}">{lot.code}#{receipt.seq}</a>' in content
        assert "US domestic (DFARS 252.225-7052, 2027) (version 1)" in content

    def test_the_lot_list_filters_by_stored_verdict(self, admin_client, chain, pickup):
        broken = ship_to_plant(chain, new_pickup(chain, 7), seals_intact=False)
        call_command("assess", pickup.code, stdout=StringIO())
        call_command("assess", broken.code, stdout=StringIO())
        listed = admin_client.get(LOT_LIST, {"verdict__outcome": "non_compliant"})
        assert [lot.code for lot in listed.context["cl"].result_list] == [broken.code]
        assert "NON-COMPLIANT" in listed.content.decode().upper()

    def test_saving_a_policy_with_a_changed_window_bumps_its_version(self, admin_client):
        policy = OriginPolicy.objects.get(is_default=True)
        page = admin_client.get(f"/admin/custody/originpolicy/{policy.pk}/change/")
        form = page.context["adminform"].form
        data = {name: value for name, value in form.initial.items() if value is not None}
        data["allowed_countries"] = ["US", "CA"]
        data["denied_countries"] = ["CN", "RU", "KP", "IR"]
        for formset in page.context["inline_admin_formsets"]:
            management = formset.formset.management_form
            for field in management:
                data[field.html_name] = field.value()
            for index, inline in enumerate(formset.formset.forms):
                for name, field in inline.fields.items():
                    value = inline.initial.get(name, field.initial)
                    if value is not None:
                        data[f"{inline.prefix}-{name}"] = value
                data[f"{formset.formset.prefix}-{index}-policy"] = policy.pk
        response = admin_client.post(f"/admin/custody/originpolicy/{policy.pk}/change/", data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        policy.refresh_from_db()
        assert policy.version == 2
        assert [str(c) for c in policy.allowed_countries] == ["CA", "US"]
