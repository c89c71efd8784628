"""The service catalogue on the citizen portal: /services/…"""

from django.urls import path

from . import views_portal as v

app_name = "services"
urlpatterns = [
    path("", v.catalogue, name="catalogue"),
    path("mine/", v.mine, name="mine"),
    path("applications/<str:number>/", v.application, name="application"),
    path("applications/<str:number>/withdraw/", v.withdraw, name="withdraw"),
    path("<slug:code>/", v.item, name="item"),
    path("<slug:code>/apply/", v.apply, name="apply"),
]
