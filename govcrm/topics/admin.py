"""Read-only admin views of topic runs and warnings (decisions go through the console)."""

from django.contrib import admin

from .models import TopicRun, Warning


@admin.register(TopicRun)
class TopicRunAdmin(admin.ModelAdmin):
    list_display = ("id", "period_start", "period_end", "case_count", "seconds", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Warning)
class WarningAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "subject", "observed", "expected", "p_value", "status", "window_end")
    list_filter = ("kind", "status")
    raw_id_fields = ("source_cases", "task", "topic")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
