from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "govcrm.channels.portal"
    label = "channels_portal"
