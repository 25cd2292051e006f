"""The public pages of certificates of origin: ``/verify/<id>`` (HTML, no login, no script, no
CDN), the credential itself (``credential.jwt``), the ledger export it names (``ledger.csv``),
and the platform's DID document (``/.well-known/did.json``) that publishes the key the
credentials are signed with.

Each page shows only what the certificate states, checked against today's ledger. The ledger
export is public like the page: its link is in the credential, so anyone the requesting
organization hands the certificate to can check its ``hashDigest``; it holds no more than the
requesting organization may know (``selectors.certificates.ledger``)."""

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from .errors import PROBLEM_JSON, DomainError, problem_body
from .selectors import credential_key
from .selectors.certificates import certificate_status, issued_ledger_csv
from .selectors.reports import certificate_named

DID_JSON = "application/did+json"
VC_JWT = "application/vc+jwt"


def _certificate(certificate_id):
    certificate = certificate_named(certificate_id)
    if certificate is None:
        raise Http404("No such certificate.")
    return certificate


@require_safe
def did_json(request):
    return JsonResponse(credential_key.did_document(), content_type=DID_JSON)


@require_safe
def verify_page(request, certificate_id):
    certificate = _certificate(certificate_id)
    status = certificate_status(certificate)
    statement = status.statement or {}
    subject = statement.get("credentialSubject", {})
    context = {
        "certificate": certificate,
        "status": status,
        "statement": statement,
        "product": subject.get("product", {}),
        "materials": subject.get("materialsProvenance", []),
        "claim": (subject.get("conformityClaim") or [{}])[0],
        "link": _secure_link(subject),
        "commitment": subject.get("ledgerCommitment", {}),
        "superseded_by_url": credential_key.verify_url(status.superseded_by)
        if status.superseded_by
        else "",
        "did_url": f"{credential_key.base_url()}/.well-known/did.json",
    }
    return render(request, "custody/verify.html", context)


def _secure_link(subject: dict) -> dict:
    for information in subject.get("traceabilityInformation", []):
        for event in information.get("traceabilityEvent", []):
            return event
    return {}


@require_safe
def credential_jwt(request, certificate_id):
    certificate = _certificate(certificate_id)
    response = HttpResponse(certificate.token, content_type=VC_JWT)
    response["Content-Disposition"] = f'inline; filename="certificate-{certificate.id}.jwt"'
    return response


@require_safe
def ledger_csv(request, certificate_id):
    """The export the credential's ``SecureLink`` names, byte for byte; a 409 if today's
    ledger no longer gives those bytes (the verification page says why)."""
    certificate = _certificate(certificate_id)
    try:
        data = issued_ledger_csv(certificate)
    except DomainError as error:
        return JsonResponse(
            problem_body(error.http_status, error.code, error.message),
            status=error.http_status,
            content_type=PROBLEM_JSON,
        )
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ledger-{certificate.lot.code}.csv"'
    response["ETag"] = f'"{certificate.ledger_sha256}"'
    return response
