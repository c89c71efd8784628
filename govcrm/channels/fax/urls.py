from django.urls import path

from . import views

app_name = "fax"
urlpatterns = [
    path("upload/", views.upload, name="upload"),
]
