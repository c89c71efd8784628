"""Read-only admin views: masked values only; the clear values stay encrypted."""

from django.contrib import admin

from .models import CitizenMerge, EnterpriseRecord, MatchProposal, MatchRun, RegistryImport, ResidentRecord


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RegistryImport)
class RegistryImportAdmin(ReadOnly):
    list_display = ("id", "kind", "source", "file_name", "rows", "created", "updated", "imported_by_name",
                    "created_at")
    list_filter = ("kind", "source")


@admin.register(ResidentRecord)
class ResidentRecordAdmin(ReadOnly):
    list_display = ("id", "__str__", "id_number_masked", "phone_masked", "birth_date", "source", "citizen")
    fields = ("source", "registry_import", "row_number", "id_number_masked", "phone_masked", "birth_date",
              "address", "citizen")
    list_filter = ("source",)


@admin.register(EnterpriseRecord)
class EnterpriseRecordAdmin(ReadOnly):
    list_display = ("id", "name", "credit_code_masked", "legal_representative", "phone_masked", "source", "citizen")
    fields = ("source", "registry_import", "row_number", "name", "credit_code_masked", "legal_representative",
              "phone_masked", "address", "citizen")
    list_filter = ("source",)


@admin.register(MatchRun)
class MatchRunAdmin(ReadOnly):
    list_display = ("id", "started_at", "status", "citizens", "residents", "pairs", "proposed", "seconds")


@admin.register(MatchProposal)
class MatchProposalAdmin(ReadOnly):
    list_display = ("id", "kind", "pair_key", "match_weight", "match_probability", "status", "decided_by_name")
    list_filter = ("kind", "status")


@admin.register(CitizenMerge)
class CitizenMergeAdmin(ReadOnly):
    list_display = ("id", "merged", "survivor", "by_name", "at")
