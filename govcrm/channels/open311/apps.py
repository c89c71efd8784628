from django.apps import AppConfig


class Open311Config(AppConfig):
    name = "govcrm.channels.open311"
    label = "channels_open311"
