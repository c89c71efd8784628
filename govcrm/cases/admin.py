"""Configuration of the case process: categories, deadline policies, calendar, dispatch rules.

Cases themselves are read-only here: every change goes through the console or the API, so
that it passes the state table and leaves an event.
"""

from django.contrib import admin

from .models import CalendarOverride, Case, CaseEvent, Category, DeadlinePolicy, DispatchRule


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "level", "parent", "active")
    list_filter = ("level", "active")
    search_fields = ("code", "name_zh", "name_en", "keywords")
    autocomplete_fields = ("parent",)


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    list_display = ("category", "urgency", "accept_hours", "contact_hours", "reply_days")
    list_filter = ("urgency",)
    autocomplete_fields = ("category",)


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "note")
    list_filter = ("is_workday",)
    date_hierarchy = "date"


@admin.register(DispatchRule)
class DispatchRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "area", "unit", "active")
    list_filter = ("active",)
    search_fields = ("category__code", "category__name_zh", "unit__name_zh", "area__name_zh")
    autocomplete_fields = ("category", "area", "unit", "co_units")


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ("seq", "at", "action", "actor_name", "actor_role", "from_status", "to_status", "reason_code",
              "reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("number", "status", "case_type", "category", "lead_unit", "created_at", "reply_due")
    list_filter = ("status", "case_type", "urgency", "channel")
    search_fields = ("number",)
    show_full_result_count = False  # a count(*) over a million rows on every page is waste
    inlines = [CaseEventInline]
    list_select_related = ("category", "lead_unit")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
