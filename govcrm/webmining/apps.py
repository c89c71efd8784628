from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebMiningConfig(AppConfig):
    name = "govcrm.webmining"
    label = "webmining"
    verbose_name = _("Portal web mining")
