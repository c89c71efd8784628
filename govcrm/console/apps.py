from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    name = "govcrm.console"
    label = "console"
    verbose_name = _("Staff console")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .twofactor import remember_at_sign_in

        # Every sign-in (the forms, and Django's own, e.g. tests' force_login) notes in the session
        # whether the user has a second factor and must have one: auth plumbing, not business logic.
        user_logged_in.connect(remember_at_sign_in, dispatch_uid="govcrm-2fa-flags")
