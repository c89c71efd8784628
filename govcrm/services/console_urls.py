"""Applications in the staff console: /console/applications/…"""

from django.urls import path

from . import views_console as v

app_name = "applications"
urlpatterns = [
    path("", v.queue, name="queue"),
    path("<str:number>/", v.detail, name="detail"),
    path("<str:number>/tasks/<int:item_id>/claim/", v.claim, name="claim"),
    path("<str:number>/tasks/<int:item_id>/complete/", v.complete, name="complete"),
    path("<str:number>/materials/<int:material_id>/", v.material, name="material"),
]
