"""Webhook deliveries in the console: /console/integration/… (administrators)."""

from django.urls import path

from . import views

app_name = "integration"
urlpatterns = [
    path("", views.delivery_list, name="deliveries"),
    path("deliveries/<int:delivery_id>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:delivery_id>/retry/", views.delivery_retry_view, name="retry"),
]
