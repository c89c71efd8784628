from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "govcrm.incidents"
    verbose_name = "Duplicate incidents"
