"""Calls in the admin: to look into what the PBX reported, not to edit it."""

from django.contrib import admin

from .models import Call, CallEvent


class CallEventInline(admin.TabularInline):
    model = CallEvent
    extra = 0
    can_delete = False
    readonly_fields = ("event", "at", "payload", "received_at")


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("call_id", "state", "agent", "started_at", "ended_at", "case")
    list_filter = ("state",)
    search_fields = ("call_id", "agent")
    readonly_fields = ("call_id", "caller", "agent", "state", "started_at", "answered_at", "ended_at",
                       "recording_url", "citizen", "case", "survey_digits", "survey_applied")
    inlines = [CallEventInline]

    def has_add_permission(self, request):
        return False
