from django.contrib import admin

from .models import ProactiveRule


@admin.register(ProactiveRule)
class ProactiveRuleAdmin(admin.ModelAdmin):
    list_display = ("service", "kind", "valid_months", "min_age", "lead_working_days", "grace_days", "active")
    list_filter = ("kind", "active")
    autocomplete_fields = ()
    raw_id_fields = ("service", "renew_with")
