from django.contrib import admin
from django.utils.translation import gettext as _

from .models import ApiToken, Area, StaffProfile, Unit


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "kind", "parent", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name_zh", "name_en")
    autocomplete_fields = ("parent", "area")
    readonly_fields = ("path",)


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "level", "parent", "population")
    list_filter = ("level",)
    search_fields = ("code", "name_zh", "name_en")
    autocomplete_fields = ("parent",)
    readonly_fields = ("path",)


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "unit", "language")
    list_filter = ("role",)
    search_fields = ("user__username", "unit__name_zh", "unit__code")
    autocomplete_fields = ("user", "unit")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created with `govcrm token create`; here they can only be looked at and revoked."""

    list_display = ("prefix", "user", "name", "scopes", "unit", "created_at", "expires_at", "last_used_at",
                    "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "user__username", "name")
    readonly_fields = ("user", "name", "digest", "prefix", "scopes", "unit", "created_at", "expires_at",
                       "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        from .actions import api_token_revoke

        n = api_token_revoke(ids=queryset.values_list("pk", flat=True), actor=request.user)
        self.message_user(request, _("%(n)d tokens revoked.") % {"n": n})
