"""The dashboards: /dashboards/…"""

from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("rankings/", views.rankings, name="rankings"),
    path("export/<str:page>/<str:table>.<str:fmt>", views.export, name="export"),
]
