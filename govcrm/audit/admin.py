"""The audit log in the admin: searchable and read-only for everyone, superusers included.

Who may look: superusers and staff given the "view audit record" permission (e.g. a group of
auditors). Nobody may add, change or delete a record here (and the model and database refuse it
anyway, see models.py).
"""

from django.contrib import admin

from .models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "action", "object_type", "object_id", "object_repr", "address")
    list_filter = ("action", "object_type")
    search_fields = ("actor_name", "object_id", "object_repr", "address")
    date_hierarchy = "at"
    show_full_result_count = False
    fields = ("at", "actor_id", "actor_name", "action", "object_type", "object_id", "object_repr", "address",
              "detail")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
