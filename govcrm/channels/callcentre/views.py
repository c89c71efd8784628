"""The call centre's entry points under /channels/cti/.

- `events` — POST /channels/cti/events: the PBX's CTI events, `Authorization: Bearer
  GOVCRM_CTI_TOKEN` (constant-time compare; 401 otherwise), one JSON event per request.
- `pop` — GET /channels/cti/pop/: the signed-in agent's screen pop. With HTMX it answers the
  partial, and 204 (no swap) while what it shows has not changed since `?shown=<token>`, so that
  a screen reader does not re-read the same caller every few seconds.
- `link` — POST /channels/cti/calls/<call_id>/link: link a call to a case.
- `followups`, `followup` — /channels/cti/followups/: the follow-up (回访) list, and one case's
  script and outcome form.
Staff pages need a signed-in hotline-centre user (console.access.staff_view); nothing changes on GET.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from govcrm.cases.queries import case_get
from govcrm.cases.workflow import Status
from govcrm.citizens.queries import citizen_view
from govcrm.common.errors import DomainError, NotFound
from govcrm.console.access import staff_view
from govcrm.console.paging import keyset_page

from .actions import call_link_case, cti_event_receive, followup_record
from .events import parse_event
from .forms import FollowUpForm, LinkForm
from .queries import followup_queue, screen_pop_for

PAGE_SIZE = 50


def _authorised(request) -> bool:
    token = settings.GOVCRM_CTI_TOKEN
    scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@csrf_exempt
@require_POST
def events(request):
    if not _authorised(request):
        return JsonResponse({"status": "error", "error": "unauthorised"}, status=401,
                            headers={"WWW-Authenticate": 'Bearer realm="govcrm-cti"'})
    try:
        outcome = cti_event_receive(parse_event(request.body))
    except DomainError as err:
        return JsonResponse({"status": "error", "error": err.message, "details": err.details}, status=err.status)
    call = outcome.call
    return JsonResponse({"status": outcome.status, "call_id": call.call_id, "state": call.state,
                         "case": call.case.number if call.case_id else None, "survey": outcome.survey})


def _pop_context(request, error: str = "") -> dict:
    pop = screen_pop_for(request.actor)
    return {"pop": pop, "token": pop.token if pop else "none", "error": error}


@require_GET
@staff_view(centre_only=True)
def pop(request):
    context = _pop_context(request)
    if request.htmx:
        if request.GET.get("shown") == context["token"]:
            return HttpResponse(status=204)
        return render(request, "callcentre/_pop.html", context)
    return render(request, "callcentre/pop.html", context)


@require_POST
@staff_view(centre_only=True)
def link(request, call_id: str):
    form = LinkForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            call = call_link_case(actor=request.actor, call_id=call_id, case_number=form.cleaned_data["case"])
        except NotFound:
            error = _("No such call or case, or not one you may see.")
        else:
            if request.htmx:
                return render(request, "callcentre/_pop.html", _pop_context(request))
            messages.success(request, _("The call is linked to case %(number)s.") % {"number": call.case.number})
            return redirect("console:case", number=call.case.number)
    else:
        error = _("Enter a case number.")
    template = "callcentre/_pop.html" if request.htmx else "callcentre/pop.html"
    return render(request, template, _pop_context(request, error), status=422)


@require_GET
@staff_view(centre_only=True)
def followups(request):
    page = keyset_page(followup_queue(request.actor), size=PAGE_SIZE, after=request.GET.get("after"),
                       before=request.GET.get("before"))
    rows = [(case, citizen_view(case.citizen, request.actor) if case.citizen else None) for case in page.items]
    return render(request, "callcentre/followups.html", {"page": page, "rows": rows})


def _script(case, citizen) -> tuple[str, str]:
    """The call script in the citizen's language, and that language's code."""
    language = (case.citizen.language if case.citizen else "") or case.language
    with translation.override(language):
        text = render_to_string("callcentre/_script.html", {"case": case, "citizen": citizen})
    return text, language


@require_http_methods(["GET", "POST"])
@staff_view(centre_only=True)
def followup(request, number: str):
    case = case_get(request.actor, number)
    if case.status != Status.FOLLOW_UP:
        messages.info(request, _("Case %(number)s is not waiting for a follow-up.") % {"number": case.number})
        return redirect("callcentre:followups")
    citizen = citizen_view(case.citizen, request.actor) if case.citizen else None
    form = FollowUpForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                followup_record(actor=request.actor, case_number=case.number, outcome=form.outcome())
            except DomainError as err:
                form.add_error(None, err.message)
            else:
                if form.outcome().reached:
                    messages.success(request, _("Follow-up of case %(number)s recorded; the case is closed.")
                                     % {"number": case.number})
                else:
                    messages.info(request, _("Noted: the citizen of case %(number)s was not reached.")
                                  % {"number": case.number})
                return redirect("callcentre:followups")
        status = 422
    script, script_language = _script(case, citizen)
    return render(request, "callcentre/followup.html", {
        "case": case, "citizen": citizen, "form": form, "script": script, "script_language": script_language,
    }, status=status)
