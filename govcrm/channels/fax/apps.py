from django.apps import AppConfig


class FaxConfig(AppConfig):
    name = "govcrm.channels.fax"
    label = "channels_fax"
