from django.contrib import admin
from django.urls import include, path

from config.api import api
from govcrm.common.views import healthz

# A database outage met outside a view (a middleware) is a 503 in the caller's format, not a 500.
handler500 = "govcrm.common.outage.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("console/topics/", include("govcrm.topics.urls")),
    path("console/incidents/", include("govcrm.incidents.urls")),
    path("console/identity/", include("govcrm.identity.urls")),
    path("console/mining/", include("govcrm.mining.urls")),
    path("console/dispatch/", include("govcrm.intelligence.urls")),
    path("console/knowledge/", include("govcrm.knowledge.urls")),
    path("console/reports/", include("govcrm.reports.urls")),
    path("console/integration/", include("govcrm.integration.urls")),
    path("console/applications/", include("govcrm.services.console_urls")),
    path("console/personal/", include("govcrm.personal.urls")),
    path("console/", include("govcrm.console.urls")),
    path("dashboards/", include("govcrm.analytics.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("open311/v2/", include("govcrm.channels.open311.urls")),
    path("channels/", include("govcrm.channels.urls")),
    path("help/", include("govcrm.knowledge.portal_urls")),
    path("services/", include("govcrm.services.portal_urls")),
    path("for-you/", include("govcrm.personal.portal_urls")),
    path("", include("govcrm.channels.portal.urls")),
]
