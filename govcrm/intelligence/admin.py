"""The admin sets the automatic-dispatch thresholds and looks at versions, suggestions, feedback."""

from django.contrib import admin

from .models import ClassifierModel, DispatchThreshold, Feedback, Suggestion


@admin.register(DispatchThreshold)
class DispatchThresholdAdmin(admin.ModelAdmin):
    list_display = ("category", "threshold", "auto_dispatch", "updated_at")
    list_editable = ("threshold", "auto_dispatch")
    autocomplete_fields = ("category",)


@admin.register(ClassifierModel)
class ClassifierModelAdmin(admin.ModelAdmin):
    list_display = ("version", "source", "n_samples", "active", "created_at")
    readonly_fields = ("version", "created_at", "source", "n_samples", "labels", "metrics", "train_seconds",
                       "path", "sha256", "active")

    def has_add_permission(self, request):  # versions come from `govcrm classifier train`
        return False


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Suggestion)
class SuggestionAdmin(ReadOnly):
    list_display = ("case", "label", "confidence", "outcome", "created_at")
    list_filter = ("outcome",)


@admin.register(Feedback)
class FeedbackAdmin(ReadOnly):
    list_display = ("case", "kind", "predicted_label", "from_unit", "to_unit", "created_at")
    list_filter = ("kind",)
