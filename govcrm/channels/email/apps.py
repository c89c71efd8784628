from django.apps import AppConfig


class EmailConfig(AppConfig):
    name = "govcrm.channels.email"
    label = "channels_email"
