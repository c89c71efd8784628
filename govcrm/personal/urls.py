"""The console's next best action: /console/personal/…"""

from django.urls import path

from . import views

app_name = "personal"
urlpatterns = [
    path("citizens/<int:citizen_id>/nba", views.nba, name="nba"),
]
