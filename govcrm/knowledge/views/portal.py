"""Self-service on the citizen portal, under /help/.

- `help_search` — GET: search the valid published articles (`?q=`); a search that finds nothing
  is counted as a knowledge gap (a log of what was asked, not a state change of anything shown).
- `article` — GET: one article, in the page's language when it has that version.
- `offers` — GET (HTMX, the request form at /): "Does this answer your question?" — the top
  articles for the description typed so far, each with a "yes" and a "no" button; nothing stored.
  The partial sits inside the request form, so the offered ids go along when the request is sent
  (the portal's submit view calls `actions.selfservice_request_sent`).
- `answered` — POST only (CSRF; buttons in the request form): records the citizen's yes
  (`resolved`) or no for one article, keyed on the form's token. Yes leads to a page saying the
  request was not sent; no hides the article.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from govcrm.common.errors import DomainError
from govcrm.webmining.recorder import note_search

from .. import queries
from ..actions import search as knowledge_search
from ..actions import selfservice_answer
from ..models import Channel
from . import page_language

MIN_OFFER_CHARS = 4


@require_GET
def help_search(request):
    q = request.GET.get("q", "").strip()[:200]
    results = None
    if q:
        results = knowledge_search(query=q, channel=Channel.PORTAL)
        note_search(request, kind="knowledge", query=q, results=len(results))  # portal web mining
    return render(request, "knowledge/portal_search.html", {"q": q, "results": results})


@require_GET
def article(request, article_id: int):
    try:
        version = queries.public_version(article_id, page_language())
    except DomainError:
        raise Http404 from None
    return render(request, "knowledge/portal_article.html", {"version": version})


@require_GET
def offers(request):
    text = request.GET.get("description", "")[:5000]
    found = []
    if len(text.strip()) >= MIN_OFFER_CHARS:
        found = queries.typed_suggestions(text, category=request.GET.get("category", "")[:64])
    return render(request, "knowledge/_portal_offers.html", {"offers": found})


@require_POST
def answered(request, article_id: int):
    resolved = request.POST.get("kb_answer") == "yes"
    try:
        selfservice_answer(token=request.POST.get("token", ""), article_id=article_id, resolved=resolved,
                           query=request.POST.get("description", ""), language=page_language())
    except DomainError as err:
        if request.htmx:
            return HttpResponse(err.message, status=err.status if err.status in (404, 422) else 400)
        raise Http404 from None
    if resolved:
        if request.htmx:
            return HttpResponse(status=204, headers={"HX-Redirect": reverse("help:thanks", args=[article_id])})
        return redirect("help:thanks", article_id=article_id)
    if request.htmx:
        return render(request, "knowledge/_portal_declined.html")
    return redirect("portal:index")


@require_GET
def thanks(request, article_id: int):
    try:
        version = queries.public_version(article_id, page_language())
    except DomainError:
        raise Http404 from None
    return render(request, "knowledge/portal_thanks.html", {"version": version})

