from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "govcrm.common"
    label = "common"
