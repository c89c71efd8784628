"""Registries and duplicate citizen records in the console: /console/identity/…"""

from django.urls import path

from . import views

app_name = "identity"
urlpatterns = [
    path("", views.proposal_list, name="proposals"),
    path("run/", views.run_now, name="run"),
    path("proposals/<int:proposal_id>/", views.proposal_detail, name="proposal"),
    path("proposals/<int:proposal_id>/accept/", views.proposal_accept_view, name="proposal_accept"),
    path("proposals/<int:proposal_id>/reject/", views.proposal_reject_view, name="proposal_reject"),
    path("registries/", views.registry_imports, name="imports"),
    path("registries/<int:import_id>/", views.registry_import_detail, name="import"),
]
