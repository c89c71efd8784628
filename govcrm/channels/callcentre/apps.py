from django.apps import AppConfig


class CallcentreConfig(AppConfig):
    name = "govcrm.channels.callcentre"
    label = "channels_callcentre"
