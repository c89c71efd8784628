"""/open311/v2/ — GeoReport v2 and mySociety's servicerequestupdates; every resource ends in .xml or .json.

Service codes are category codes and contain dots (urban.roads.pothole), so the format is the
text after the last dot.
"""

from django.urls import path, re_path

from . import views

app_name = "open311"
FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

urlpatterns = [
    path("", views.not_found, name="base"),
    re_path(rf"^discovery{FMT}", views.discovery, name="discovery"),
    re_path(rf"^services{FMT}", views.service_list, name="services"),
    re_path(rf"^services/(?P<code>[^/]+?){FMT}", views.service_definition, name="service"),
    re_path(rf"^requests{FMT}", views.requests, name="requests"),
    re_path(rf"^requests/(?P<number>[^/]+?){FMT}", views.request_detail, name="request"),
    re_path(rf"^tokens/(?P<token>[^/]+?){FMT}", views.token, name="token"),
    re_path(rf"^servicerequestupdates{FMT}", views.service_request_updates, name="updates"),
    re_path(r"^(?P<path>.*)$", views.not_found),
]
