from django.contrib import admin
from django.db import connection
from django.http import JsonResponse
from django.urls import include, path
from django.views.generic import RedirectView

from custody import pages
from custody.api import errors
from custody.api.log import log_public_key


def healthz(request):
    """Liveness and readiness in one: the process answers and the database does too. A
    database that cannot be reached is a 503 problem document, for load balancers and probes
    alike."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except errors.DATABASE_ERRORS as exc:
        return errors.problem_page(*errors.database_unavailable(exc))
    return JsonResponse({"status": "ok"})


admin.site.site_header = "Rare-earth custody ledger"
admin.site.site_title = "Custody ledger"
admin.site.index_title = "Operations"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path(".well-known/ledger-log-key", log_public_key, name="log-public-key"),
    path(".well-known/did.json", pages.did_json, name="did-json"),
    path("verify/<str:certificate_id>", pages.VerifyPage.as_view(), name="verify-certificate"),
    path(
        "verify/<str:certificate_id>/credential.jwt",
        pages.CredentialJwt.as_view(),
        name="verify-credential",
    ),
    path(
        "verify/<str:certificate_id>/ledger.csv",
        pages.LedgerCsv.as_view(),
        name="verify-ledger-csv",
    ),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
]

# Under /api/ every error page is a problem document (custody/api/errors.py), whatever failed.
handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.not_found
handler500 = errors.server_error
