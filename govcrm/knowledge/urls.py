"""The knowledge base in the console: /console/knowledge/…"""

from django.urls import path

from .views import console

app_name = "knowledge"
urlpatterns = [
    path("", console.article_list, name="list"),
    path("new/", console.article_new, name="new"),
    path("suggest", console.intake_suggest, name="suggest"),
    path("gaps/", console.gap_list, name="gaps"),
    path("gaps/<int:gap_id>/dismiss/", console.gap_dismiss_view, name="gap_dismiss"),
    path("deflection/", console.deflection, name="deflection"),
    path("<int:article_id>/", console.article_detail, name="article"),
    path("<int:article_id>/edit/<str:language>/", console.article_edit_view, name="edit"),
    path("<int:article_id>/settings/", console.article_settings, name="settings"),
    path("<int:article_id>/unpublish/<str:language>/", console.version_unpublish, name="unpublish"),
    path("versions/<int:version_id>/publish/", console.version_publish, name="publish"),
]
