"""``/verify/{id}``: what the public verification page says of a certificate, as JSON. No API
key (anyone holding a certificate checks it), throttled per address like the other public
reads; a certificate id is a random UUID, and a malformed one is a 404 like an unknown one."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ..selectors.certificates import certificate_status
from ..selectors.reports import certificate_named


class CertificateVerification(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "verification"

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, operation_id="verify_certificate", auth=[])
    def get(self, request, certificate_id):
        """The certificate's statement (its credential), whether its signature verifies with
        the DID document's key, whether it was revoked or superseded (reason, date, successor),
        whether today's ledger still gives its Merkle root (`ledger_matches`, else
        `ledger_problem`: "ledger mismatch: ..."), whether today's log is consistent with its
        checkpoint, whether the ledger has moved on since (`moved_on_reasons`), and `verdict`:
        one of `valid`, `revoked`, `superseded`, `invalid signature`, `ledger mismatch`, `log
        inconsistent`."""
        certificate = certificate_named(certificate_id)
        if certificate is None:
            raise NotFound()
        return Response(certificate_status(certificate).as_dict())
