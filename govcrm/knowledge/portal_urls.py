"""Self-service answers on the citizen portal: /help/…"""

from django.urls import path

from .views import portal

app_name = "help"
urlpatterns = [
    path("", portal.help_search, name="search"),
    path("offers", portal.offers, name="offers"),
    path("<int:article_id>/", portal.article, name="article"),
    path("<int:article_id>/answer/", portal.answered, name="answer"),
    path("<int:article_id>/answered/", portal.thanks, name="thanks"),
]
