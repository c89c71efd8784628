from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "govcrm.channels.sms"
    label = "channels_sms"
