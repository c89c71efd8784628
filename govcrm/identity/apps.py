from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "govcrm.identity"
    label = "identity"
    verbose_name = _("Registries and identity resolution")
