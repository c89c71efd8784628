"""Admin views of the knowledge base: articles' settings editable, versions read-only
(text changes and publication go through the console, which keeps the history)."""

from django.contrib import admin

from .models import Article, ArticleVersion, KnowledgeGap, SelfServiceOutcome


class VersionInline(admin.TabularInline):
    model = ArticleVersion
    fields = ("language", "number", "status", "title", "created_by", "published_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("key", "owner_unit", "owner_staff", "valid_from", "valid_until", "archived", "updated_at")
    list_filter = ("archived",)
    search_fields = ("key", "versions__title")
    autocomplete_fields = ()
    raw_id_fields = ("owner_unit", "owner_staff")
    filter_horizontal = ("categories",)
    inlines = [VersionInline]


@admin.register(ArticleVersion)
class ArticleVersionAdmin(admin.ModelAdmin):
    list_display = ("article", "language", "number", "status", "title", "published_at")
    list_filter = ("status", "language")
    search_fields = ("title", "article__key")
    exclude = ("search_text", "title_terms", "body_terms")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(KnowledgeGap)
class KnowledgeGapAdmin(admin.ModelAdmin):
    list_display = ("query", "language", "channel", "count", "last_searched_at", "dismissed_at")
    list_filter = ("channel", "language")
    search_fields = ("query",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SelfServiceOutcome)
class SelfServiceOutcomeAdmin(admin.ModelAdmin):
    list_display = ("article", "outcome", "submitted", "language", "created_at")
    list_filter = ("outcome", "submitted")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
