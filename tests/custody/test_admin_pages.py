"""The other ledger pages (events, transformations, origin policies) and the partner pages:
read-only where the services write, and no query per row."""

from decimal import Decimal

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from custody import services
from custody.models import CustodyEvent, EventKind, OriginPolicy, Transformation
from recyclers.models import CertificationStatus

from ..conftest import days_ago
from ..factories import CertificationFactory, MembershipFactory
from .admin_pages import count_queries, event_page, lot_page, new_pickup, ship_to_plant


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


def test_the_transformation_page_lists_its_links_and_loss(admin_client, diamond):
    merge_into_f = Transformation.objects.get(links__child=diamond["f"], links__parent=diamond["m"])
    page = admin_client.get(f"/admin/custody/transformation/{merge_into_f.pk}/change/")
    text = " ".join(page.content.decode().split())
    assert page.status_code == 200
    assert f"{diamond['m'].code}</a> &rarr;" in text
    assert "Save" not in text


def policy_form_data(admin_client, policy: OriginPolicy) -> dict:
    """What the policy's change page posts when saved as it stands."""
    page = admin_client.get(f"/admin/custody/originpolicy/{policy.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data["allowed_countries"] = [str(code) for code in policy.allowed_countries]
    data["denied_countries"] = [str(code) for code in policy.denied_countries]
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
    return data


class TestPolicyPages:
    def test_saving_a_policy_with_a_changed_window_bumps_its_version(self, admin_client):
        policy = OriginPolicy.objects.get(is_default=True)
        data = policy_form_data(admin_client, policy)
        data["allowed_countries"] = ["US", "CA"]
        data["denied_countries"] = ["CN", "RU", "KP", "IR"]
        response = admin_client.post(f"/admin/custody/originpolicy/{policy.pk}/change/", data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        policy.refresh_from_db()
        assert policy.version == 2
        assert [str(c) for c in policy.allowed_countries] == ["CA", "US"]

    def test_the_policy_page_lists_its_versions_with_who_when_and_what_changed(self, admin_client):
        policy = OriginPolicy.objects.get(is_default=True)
        url = f"/admin/custody/originpolicy/{policy.pk}/change/"
        data = policy_form_data(admin_client, policy)
        data["denied_countries"] = ["CN", "RU", "KP", "IR", "MY"]
        data["max_transit_days"] = 10
        assert admin_client.post(url, data).status_code == 302
        unchanged = policy_form_data(admin_client, OriginPolicy.objects.get(pk=policy.pk))
        assert admin_client.post(url, unchanged).status_code == 302  # no third version

        page = admin_client.get(url)
        inline = page.context["inline_admin_formsets"][-1]
        assert not (inline.has_add_permission or inline.has_change_permission)
        assert not inline.has_delete_permission
        versions = inline.formset
        assert [form.instance.number for form in versions.forms] == [2, 1]
        assert [
            form.instance.saved_by and form.instance.saved_by.username for form in versions.forms
        ] == ["admin", None]
        text = page.content.decode()
        assert "denied_countries: +MY" in text
        assert "max_transit_days: 14 -&gt; 10" in text
        assert "first version" in text
        assert 'name="versions-0-number"' not in text  # read-only: shown, never posted
        assert 'name="slug"' not in text  # the slug names the versions: fixed


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
