from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "govcrm.analytics"
    label = "analytics"
    verbose_name = "Analytics"
