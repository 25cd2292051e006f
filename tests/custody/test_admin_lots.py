"""The lot list and the lot page: the timeline with its hash chain, the manifest, the genealogy
and the verdict, read through ``custody.selectors.lot_page``; opening the page writes nothing."""

from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from custody import services
from custody.models import Lot, LotVerdict
from custody.selectors.lot_page import lot_page as read_lot_page
from custody.services.stored_verdicts import reassess_lot

from ..conftest import days_ago, drive_manifest
from .admin_pages import (
    LOT_LIST,
    count_queries,
    event_page,
    lot_page,
    new_pickup,
    ship_to_plant,
)


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


def _writes(queries) -> list[str]:
    return [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]


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

    def test_opening_the_lot_page_writes_nothing(self, admin_client, chain, pickup):
        """The page assesses the lot for itself; the stored verdict (list badge and filter)
        is left to the hourly task and the "Reassess" action."""
        lot = ship_to_plant(chain, pickup, seals_intact=False)
        with CaptureQueriesContext(connection) as queries:
            content = admin_client.get(lot_page(lot)).content.decode()
        assert 'data-outcome="non_compliant"' in content
        assert _writes(queries) == []
        assert not LotVerdict.objects.exists()

        reassess_lot(lot=lot)  # a stored verdict, then a change it has not seen
        stored = list(LotVerdict.objects.values())
        services.weigh_lot(actor=chain.actor(chain.recycler), lot=lot, mass_kg=Decimal("1.980"))
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(lot_page(lot)).status_code == 200
        assert _writes(queries) == []
        assert list(LotVerdict.objects.values()) == stored

    def test_the_lot_list_filters_by_stored_verdict(self, admin_client, chain, pickup):
        broken = ship_to_plant(chain, new_pickup(chain, 7), seals_intact=False)
        call_command("assess", pickup.code, stdout=StringIO())
        call_command("assess", broken.code, stdout=StringIO())
        listed = admin_client.get(LOT_LIST, {"verdict__outcome": "non_compliant"})
        assert [lot.code for lot in listed.context["cl"].result_list] == [broken.code]
        assert "NON-COMPLIANT" in listed.content.decode().upper()


class TestLotPageSelector:
    def test_it_returns_what_the_page_shows(self, admin_client, chain, pickup):
        lot = ship_to_plant(chain, pickup, seals_intact=False)
        page = read_lot_page(lot)
        events = list(lot.events.order_by("seq"))
        receipt = lot.events.get(kind="received")

        assert [event.pk for event in page.events] == [event.pk for event in events]
        assert page.carriers == {chain.carrier.slug: chain.carrier}  # as the dispatch names it
        assert page.chain.ok is True
        assert page.chain.events == 3
        assert page.verdict.outcome == "non_compliant"
        seal = next(f for f in page.verdict.findings if f.code == "seal_broken")
        assert page.finding_event_pk(seal) == receipt.pk
        assert (page.manifest.lines, page.manifest.drives, page.manifest.unsanitized_drives) == (
            3,
            3,
            0,
        )
        assert (page.genealogy.parents, page.genealogy.children) == ([], [])
        assert page.genealogy.contributions is None
        assert not LotVerdict.objects.exists()  # assessed, not stored

        context = admin_client.get(lot_page(lot)).context
        assert context["verdict"]["verdict"].outcome == page.verdict.outcome
        assert [row["finding"] for row in context["verdict"]["findings"]] == page.verdict.findings
        assert context["chain_ok"] is page.chain.ok
        assert context["chain_events"] == page.chain.events
        assert [row["event"].pk for row in context["timeline"]] == [e.pk for e in page.events]

    def test_it_reads_the_direct_genealogy_and_the_shares_by_data_center(self, diamond):
        page = read_lot_page(diamond["f"])
        assert [(link.lot, link.mass_kg) for link in page.genealogy.parents] == [
            (diamond["s2"], Decimal("2.000")),
            (diamond["m"], Decimal("2.500")),
        ]
        assert all(link.transformation.pk for link in page.genealogy.parents)
        assert page.genealogy.children == []
        shares = {
            row.facility.name: row.percent for row in page.genealogy.contributions.data_centers
        }
        assert round(shares["DC Ashburn"], 2) == 77.78
        assert len(page.genealogy.contributions.pickups) == 2
        assert [link.lot for link in read_lot_page(diamond["m"]).genealogy.children] == [
            diamond["f"]
        ]
