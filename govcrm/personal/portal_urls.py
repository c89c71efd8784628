"""Personalised service on the portal: /for-you/"""

from django.urls import path

from . import views

app_name = "for_you"
urlpatterns = [
    path("", views.for_you, name="index"),
]
