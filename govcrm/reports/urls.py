"""Scheduled reports in the console: /console/reports/…"""

from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.report_list, name="list"),
    path("<int:report_id>.<str:fmt>", views.report_download, name="download"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("subscriptions/<int:subscription_id>/delete/", views.subscription_delete_view, name="subscription_delete"),
]
