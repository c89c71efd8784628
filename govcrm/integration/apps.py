from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationConfig(AppConfig):
    name = "govcrm.integration"
    label = "integration"
    verbose_name = _("Department integration")

    def ready(self):
        # Application events of the service catalogue arrive after their commit (govcrm/services
        # README, "Contract"); the sweep writes any this receiver missed (actions.py).
        try:
            from govcrm.services.events import application_event
        except ImportError:  # the service catalogue is not installed
            return
        from .actions import on_application_event

        application_event.connect(on_application_event, dispatch_uid="integration.webhooks")
