from django.contrib import admin

from .models import Citizen, Identity


class IdentityInline(admin.TabularInline):
    """Only masked values are shown here; the clear value stays encrypted."""

    model = Identity
    extra = 0
    fields = ("kind", "masked", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Citizen)
class CitizenAdmin(admin.ModelAdmin):
    list_display = ("id", "__str__", "kind", "preferred_channel", "language", "created_at")
    list_filter = ("kind", "preferred_channel", "language")
    inlines = [IdentityInline]
    readonly_fields = ("merged_into",)
