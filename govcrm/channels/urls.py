"""Inbound webhooks under /channels/: WeChat, SMS, call-centre (CTI) events."""

from django.urls import include, path

urlpatterns = [
    path("wechat/", include("govcrm.channels.wechat.urls")),
    path("sms/", include("govcrm.channels.sms.urls")),
    path("cti/", include("govcrm.channels.callcentre.urls")),
    path("fax/", include("govcrm.channels.fax.urls")),
]
