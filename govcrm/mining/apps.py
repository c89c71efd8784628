from django.apps import AppConfig


class MiningConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "govcrm.mining"
    verbose_name = "Process mining"
