from django.contrib import admin
from django.db import connection
from django.http import JsonResponse
from django.urls import include, path
from django.views.defaults import page_not_found
from django.views.generic import RedirectView


def healthz(request):
    """Liveness and readiness in one: the process answers and the database does too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


admin.site.site_header = "Rare-earth custody ledger"
admin.site.site_title = "Custody ledger"
admin.site.index_title = "Operations"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
]


def not_found(request, exception=None):
    """API paths answer with a problem document, even when no route matches."""
    if request.path.startswith("/api/"):
        body = {
            "type": "https://ledger.example/problems/not_found",
            "title": "Not found",
            "status": 404,
            "detail": "No such resource.",
            "code": "not_found",
        }
        return JsonResponse(body, status=404, content_type="application/problem+json")
    return page_not_found(request, exception)


handler404 = not_found
