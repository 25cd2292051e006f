"""Certificates in the operator admin, in a real browser (headless Chromium, as
``test_admin_browser``): issue a certificate from the lot list, follow its report to a
download link, and revoke the certificate with a reason the public page then shows."""

import pytest

from custody.models import Certificate, CertificateAct, Report
from recyclers.models import Membership

from .test_admin_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    _orm_beside_playwright,
    log_in,
    page,
    received_lot,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_operator_issues_a_certificate_downloads_it_and_revokes_it(
    page,  # noqa: F811
    admin_user,
    chain,
    received_lot,  # noqa: F811
):
    lot = received_lot
    Membership.objects.create(user=admin_user, organization=chain.operator)
    log_in(page, admin_user)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    page.goto("/admin/custody/lot/")
    page.check(f'input[name="_selected_action"][value="{lot.pk}"]')
    page.select_option("select[name=action]", "issue_certificates")
    with page.expect_navigation():
        page.click("button[name=index]")
    message = page.locator(".messagelist")
    assert f"Certificate of {lot.code} requested" in message.inner_text()

    # The report ran once the request committed (eager tasks): done, with its file.
    message.get_by_role("link", name="its report").click()
    report = Report.objects.get()
    page.wait_for_url(f"**/admin/custody/report/{report.pk}/change/")
    content = page.locator("#content-main").inner_text()
    assert "Done" in content and report.sha256 in content
    link = page.locator("a.report-download")
    assert link.inner_text() == f"certificate-{lot.code}.pdf"
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"certificate-{lot.code}.pdf"

    page.goto("/admin/custody/report/")
    row = page.locator("#result_list tbody tr").first
    assert row.locator("progress").get_attribute("value") == "100"
    assert row.locator("a.report-download").count() == 1
    page.screenshot(path=str(ARTIFACTS / "admin-reports.png"), full_page=True)

    certificate = Certificate.objects.get()
    page.goto("/admin/custody/certificate/")
    page.check(f'input[name="_selected_action"][value="{certificate.pk}"]')
    page.select_option("select[name=action]", "revoke_certificates")
    page.click("button[name=index]")
    reason = page.locator("textarea[name=reason]")
    reason.wait_for()
    submit = page.get_by_role("button", name="Revoke 1 certificate")
    submit.click()  # no reason: the browser refuses to submit
    assert reason.evaluate("field => field.validity.valueMissing") is True
    assert not CertificateAct.objects.exists()
    reason.fill("Issued against the wrong delivery.")
    with page.expect_navigation():
        submit.click()
    assert f"Certificate {certificate.pk} revoked" in page.locator(".messagelist").inner_text()
    act = CertificateAct.objects.get()
    assert (act.action, act.acted_by, act.reason) == (
        "revoked",
        admin_user,
        "Issued against the wrong delivery.",
    )

    page.goto(f"/admin/custody/certificate/{certificate.pk}/change/")
    assert "Issued against the wrong delivery." in page.locator(".certificate-act").inner_text()
    verify = page.locator("a.verify-link").get_attribute("href")
    assert verify.endswith(f"/verify/{certificate.pk}")
    page.goto(f"/verify/{certificate.pk}")
    assert page.locator("#verdict").get_attribute("data-verdict") == "revoked"
    assert "Issued against the wrong delivery." in page.locator("#verdict").inner_text()
    page.screenshot(path=str(ARTIFACTS / "verify-revoked.png"), full_page=True)
