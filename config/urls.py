from django.contrib import admin
from django.urls import include, path

from config.api import api
from govcrm.common.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("console/topics/", include("govcrm.topics.urls")),
    path("console/dispatch/", include("govcrm.intelligence.urls")),
    path("console/", include("govcrm.console.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("open311/v2/", include("govcrm.channels.open311.urls")),
    path("channels/", include("govcrm.channels.urls")),
    path("", include("govcrm.channels.portal.urls")),
]
