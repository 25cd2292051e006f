"""The public pages of certificates of origin: ``/verify/<id>`` (HTML, no login, no script, no
CDN), the credential itself (``credential.jwt``), the ledger export it names (``ledger.csv``),
and the platform's DID document (``/.well-known/did.json``) that publishes the key the
credentials are signed with.

Each page shows only what the certificate states, checked against today's ledger. The ledger
export is public like the page: its link is in the credential, so anyone the requesting
organization hands the certificate to can check its ``hashDigest``; it holds no more than the
requesting organization may know (``selectors.certificates.ledger``). The certificate's pages
are DRF views only for their budget per address (``throttle_scope``): the page and the export
read the certificate's whole upstream ledger again on every request."""

from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe
from rest_framework.permissions import AllowAny
from rest_framework.renderers import TemplateHTMLRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

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


class PublicCertificateView(APIView):
    """Anyone may read; each address within the ``verification`` budget."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "verification"
    schema = None  # pages, not API operations


class PageRenderer(TemplateHTMLRenderer):
    exception_template_names = ["custody/verify_error.html"]


class VerifyPage(PublicCertificateView):
    renderer_classes = [PageRenderer]

    def handle_exception(self, exc):
        """The problem document, as a page for the person who opened the link."""
        response = super().handle_exception(exc)
        response.content_type = None  # the renderer's text/html
        return response

    def get(self, request, certificate_id):
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
        return Response(context, template_name="custody/verify.html")


def _secure_link(subject: dict) -> dict:
    for information in subject.get("traceabilityInformation", []):
        for event in information.get("traceabilityEvent", []):
            return event
    return {}


class CredentialJwt(PublicCertificateView):
    def get(self, request, certificate_id):
        certificate = _certificate(certificate_id)
        response = HttpResponse(certificate.token, content_type=VC_JWT)
        response["Content-Disposition"] = f'inline; filename="certificate-{certificate.id}.jwt"'
        return response


class LedgerCsv(PublicCertificateView):
    def get(self, request, certificate_id):
        """The export the credential's ``SecureLink`` names, byte for byte; a 409 if today's
        ledger no longer gives those bytes (the verification page says why)."""
        certificate = _certificate(certificate_id)
        data = issued_ledger_csv(certificate)  # a DomainError is the API's problem document
        response = HttpResponse(data, content_type="text/csv; charset=utf-8")
        disposition = f'attachment; filename="ledger-{certificate.lot.code}.csv"'
        response["Content-Disposition"] = disposition
        response["ETag"] = f'"{certificate.ledger_sha256}"'
        return response
