"""The dashboards: /dashboards/…"""

from django.urls import path

from . import views, views_web

app_name = "analytics"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("rankings/", views.rankings, name="rankings"),
    path("categories/", views.categories, name="categories"),
    path("deadlines/", views.deadlines, name="deadlines"),
    path("channels/", views.channels, name="channels"),
    path("map/", views.area_map, name="map"),
    path("export/<str:page>/<str:table>.<str:fmt>", views.export, name="export"),
    # Portal web mining and citizen segments (views_web.py)
    path("web/", views_web.web_usage, name="web"),
    path("web/export/<str:table>.<str:fmt>", views_web.web_export, name="web_export"),
    path("segments/", views_web.segments, name="segments"),
    path("segments/export.<str:fmt>", views_web.segments_export, name="segments_export"),
    path("segments/<int:key>/outreach.<str:fmt>", views_web.outreach_export, name="outreach"),
]
