"""Hot topics and early warnings in the console: /console/topics/…"""

from django.urls import path

from . import views

app_name = "topics"
urlpatterns = [
    path("", views.topic_list, name="list"),
    path("<int:topic_id>/", views.topic_detail, name="topic"),
    path("warnings/", views.warning_list, name="warnings"),
    path("warnings/<int:warning_id>/", views.warning_detail, name="warning"),
    path("warnings/<int:warning_id>/dismiss/", views.warning_dismiss_view, name="warning_dismiss"),
    path("warnings/<int:warning_id>/convert/", views.warning_convert_view, name="warning_convert"),
]
