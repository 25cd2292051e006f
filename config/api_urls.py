from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from custody.api.acceptances import CertificationAcceptanceViewSet
from custody.api.events import EventFeed
from custody.api.log import ConsistencyProofView, InclusionProofView, LatestCheckpoint
from custody.api.lots import LotViewSet
from custody.api.reports import DOWNLOAD, ReportViewSet
from custody.api.transformations import TransformationCreate
from custody.api.verification import CertificateVerification
from custody.api.webhooks import WebhookSubscriptionViewSet
from recyclers.api.views import CertificationViewSet, FacilityViewSet, OrganizationViewSet

router = DefaultRouter()
router.register("organizations", OrganizationViewSet)
router.register("facilities", FacilityViewSet)
router.register("certifications", CertificationViewSet)
router.register("lots", LotViewSet, basename="lot")
router.register("reports", ReportViewSet, basename="report")
router.register("webhooks", WebhookSubscriptionViewSet, basename="webhook")
router.register(
    "certification-acceptances",
    CertificationAcceptanceViewSet,
    basename="certification-acceptance",
)

urlpatterns = [
    path("v1/reports/<str:pk>/download", DOWNLOAD, name="report-download"),
    path("v1/", include(router.urls)),
    path("v1/events/", EventFeed.as_view(), name="event-feed"),
    path("v1/log/checkpoint", LatestCheckpoint.as_view(), name="log-checkpoint"),
    path("v1/log/proof/inclusion", InclusionProofView.as_view(), name="log-inclusion-proof"),
    path("v1/log/proof/consistency", ConsistencyProofView.as_view(), name="log-consistency"),
    path(
        "v1/verify/<str:certificate_id>",
        CertificateVerification.as_view(),
        name="verify-certificate-json",
    ),
    path("v1/transformations/", TransformationCreate.as_view(), name="transformations"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
