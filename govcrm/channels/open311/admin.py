"""Admin of Open311 clients (keys are made with `govcrm open311 add-client NAME`) and service questions."""

from django.contrib import admin

from .models import Open311Client, ServiceQuestion


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "key_prefix", "active", "created")
    list_filter = ("active",)
    search_fields = ("name", "key_prefix")
    readonly_fields = ("name", "key_prefix", "created")

    def has_add_permission(self, request) -> bool:
        # The key is shown once, by the command that makes it; an admin form could not show it.
        return False


@admin.register(ServiceQuestion)
class ServiceQuestionAdmin(admin.ModelAdmin):
    list_display = ("category", "order", "code", "datatype", "required", "variable", "active")
    list_filter = ("datatype", "required", "active")
    search_fields = ("code", "description", "description_en", "category__code", "category__name_zh")
    autocomplete_fields = ("category",)
    list_select_related = ("category",)
