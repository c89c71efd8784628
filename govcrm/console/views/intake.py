"""Phone intake: look the caller up by phone, then register the case (or close it on the spot).

The phone field comes first; its lookup (GET /console/intake/lookup?phone=…) shows the caller's
record and past cases, swapped in by HTMX or as a full page without JavaScript. Submitting calls
`case_register` and redirects to the new case.
"""

from __future__ import annotations

import contextlib

from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from govcrm.cases.actions import CaseInput, case_register
from govcrm.cases.models import Channel
from govcrm.citizens.actions import citizen_input_clean
from govcrm.common.errors import DomainError
from govcrm.common.forms import apply_error

from ..access import staff_view
from ..forms import IntakeForm
from ..queries import caller_lookup, category_leaves


def _lookup(actor, phone: str) -> dict:
    if not phone.strip():
        return {"phone": ""}
    try:
        return {"phone": phone, "caller": caller_lookup(actor, phone)}
    except DomainError as err:
        return {"phone": phone, "lookup_error": err.message}


def _case_input(form: IntakeForm) -> CaseInput:
    d = form.cleaned_data
    citizen = None
    if d["phone"] or d["id_number"] or d["citizen_name"]:
        citizen = citizen_input_clean(name=d["citizen_name"], language=d["language"], phone=d["phone"],
                                      id_number=d["id_number"])
    return CaseInput(
        category=d["category"], case_type=d["case_type"], description=d["description"], urgency=d["urgency"],
        channel=Channel.PHONE, title=d["title"], address=d["address"], area=d["area"] or None,
        lat=d["lat"], lon=d["lon"], citizen=citizen, language=d["language"],
        resolve_now_reply=d["resolve_reply"].strip() or None,
    )


def _link_call(actor, call_id: str, number: str) -> None:
    """Link the PBX call to the case it led to; an unknown call id (no CTI in use) is ignored."""
    from govcrm.channels.callcentre.actions import call_link_case

    with contextlib.suppress(DomainError):
        call_link_case(actor=actor, call_id=call_id, case_number=number)


@require_http_methods(["GET", "POST"])
@staff_view(centre_only=True)
def intake(request):
    if request.method == "GET":
        # From the call centre's screen pop: /console/intake/?phone=…&call=…
        phone, call = request.GET.get("phone", "")[:32], request.GET.get("call", "")[:100]
        context = {"form": IntakeForm(initial={"phone": phone, "call": call})}
        if phone:
            context.update(_lookup(request.actor, phone))
        return render(request, "console/intake.html", context)
    if "lookup" in request.POST:  # the look-up button without JavaScript: keep what was typed
        form = IntakeForm(initial=request.POST.dict())
        context = {"form": form, **_lookup(request.actor, request.POST.get("phone", ""))}
        return render(request, "console/intake.html", context)
    form = IntakeForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            case = case_register(actor=request.actor, data=_case_input(form))
        except DomainError as err:
            apply_error(form, err, IntakeForm.ERROR_FIELDS, top=False)
            error = err.message
        else:
            if form.cleaned_data.get("call"):
                _link_call(request.actor, form.cleaned_data["call"], case.number)
            return redirect("console:case", number=case.number)
    else:
        error = _("Check the fields marked below.")
    context = {"form": form, "error": error, **_lookup(request.actor, form.data.get("phone", ""))}
    return render(request, "console/intake.html", context, status=422)


@require_GET
@staff_view(centre_only=True)
def lookup(request):
    phone = request.GET.get("phone", "")[:32]
    context = _lookup(request.actor, phone)
    if request.htmx:
        return render(request, "console/_caller.html", context)
    return render(request, "console/intake.html", {"form": IntakeForm(initial={"phone": phone}), **context})


@require_GET
@staff_view(centre_only=True)
def categories(request):
    """The category <select>, its options narrowed to the leaves matching ?category_q=."""
    leaves = category_leaves(request.GET.get("category_q", "")[:100])
    chosen = leaves[0].code if len(leaves) == 1 else request.GET.get("category", "")
    form = IntakeForm(initial={"category": chosen}, categories=leaves)
    context = {"field": form["category"], "searched": True, "count": len(leaves)}
    return render(request, "console/_category_select.html", context)
