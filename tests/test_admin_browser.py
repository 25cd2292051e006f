"""The operator admin in a real browser: headless Chromium (Debian's) driven by Playwright.

Skipped with a reason when Chromium or Playwright is missing, unless ``REQUIRE_BROWSER=1``
(CI), where a missing browser is a failure.
"""

import os
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections

from custody.demo import data as demo_data
from custody.models import EventKind, Lot
from recyclers.models import Membership

from .conftest import REQUIRE_BROWSER, days_ago, ship

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path("/tmp/lot_timeline.png")
# Screenshots CI keeps as artifacts (.ci/run says where); ARTIFACTS_DIR overrides the folder.
ARTIFACTS = Path(os.environ.get("ARTIFACTS_DIR") or Path(__file__).parents[1] / "artifacts")
PASSWORD = "password"  # pytest-django's admin_user


def _missing_browser() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch):
    """Playwright's sync API keeps an event loop in this thread; Django would then refuse the
    ORM calls the test makes between browser steps. Allow them for this module's tests only."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def page(live_server, settings):
    missing = _missing_browser()
    if missing:
        if REQUIRE_BROWSER:
            pytest.fail(f"REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    # Production cookies are Secure-only and the live server speaks plain HTTP: Chromium lets
    # that pass on localhost only, so do not depend on the address the server listens on.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1500, "height": 1000}
        )
        context.set_default_timeout(15_000)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
            # While Playwright's loop runs, Django keeps this thread's database connections in
            # context-local storage: close them here, or they outlive the test unseen.
            connections.close_all()


@pytest.fixture
def received_lot(chain, pickup) -> Lot:
    """The pickup, dispatched to the recycler's plant and received there with a broken seal."""
    return ship(
        chain,
        pickup,
        measured_kg=Decimal("1.985"),
        seals_intact=False,
        carrier=chain.carrier,
        seal_numbers=["S-77"],
        dispatched_at=days_ago(19),
        received_at=days_ago(18),
    )


def log_in(page, user) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    assert page.locator("#user-tools").inner_text().upper().startswith("WELCOME")


def test_the_operator_reads_a_lot_its_timeline_and_events_but_cannot_edit(
    page, admin_user, received_lot
):
    lot = received_lot
    events = list(lot.events.order_by("seq"))
    assert [event.kind for event in events] == ["registered", "dispatched", "received"]
    log_in(page, admin_user)

    page.goto("/admin/custody/lot/")
    assert page.locator("#result_list").get_by_text(lot.code, exact=True).is_visible()
    assert page.get_by_text("Add lot").count() == 0
    assert page.locator("#content-main a.addlink").count() == 0  # the sidebar has other models'
    assert page.locator('a[href$="/admin/custody/lot/add/"]').count() == 0

    page.locator("#result_list").get_by_role("link", name=lot.code).click()
    page.wait_for_url(f"**/admin/custody/lot/{lot.pk}/change/")
    timeline = page.locator("#ledger-timeline")
    rows = timeline.locator("tbody tr[data-kind]")
    assert rows.count() == len(events)
    for row, event in zip(rows.all(), events, strict=True):
        assert row.get_attribute("data-kind") == event.kind
        assert row.locator(".kind-badge").inner_text().lower() == event.kind
        assert row.locator(f'[title="{event.hash}"]').count() == 1
    last = events[-1]
    assert lot.head_hash == last.hash
    head = timeline.locator(f'code[data-hash="{last.hash}"]')
    assert head.get_attribute("title") == last.hash
    assert head.inner_text().rstrip("…") == last.hash[:12]
    assert "Chain verified: 3 events" in timeline.locator("#chain-status").inner_text()
    assert "BROKEN" in rows.nth(2).inner_text()
    assert "Carrier" in rows.nth(1).inner_text()
    # Nothing on the page changes the lot.
    assert page.locator("a.deletelink").count() == 0
    assert page.get_by_role("link", name="Delete").count() == 0
    assert page.get_by_role("button", name="Delete").count() == 0
    assert page.locator("input[name=_save]").count() == 0
    assert page.locator("input[type=submit][value=Save]").count() == 0
    timeline.screenshot(path=str(SCREENSHOT))

    rows.nth(2).locator("a.seq-link").click()
    page.wait_for_url(f"**/admin/custody/custodyevent/{last.pk}/change/")
    assert last.hash in page.locator("#content-main").inner_text()
    assert page.locator("input[type=submit]").count() == 0
    assert page.get_by_role("button", name="Save").count() == 0
    assert page.locator("a.deletelink").count() == 0
    page.get_by_role("link", name=lot.code).first.click()
    page.wait_for_url(f"**/admin/custody/lot/{lot.pk}/change/")


