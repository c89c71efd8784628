from django.urls import path

from . import views

app_name = "sms"
urlpatterns = [
    path("inbound", views.inbound, name="inbound"),
]
