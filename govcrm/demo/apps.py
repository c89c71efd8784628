from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "govcrm.demo"
    label = "demo"
    verbose_name = "Demo data"