def test_the_operator_quarantines_a_lot_with_a_reason(page, admin_user, chain, received_lot):
    lot = received_lot
    Membership.objects.create(user=admin_user, organization=chain.operator)
    log_in(page, admin_user)

    page.goto("/admin/custody/lot/")
    page.check(f'input[name="_selected_action"][value="{lot.pk}"]')
    page.select_option("select[name=action]", "quarantine_lots")
    page.click("button[name=index]")

    # The intermediate page: the lot, and a reason that must be given.
    reason = page.locator("textarea[name=reason]")
    reason.wait_for()
    assert lot.code in page.locator("#content-main").inner_text()
    submit = page.get_by_role("button", name="Quarantine 1 lot")
    submit.click()  # no reason: the browser refuses to submit
    assert reason.evaluate("field => field.validity.valueMissing") is True
    assert page.locator(".messagelist").count() == 0
    lot.refresh_from_db()
    assert lot.quarantined is False

    reason.fill("Seal S-77 broken on arrival; holding for inspection.")
    with page.expect_navigation():
        submit.click()
    assert page.url.endswith("/admin/custody/lot/")
    assert "1 lot quarantined" in page.locator(".messagelist").inner_text()
    lot.refresh_from_db()
    assert lot.quarantined is True
    event = lot.events.get(kind=EventKind.QUARANTINED)
    assert event.seq == 4
    assert (event.actor_organization, event.actor_user) == (chain.operator, admin_user)
    assert event.details["reason"] == "Seal S-77 broken on arrival; holding for inspection."
    assert lot.head_hash == event.hash

    page.goto(f"/admin/custody/lot/{lot.pk}/change/")
    row = page.locator('#ledger-timeline tr[data-kind="quarantined"]')
    assert "holding for inspection" in row.inner_text()
    assert row.locator(f'code[data-hash="{event.hash}"]').count() == 1


def test_the_lot_list_fits_a_1440_pixel_screen_with_the_demo(page):
    """Where each lot is, at a glance: code, material, mass, status, verdict and where it stands
    (custodian, or in transit to its destination), with the filters beside, and no horizontal
    scrolling at 1440 x 900, on the demo's own lots."""
    call_command("seed_demo", "--force", stdout=StringIO())
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/admin/login/?next=/admin/custody/lot/")
    page.fill("#id_username", demo_data.ADMIN_USERNAME)
    page.fill("#id_password", demo_data.ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/custody/lot/")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-lot-list.png"), full_page=True)
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 1440, f"the lot list is {width} px wide at a 1440 px viewport"
    # The admin scrolls a wide table inside its own box: that must not happen either.
    table = page.evaluate(
        "(() => { const box = document.querySelector('#changelist .results');"
        " return [box.scrollWidth, box.clientWidth]; })()"
    )
    assert table[0] <= table[1], f"the table is {table[0]} px wide in a {table[1]} px box"
    last_column = page.locator("#result_list thead th").last.bounding_box()
    assert last_column["x"] + last_column["width"] <= 1440

    rows = page.locator("#result_list tbody tr")
    assert rows.count() == Lot.objects.count()
    headers = [
        text.strip().lower() for text in page.locator("#result_list thead th").all_inner_texts()
    ]
    assert headers == ["", "code", "material", "mass kg", "status", "verdict", "where"]
    assert page.locator("#changelist-filter").is_visible()
    for title in ("verdict", "status", "material", "quarantined", "custodian country"):
        assert page.locator("#changelist-filter").get_by_text(f"By {title}").count() == 1

    in_transit = Lot.objects.filter(status="in_transit").select_related("destination").first()
    row = rows.filter(has_text=in_transit.code)
    assert f"in transit to {in_transit.destination.name}" in row.inner_text()
    quarantined = Lot.objects.get(quarantined=True)
    assert "QUARANTINED" in rows.filter(has_text=quarantined.code).inner_text()
