"""A new request: the form at `/`, the category search, and the page with the case number and code.

POST / checks everything (`forms.RequestForm`), then calls `actions.portal_request_submit`, which
stores the request idempotently on the form's token, and redirects to the confirmation page
(POST/redirect/GET, so that reloading it does not post again). A refused request is shown again
with its errors (422) and nothing stored.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from govcrm.citizens import identities
from govcrm.common.errors import DomainError
from govcrm.common.forms import apply_error
from govcrm.common.reference import cached
from govcrm.knowledge.actions import selfservice_request_sent

from ..actions import portal_request_submit
from ..forms import RequestForm
from ..queries import case_for_session, category_groups, receipt_pending
from ..signin import signed_in_identity
from .session import is_known, remember


def _contact_of(request) -> dict:
    """The signed-in citizen's phone or e-mail, to fill in the form (they may change it)."""
    identity = signed_in_identity(request)
    if identity is None:
        return {}
    kind, value = identity
    return {"email": value} if kind == identities.EMAIL else {"phone": value.removeprefix("+86")}


# Placeholders of the per-visitor parts of the cached form page (see _first_visit_page).
_CSRF_MARK = f"csrf-{secrets.token_hex(16)}"
_TOKEN_MARK = f"token-{secrets.token_hex(16)}"


def _is_first_visit(request) -> bool:
    """No session and no messages cookie, no query: the page is the same for every such visitor."""
    return (not request.GET and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and "messages" not in request.COOKIES)


def _first_visit_page(request) -> HttpResponse:
    """The empty form for a visitor without a session, rendered once per language and process.

    Rendering the form (about 150 categories, a dozen fields) is most of the CPU of a portal
    intake, and for a visitor with no session it differs only in the CSRF token and the
    submission token: those are written into the cached page per request. The page is kept as
    long as the reference data it shows (common/reference.py: 30 s, cleared on a change).
    """
    def render_page() -> str:
        form = RequestForm(initial={"token": _TOKEN_MARK})
        return render_to_string("portal/index.html", {"form": form, "csrf_token": _CSRF_MARK}, request=request)

    page = cached(f"portal-index:{get_language()}", render_page)
    html = page.replace(_CSRF_MARK, get_token(request)).replace(_TOKEN_MARK, str(uuid.uuid4()))
    return HttpResponse(html)


@require_http_methods(["GET", "POST"])
def index(request):
    if request.method == "GET":
        if _is_first_visit(request):
            return _first_visit_page(request)
        return render(request, "portal/index.html", {"form": RequestForm(initial=_contact_of(request))})
    form = RequestForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            number = portal_request_submit(request=form.portal_request())
        except DomainError as err:
            apply_error(form, err, RequestForm.ERROR_FIELDS)
        else:
            # The knowledge articles offered while the citizen wrote did not answer the request.
            selfservice_request_sent(token=form.cleaned_data["token"], article_ids=request.POST.getlist("kb_offered"),
                                     query=form.cleaned_data["description"], language=get_language())
            response = redirect("portal:submitted", number=number)
            remember(request, response, number)
            return response
    context = {"form": form, "photos_lost": bool(request.FILES.getlist("photos")),
               "error": _("Your request was not sent. Please correct the fields marked below.")}
    return render(request, "portal/index.html", context, status=422)


@require_GET
def categories(request):
    """The category <select> narrowed to the leaves matching ?category_q= (an HTMX partial)."""
    q = request.GET.get("category_q", "")[:100]
    groups = category_groups(q)
    count = sum(len(g.leaves) for g in groups)
    chosen = groups[0].leaves[0].code if count == 1 else request.GET.get("category", "")
    form = RequestForm(initial={"category": chosen}, groups=groups)
    if not request.htmx:  # followed as a link: the whole form, with the narrowed list
        return render(request, "portal/index.html", {"form": form, "category_q": q})
    return render(request, "portal/_category_select.html",
                  {"field": form["category"], "searched": True, "count": count})


@require_GET
def submitted(request, number: str):
    if not is_known(request, number):
        raise Http404
    case = case_for_session(number) or receipt_pending(number)  # a receipt: registered in a moment
    if case is None:
        raise Http404
    response = render(request, "portal/submitted.html", {"number": case.number, "query_code": case.query_code})
    remember(request, response, number)  # first in the list again, and the cookie's age renewed
    return response
