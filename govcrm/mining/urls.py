"""Process mining in the console: /console/mining/…"""

from django.urls import path

from . import views

app_name = "mining"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("export.xes", views.export_xes, name="export_xes"),
    path("export.csv", views.export_csv, name="export_csv"),
]
