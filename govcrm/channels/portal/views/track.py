"""Tracking a case: number + query code, then its status, public history and reply; feedback and reopen.

A wrong pair gets the same neutral answer as an unknown number, and counts against the client's
address (`throttle`): past the limit the answer is 429. A right pair puts the case in the session
and redirects to its page; feedback and reopen requests are POSTs from that page, refused (404)
for a case this browser has not proved.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from govcrm.common.errors import DomainError, NotAllowed

from .. import throttle
from ..actions import portal_feedback_give, portal_reopen_request
from ..forms import FeedbackForm, ReopenForm, TrackForm
from ..queries import (
    case_for_session,
    case_for_tracking,
    cases_for_session,
    cases_of_citizen,
    receipt_for_tracking,
    receipt_pending,
    status_label,
    tracking_for,
)
from ..signin import signed_in_citizen, signed_in_identity
from .session import forget_all, is_known, known_cases, remember


def _too_many(request, form: TrackForm):
    context = {"form": form, "blocked": True,
               "error": _("Too many wrong attempts. Please wait ten minutes and try again.")}
    return render(request, "portal/track.html", context, status=429)


@require_http_methods(["GET", "POST"])
def track(request):
    if request.method == "GET":
        return render(request, "portal/track.html", {"form": TrackForm(initial={"number": request.GET.get(
            "number", "")[:20]})})
    address = throttle.client_address(request)
    form = TrackForm(request.POST)
    if throttle.tracking_blocked(address):
        return _too_many(request, form)
    if not form.is_valid():
        return render(request, "portal/track.html", {"form": form}, status=422)
    number, code = form.cleaned_data["number"], form.cleaned_data["code"]
    case = case_for_tracking(number, code) or receipt_for_tracking(number, code)
    if case is None:
        throttle.tracking_failed(address)
        context = {"form": form, "error": _("No request matches this case number and query code. "
                                            "Check both and try again.")}
        return render(request, "portal/track.html", context, status=404)
    response = redirect("portal:case", number=case.number)
    remember(request, response, case.number)
    return response


def _may_see(request, number: str):
    """The case if this browser proved its code, or it is the signed-in citizen's; else None."""
    case = case_for_session(number)
    if case is None:
        return None
    if is_known(request, number):
        return case
    citizen = signed_in_citizen(request)
    return case if citizen is not None and case.citizen_id == citizen.pk else None


def _proved_case(request, number: str):
    case = _may_see(request, number)
    if case is None:
        raise Http404
    return case


@require_GET
def case_detail(request, number: str):
    case = _may_see(request, number)
    if case is None:
        receipt = receipt_pending(number) if is_known(request, number) else None
        if receipt is not None:  # kept at a peak, registered by the worker in a moment (ADR 0023)
            return render(request, "portal/received.html", {"receipt": receipt})
        return redirect(f"{reverse('portal:track')}?{urlencode({'number': number[:20]})}")
    return render(request, "portal/case.html", {
        "t": tracking_for(case), "feedback_form": FeedbackForm(), "reopen_form": ReopenForm(),
    })


def _refused(request, case, err: DomainError, **forms):
    if isinstance(err, NotAllowed):  # already given, or no longer asked for: the page tells what holds now
        messages.info(request, err.message)
        return redirect("portal:case", number=case.number)
    context = {"t": tracking_for(case), "feedback_form": FeedbackForm(), "reopen_form": ReopenForm(),
               "error": err.message, **forms}
    return render(request, "portal/case.html", context, status=422)


@require_POST
def feedback(request, number: str):
    case = _proved_case(request, number)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        context = {"t": tracking_for(case), "feedback_form": form, "reopen_form": ReopenForm(),
                   "error": _("Please answer the questions marked below.")}
        return render(request, "portal/case.html", context, status=422)
    try:
        portal_feedback_give(number=case.number, **form.cleaned_data)
    except DomainError as err:
        return _refused(request, case, err, feedback_form=form)
    messages.success(request, _("Thank you. Your feedback was recorded."))
    return redirect("portal:case", number=case.number)


@require_POST
def reopen(request, number: str):
    case = _proved_case(request, number)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        context = {"t": tracking_for(case), "feedback_form": FeedbackForm(), "reopen_form": form,
                   "error": _("Please correct the field marked below.")}
        return render(request, "portal/case.html", context, status=422)
    try:
        portal_reopen_request(number=case.number, reason=form.cleaned_data["reason"])
    except DomainError as err:
        return _refused(request, case, err, reopen_form=form)
    messages.success(request, _("Your request to reopen was sent to the hotline centre. "
                                "They will decide and contact you if needed."))
    return redirect("portal:case", number=case.number)


@require_GET
def mine(request):
    """The signed-in citizen's requests, and those this browser submitted or tracked (views/session.py)."""
    citizen = signed_in_citizen(request)
    cases = {c.pk: c for c in cases_for_session(known_cases(request))}
    if citizen is not None:
        cases.update({c.pk: c for c in cases_of_citizen(citizen.pk)})
    rows = [(c, status_label(c)) for c in sorted(cases.values(), key=lambda c: -c.pk)]
    return render(request, "portal/mine.html", {"rows": rows, "signed_in": signed_in_identity(request) is not None})


@require_POST
def forget(request):
    messages.info(request, _("This browser no longer remembers your requests."))
    response = redirect("portal:mine")
    forget_all(request, response)
    return response
