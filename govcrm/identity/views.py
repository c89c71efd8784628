"""Console pages of registries and duplicate citizen records, under /console/identity/.

- `proposal_list` — GET: proposals (pending first), the latest match runs.
- `proposal_detail` — GET: both records side by side, each field's comparison level and weight.
- `proposal_accept`, `proposal_reject` — POST only (CSRF): decide. Nothing changes on GET.
- `run_now` — POST: queue a match run for the worker.
- `registry_imports` — GET: imports and the upload form; POST: import a CSV/XLSX file, or show the
  per-row report (422) when any row is bad — then nothing was imported.
- `registry_import_detail` — GET: one import and its records, masked.
Supervisors and administrators only (`queries.require_reviewer`).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from govcrm.common.errors import DomainError
from govcrm.console.access import staff_view

from . import queries
from .actions import ImportRejected, proposal_accept, proposal_reject, registry_import
from .models import MatchProposal, RegistryKind

MAX_FILE_BYTES = 20_000_000


class DecisionForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note"), max_length=2000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Registry"), choices=RegistryKind.choices)
    source = forms.CharField(label=gettext_lazy("Source department"), max_length=200)
    file = forms.FileField(label=gettext_lazy("File (CSV or XLSX)"))


@require_GET
@staff_view
def proposal_list(request):
    status = request.GET.get("status", MatchProposal.Status.PENDING)
    if status not in MatchProposal.Status.values and status != "all":
        status = MatchProposal.Status.PENDING
    proposals = list(queries.proposal_list(request.actor, None if status == "all" else status)[:200])
    return render(request, "identity/proposal_list.html", {
        "proposals": proposals, "status": status, "statuses": MatchProposal.Status.choices,
        "runs": queries.runs_latest(request.actor)})


@require_GET
@staff_view
def proposal_detail(request, proposal_id: int):
    proposal = queries.proposal_get(request.actor, proposal_id)
    return render(request, "identity/proposal_detail.html", {
        "proposal": proposal, "explained": queries.proposal_explained(proposal, request.actor),
        "form": DecisionForm(), "may_decide": proposal.status == MatchProposal.Status.PENDING,
        "merge": getattr(proposal, "merge", None) if proposal.status == MatchProposal.Status.ACCEPTED else None})


def _decide(request, proposal_id: int, decide, done: str):
    proposal = queries.proposal_get(request.actor, proposal_id)
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        decide(actor=request.actor, proposal_id=proposal.pk, note=note)
    except DomainError as err:
        if err.status in (403, 404):
            raise
        messages.error(request, err.message)
    else:
        messages.success(request, done)
    return redirect("identity:proposal", proposal_id=proposal.pk)


@require_POST
@staff_view
def proposal_accept_view(request, proposal_id: int):
    return _decide(request, proposal_id, proposal_accept, _("Accepted: the records are one person now."))


@require_POST
@staff_view
def proposal_reject_view(request, proposal_id: int):
    return _decide(request, proposal_id, proposal_reject, _("Rejected: this pair will not be proposed again."))


@require_POST
@staff_view
def run_now(request):
    from .tasks import match_identities

    queries.require_reviewer(request.actor)
    transaction.on_commit(match_identities.enqueue)
    messages.success(request, _("A match run was queued; its proposals appear here when it ends."))
    return redirect("identity:proposals")


@require_http_methods(["GET", "POST"])
@staff_view
def registry_imports(request):
    imports = list(queries.import_list(request.actor)[:50])
    if request.method == "GET":
        return render(request, "identity/imports.html", {"imports": imports, "form": ImportForm()})
    form = ImportForm(request.POST, request.FILES)
    context = {"imports": imports, "form": form}
    if not form.is_valid():
        return render(request, "identity/imports.html", context, status=422)
    upload = form.cleaned_data["file"]
    if upload.size > MAX_FILE_BYTES:
        form.add_error("file", _("The file is larger than %(mb)s MB; split it.") % {"mb": MAX_FILE_BYTES // 10**6})
        return render(request, "identity/imports.html", context, status=422)
    try:
        batch = registry_import(actor=request.actor, data=upload.read(), file_name=upload.name,
                                kind=form.cleaned_data["kind"], source=form.cleaned_data["source"])
    except ImportRejected as err:
        context.update({"rejected": err.message, "report": err.report, "total": err.total})
        return render(request, "identity/imports.html", context, status=422)
    except DomainError as err:
        if err.status == 403:
            raise
        form.add_error(None, err.message)
        return render(request, "identity/imports.html", context, status=422)
    messages.success(request, _("%(rows)s rows imported (%(new)s new, %(updated)s updated).")
                     % {"rows": batch.rows, "new": batch.created, "updated": batch.updated})
    return redirect("identity:import", import_id=batch.pk)


@require_GET
@staff_view
def registry_import_detail(request, import_id: int):
    batch = queries.import_get(request.actor, import_id)
    return render(request, "identity/import_detail.html",
                  {"batch": batch, "records": queries.import_records(batch)})
