"""Console pages of the knowledge base, under /console/knowledge/.

- `article_list` — GET: search (`?q=`, valid published articles, ranked; a search that finds
  nothing is counted as a knowledge gap), the actor's articles that need attention (expired,
  expiring, nothing published), and every article with its versions.
- `article_new` — GET/POST: a new article with its first draft (knowledge managers).
- `article_detail` — GET: the versions per language, the settings, the forms the actor may use.
- `article_edit` — GET/POST: a new draft in one language (owners and managers).
- `article_settings`, `version_publish`, `version_unpublish` — POST only (CSRF).
- `gap_list` — GET; `gap_dismiss` — POST: searches that found nothing.
- `deflection` — GET: per article, portal requests it answered and not.
- `intake_suggest` — GET (HTMX, intake form): the top articles for the text typed so far, those
  linked to the chosen category first when close; nothing stored (the agent is describing a case, not searching).
Nothing changes on GET except the gap count of a console search, a log of what was asked.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from govcrm.common.errors import DomainError, NotFound
from govcrm.common.forms import apply_error
from govcrm.console.access import error_page, staff_view
from govcrm.console.paging import keyset_page

from .. import queries
from ..actions import (
    article_create,
    article_edit,
    article_publish,
    article_unpublish,
    article_update,
    gap_dismiss,
)
from ..actions import (
    search as knowledge_search,
)
from ..forms import NewArticleForm, SettingsForm, TextForm
from ..models import ArticleVersion, Channel, Language
from . import page_language

PAGE_SIZE = 50


@require_GET
@staff_view
def article_list(request):
    q = request.GET.get("q", "").strip()[:200]
    results = None
    if q:
        results = knowledge_search(query=q, channel=Channel.CONSOLE)
    actor = request.actor
    return render(request, "knowledge/list.html", {
        "q": q, "results": results,
        "attention": list(queries.attention_list(actor)) if actor.role != "analyst" else [],
        "page": keyset_page(queries.article_list(), size=PAGE_SIZE, after=request.GET.get("after"),
                            before=request.GET.get("before")),
        "may_create": queries.may_create(actor), "may_read_figures": queries.may_read_figures(actor),
    })


@require_http_methods(["GET", "POST"])
@staff_view
def article_new(request):
    if not queries.may_create(request.actor):
        return error_page(request, 403, _("Only knowledge managers may create articles."))
    form = NewArticleForm(request.POST or None, initial={"language": page_language()})
    if request.method == "POST" and form.is_valid():
        try:
            article = article_create(actor=request.actor, key=form.cleaned_data["key"], text=form.text(),
                                     settings=form.settings())
        except DomainError as err:
            apply_error(form, err)
        else:
            messages.success(request, _("The article was created as a draft."))
            return redirect("knowledge:article", article_id=article.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "knowledge/new.html", {"form": form}, status=status)


def _detail_context(request, article, **extra) -> dict:
    actor = request.actor
    by_language = []
    for code, label in Language.choices:
        versions = [v for v in article.versions.all() if v.language == code]
        by_language.append({"code": code, "label": label, "versions": versions,
                            "published": next((v for v in versions if v.status == "published"), None)})
    context = {"article": article, "languages": by_language,
               "may_edit": queries.may_edit(actor, article), "may_publish": queries.may_publish(actor, article),
               "settings_form": SettingsForm.for_article(article)}
    context.update(extra)
    return context


@require_GET
@staff_view
def article_detail(request, article_id: int):
    article = _article(article_id)
    return render(request, "knowledge/detail.html", _detail_context(request, article))


def _article(article_id: int):
    try:
        return queries.article_get(article_id)
    except NotFound:
        raise NotFound(_("No such article.")) from None


@require_http_methods(["GET", "POST"])
@staff_view
def article_edit_view(request, article_id: int, language: str):
    article = _article(article_id)
    if language not in Language.values:
        raise NotFound(_("No such article."))
    if not queries.may_edit(request.actor, article):
        return error_page(request, 403, _("You may not edit this article."))
    latest = next((v for v in article.versions.all() if v.language == language), None)
    initial = {"language": language}
    if latest:
        initial.update(title=latest.title, body=latest.body, keywords=latest.keywords)
    form = TextForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            article_edit(actor=request.actor, article_id=article.pk, text=form.text())
        except DomainError as err:
            apply_error(form, err)
        else:
            messages.success(request, _("A new draft was saved. Publish it to replace the published version."))
            return redirect("knowledge:article", article_id=article.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "knowledge/edit.html", {"article": article, "form": form, "language": language,
                                                   "latest": latest}, status=status)


@require_POST
@staff_view
def article_settings(request, article_id: int):
    article = _article(article_id)
    form = SettingsForm(request.POST)
    if form.is_valid():
        try:
            article_update(actor=request.actor, article_id=article.pk, settings=form.settings(),
                           archived=form.cleaned_data["archived"])
        except DomainError as err:
            if err.status == 403:
                return error_page(request, 403, err.message)
            apply_error(form, err)
        else:
            messages.success(request, _("The settings were saved."))
            return redirect("knowledge:article", article_id=article.pk)
    return render(request, "knowledge/detail.html", _detail_context(request, article, settings_form=form),
                  status=422)


@require_POST
@staff_view
def version_publish(request, version_id: int):
    article_id = ArticleVersion.objects.filter(pk=version_id).values_list("article_id", flat=True).first()
    if article_id is None:
        raise NotFound(_("No such article."))
    try:
        article_publish(actor=request.actor, version_id=version_id)
    except DomainError as err:
        if err.status == 403:
            return error_page(request, 403, err.message)
        messages.error(request, err.message)
    else:
        messages.success(request, _("The version is published."))
    return redirect("knowledge:article", article_id=article_id)


@require_POST
@staff_view
def version_unpublish(request, article_id: int, language: str):
    try:
        article_unpublish(actor=request.actor, article_id=article_id, language=language)
    except DomainError as err:
        if err.status in (403, 404):
            return error_page(request, err.status, err.message)
        messages.error(request, err.message)
    else:
        messages.success(request, _("The article is no longer published in this language."))
    return redirect("knowledge:article", article_id=article_id)


@require_GET
@staff_view
def gap_list(request):
    if not queries.may_read_figures(request.actor):
        return error_page(request, 403, _("Only knowledge managers and analysts see this page."))
    show_all = request.GET.get("all") == "1"
    return render(request, "knowledge/gaps.html", {
        "gaps": list(queries.gap_list(include_dismissed=show_all)[:500]), "show_all": show_all,
        "may_dismiss": request.actor.role in queries.MANAGERS})


@require_POST
@staff_view
def gap_dismiss_view(request, gap_id: int):
    try:
        gap_dismiss(actor=request.actor, gap_id=gap_id)
    except DomainError as err:
        return error_page(request, err.status if err.status in (403, 404) else 400, err.message)
    messages.success(request, _("The gap was dismissed."))
    return redirect("knowledge:gaps")


@require_GET
@staff_view
def deflection(request):
    if not queries.may_read_figures(request.actor):
        return error_page(request, 403, _("Only knowledge managers and analysts see this page."))
    days = request.GET.get("days", "90")
    days = int(days) if days.isdigit() and 1 <= int(days) <= 3660 else 90
    rows = queries.deflection_figures(days=days)
    lang = page_language()
    return render(request, "knowledge/deflection.html", {
        "days": days, "lang": lang,
        "rows": [{"row": r, "title": _title(r.article, lang)} for r in rows],
        "resolved": sum(r.resolved for r in rows), "answered": sum(r.answered for r in rows)})


def _title(article, language: str) -> str:
    versions = sorted(article.versions.all(), key=lambda v: (v.language != language, v.status != "published",
                                                             -v.number))
    return versions[0].title if versions else article.key


@require_GET
@staff_view(centre_only=True)
def intake_suggest(request):
    text = (request.GET.get("title", "") + " " + request.GET.get("description", ""))[:5000]
    category = request.GET.get("category", "")[:64]
    found = queries.typed_suggestions(text, category=category) if text.strip() else []
    return render(request, "knowledge/_intake_articles.html", {"articles": found})
