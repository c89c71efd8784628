"""The service catalogue and applications on the citizen portal, under /services/…

- `catalogue` GET: the active items, searchable, filtered by a tag.
- `item` GET: one item: unit, legal basis, materials, fee, time limit, channels; "apply online".
- `apply` GET/POST: the form rendered from the item's JSON Schema, with one upload per material.
  A signed-in identity is required (portal sign-in); the first application creates the citizen
  record for it. A bad answer or file re-renders the form with the errors (422), nothing stored.
- `mine` GET: the signed-in citizen's applications. `application` GET: one of them with its
  public history. `withdraw` POST.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from govcrm.channels.portal.signin import signed_in_citizen, signed_in_identity
from govcrm.channels.uploads import MAX_FILES
from govcrm.citizens.actions import CitizenInput, citizen_find_or_create
from govcrm.common.errors import DomainError, NotFound
from govcrm.webmining.recorder import note_search

from . import actions, forms, queries
from .models import ApplicationStatus


def _language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


@require_GET
def catalogue(request):
    q = request.GET.get("q", "").strip()[:100]
    tag = request.GET.get("tag", "")
    tag = tag if tag in queries.TAGS else ""
    items = queries.catalogue(query=q, tag=tag)
    if q:
        note_search(request, kind="services", query=q, results=len(items))  # portal web mining
    return render(request, "services/portal_catalogue.html", {"items": items, "q": q, "tag": tag,
                                                              "tags": queries.TAGS})


def _item(code: str):
    try:
        return queries.service_item(code)
    except NotFound:
        raise Http404 from None


@require_GET
def item(request, code: str):
    return render(request, "services/portal_item.html", {"item": _item(code)})


@require_http_methods(["GET", "POST"])
def apply(request, code: str):
    service = _item(code)
    if not (service.online and service.process_key):
        raise Http404
    identity = signed_in_identity(request)
    if identity is None:
        return render(request, "services/portal_signin_needed.html", {"item": service}, status=403)
    values: dict = {}
    errors: dict = {}
    error = ""
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in (service.form_schema or {}).get("properties", {})}
        uploads = [actions.Upload(key=name.removeprefix("material_"), name=f.name, data=f.read())
                   for name, f in list(request.FILES.items())[:MAX_FILES]]
        try:
            # One transaction: a refused form also takes back the citizen record made for it.
            with transaction.atomic():
                citizen = signed_in_citizen(request)
                if citizen is None:
                    channel = "email" if identity[0] == "email" else "sms"
                    citizen = citizen_find_or_create(data=CitizenInput(
                        language=_language(), preferred_channel=channel, identities={identity[0]: identity[1]}))
                application = actions.application_submit(service=service, citizen=citizen, raw_form=request.POST,
                                                         uploads=uploads, language=_language())
        except DomainError as exc:
            errors = exc.details
            error = exc.message
        else:
            messages.success(request, _("Your application %(number)s has been submitted.") % {
                "number": application.number})
            return redirect("services:application", number=application.number)
    context = {"item": service, "fields": forms.fields(service.form_schema, values, errors), "errors": errors,
               "error": error, "materials": [
                   {**m, "label": m["name_en"] if _language() == "en" else m["name_zh"],
                    "error": errors.get(f"material_{m.get('key')}", "")}
                   for m in service.materials if m.get("key")]}
    return render(request, "services/portal_apply.html", context, status=422 if error else 200)


@require_GET
def mine(request):
    identity = signed_in_identity(request)
    rows = queries.applications_of_citizen(signed_in_citizen(request)) if identity else []
    return render(request, "services/portal_mine.html", {"rows": rows, "signed_in": identity is not None})


@require_GET
def application(request, number: str):
    try:
        found = queries.application_of_citizen(signed_in_citizen(request), number)
    except NotFound:
        raise Http404 from None
    return render(request, "services/portal_application.html", {
        "application": found, "events": queries.public_events(found),
        "may_withdraw": found.status in {ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW}})


@require_POST
def withdraw(request, number: str):
    citizen = signed_in_citizen(request)
    try:
        found = queries.application_of_citizen(citizen, number)
        actions.application_withdraw(application_id=found.pk, citizen=citizen)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, _("Your application has been withdrawn."))
    return redirect("services:application", number=number)
