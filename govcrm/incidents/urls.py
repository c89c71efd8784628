"""Duplicate incidents in the console: /console/incidents/…"""

from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("similar", views.similar, name="similar"),
    path("cases/<str:number>/", views.case_panel, name="case"),
    path("merge/", views.merge, name="merge"),
]
