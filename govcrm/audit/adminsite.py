"""The admin site, with every save and delete of every registered model written to the audit log.

`AuditedAdminConfig` replaces `django.contrib.admin` in INSTALLED_APPS so that the default
site is `AuditedAdminSite`, whose `register()` puts `AuditedModelAdmin` in front of each admin
class — including the ones of Django's own apps (users, groups). Django's admin already calls
`log_addition`/`log_change`/`log_deletions` (Django ≥ 5.1) for each change it makes; those hooks now also
write an audit record, in the same transaction as the change.
Its sign-in page is the console's, so that the second factor applies to the admin too.
Changes made outside the admin (tokens by command, second factor, retention) are audited by
their own actions.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

ADD, CHANGE, DELETE = "config.add", "config.change", "config.delete"  # AuditRecord.Action values


def audit_record(**kwargs) -> None:
    from .actions import audit_record as record  # not at import: this module loads before the models

    record(**kwargs)


class AuditedModelAdmin(admin.ModelAdmin):
    def log_addition(self, request, obj, message):
        audit_record(action=ADD, obj=obj, actor=request.user,
                     detail={"change": _plain(message)})
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit_record(action=CHANGE, obj=obj, actor=request.user,
                     detail={"change": _plain(message)})
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            audit_record(action=DELETE, obj=obj, actor=request.user)
        return super().log_deletions(request, queryset)


def _plain(message) -> object:
    """Django's change message (a list of dicts naming the changed fields), kept as JSON."""
    return message if isinstance(message, (list, dict, str)) else str(message)


class AuditedAdminSite(admin.AdminSite):
    def login(self, request, extra_context=None):
        """The console's sign-in (password, then the second factor when the user has one)."""
        from django.conf import settings
        from django.contrib.auth.views import redirect_to_login
        from django.urls import reverse

        return redirect_to_login(request.GET.get("next") or reverse("admin:index", current_app=self.name),
                                 settings.LOGIN_URL)

    def register(self, model_or_iterable, admin_class=None, **options):
        base = admin_class or admin.ModelAdmin
        if not issubclass(base, AuditedModelAdmin):
            admin_class = type(base.__name__, (AuditedModelAdmin, base), {"__module__": base.__module__})
        return super().register(model_or_iterable, admin_class, **options)


class AuditedAdminConfig(AdminConfig):
    default_site = "govcrm.audit.adminsite.AuditedAdminSite"
