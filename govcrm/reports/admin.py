"""Admin views of report subscriptions (editable), and of reports and mailings (read-only: they are
made by the scheduled job; a failed mailing is retried by it)."""

from django.contrib import admin

from .models import Delivery, Report, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "language", "pdf", "xlsx", "active", "updated_at")
    list_filter = ("kind", "language", "active")
    search_fields = ("user__username", "user__email")
    raw_id_fields = ("user",)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("kind", "period_start", "period_end", "scope_unit", "language", "as_of", "created_at")
    list_filter = ("kind", "language")
    exclude = ("pdf", "xlsx")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("kind", "period_start", "user", "status", "attempts", "sent_at", "next_attempt_at")
    list_filter = ("kind", "status")
    search_fields = ("user__username",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
