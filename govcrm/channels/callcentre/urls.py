from django.urls import path

from . import views

app_name = "callcentre"
urlpatterns = [
    path("events", views.events, name="events"),
    path("pop/", views.pop, name="pop"),
    path("calls/<str:call_id>/link", views.link, name="link"),
    path("followups/", views.followups, name="followups"),
    path("followups/<str:number>/", views.followup, name="followup"),
]
