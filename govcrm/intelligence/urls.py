from django.urls import path

from . import views

app_name = "intelligence"
urlpatterns = [
    path("", views.quality, name="quality"),
    path("suggest", views.suggest, name="suggest"),
    path("cases/<str:number>/accept/", views.accept, name="accept"),
]
