from django.urls import path

from config.urls import urlpatterns as app_urlpatterns

from .views import insert_one

urlpatterns = [path("bench/insert", insert_one), *app_urlpatterns]
