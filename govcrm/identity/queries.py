"""Reads of identity resolution, masked by role; a clear read of a sensitive value is audited.

- Only reviewers (supervisors, administrators) see proposals, imports and registry records.
- A registry record's phone, ID number or credit code is shown in clear to the roles that see the
  same kind in clear on a citizen (`citizens.queries.CLEAR_FOR`) and written to the audit log as a
  sensitive read; everyone else sees the masked form (138****5678, 110***********1234).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from govcrm.audit.actions import audit_sensitive_read
from govcrm.citizens import identities
from govcrm.citizens.models import Citizen
from govcrm.citizens.queries import CLEAR_FOR, NAME_CLEAR_FOR, citizen_view
from govcrm.common.errors import Forbidden, NotFound
from govcrm.organization.queries import Actor

from . import matching
from .actions import REVIEWERS
from .models import EnterpriseRecord, MatchProposal, MatchRun, RegistryImport, ResidentRecord


def require_reviewer(actor: Actor) -> None:
    if actor.role not in REVIEWERS:
        raise Forbidden(_("Only supervisors and administrators work on registries and duplicate records."))


@dataclass(frozen=True)
class RecordView:
    """One side of a proposal, as the reader may see it."""

    label: str
    link: str  # URL name argument: a citizen id, or "" for a registry record
    values: dict[str, str]  # field of matching.FIELDS → shown value
    extra: dict[str, str]


def _shown(actor: Actor, kind: str, clear: str, masked: str, decrypted: list[str]) -> str:
    if not clear:
        return ""
    if actor.role in CLEAR_FOR.get(kind, ()):
        decrypted.append(kind)
        return clear
    return masked


def resident_view(record: ResidentRecord, actor: Actor) -> RecordView:
    decrypted: list[str] = []
    id_number = _shown(actor, identities.ID_CARD, record.id_number, record.id_number_masked, decrypted)
    phone = _shown(actor, identities.PHONE, record.phone, record.phone_masked, decrypted)
    if decrypted and not actor.is_system:
        audit_sensitive_read(citizen=record, kinds=decrypted, actor=actor)
    name = record.name if actor.role in NAME_CLEAR_FOR else identities.mask_name(record.name)
    return RecordView(
        label=_("Registry record #%(id)s (%(source)s)") % {"id": record.pk, "source": record.source}, link="",
        values={"name": name, "id_number": id_number, "phone": phone,
                "birth_date": record.birth_date.isoformat(), "address": record.address},
        extra={_("Source department"): record.source, _("Row in the file"): str(record.row_number)})


def citizen_side(citizen: Citizen, actor: Actor) -> RecordView:
    from govcrm.cases.models import Case

    view = citizen_view(citizen, actor)  # audits a clear read itself
    last = Case.objects.filter(citizen=citizen).exclude(address="").order_by("-created_at").values_list(
        "address", flat=True).first()
    id_number = view.identities.get(identities.ID_CARD, "")
    birth = ""
    if id_number and "*" not in id_number:
        from . import normalise

        birth = normalise.birth_from_id(id_number)
    return RecordView(
        label=_("Citizen #%(id)s") % {"id": citizen.pk}, link=str(citizen.pk),
        values={"name": view.name, "id_number": id_number, "phone": view.identities.get(identities.PHONE, ""),
                "birth_date": birth, "address": last or ""},
        extra={_("Cases"): str(Case.objects.filter(citizen=citizen).count()),
               _("Record created"): citizen.created_at.strftime("%Y-%m-%d")})


def proposal_list(actor: Actor, status: str | None) -> QuerySet[MatchProposal]:
    require_reviewer(actor)
    qs = MatchProposal.objects.select_related("citizen", "other_citizen", "resident")
    return qs.filter(status=status) if status else qs


def proposal_get(actor: Actor, proposal_id: int) -> MatchProposal:
    require_reviewer(actor)
    proposal = (MatchProposal.objects.select_related("citizen", "other_citizen", "resident", "run")
                .filter(pk=proposal_id).first())
    if proposal is None:
        raise NotFound(_("No such proposal."))
    return proposal


def proposal_explained(proposal: MatchProposal, actor: Actor) -> dict:
    """Both records side by side, and per field the comparison level and its match weight."""
    left = citizen_side(proposal.citizen, actor)
    right = (citizen_side(proposal.other_citizen, actor) if proposal.kind == MatchProposal.Kind.MERGE
             else resident_view(proposal.resident, actor))
    rows = []
    for field in matching.FIELDS:
        gamma = int(proposal.levels.get(field, -1))
        rows.append({"field": matching.FIELD_LABELS[field], "left": left.values.get(field, ""),
                     "right": right.values.get(field, ""), "level": matching.level_label(field, gamma),
                     "weight": proposal.weights.get(field, 0.0)})
    return {"left": left, "right": right, "rows": rows}


def runs_latest(actor: Actor, limit: int = 5) -> list[MatchRun]:
    require_reviewer(actor)
    return list(MatchRun.objects.all()[:limit])


def import_list(actor: Actor) -> QuerySet[RegistryImport]:
    require_reviewer(actor)
    return RegistryImport.objects.all()


def import_get(actor: Actor, import_id: int) -> RegistryImport:
    require_reviewer(actor)
    batch = RegistryImport.objects.filter(pk=import_id).first()
    if batch is None:
        raise NotFound(_("No such import."))
    return batch


def import_records(batch: RegistryImport, limit: int = 200) -> list[ResidentRecord] | list[EnterpriseRecord]:
    """The records this import wrote last, masked fields only (no decryption)."""
    model = ResidentRecord if batch.kind == "residents" else EnterpriseRecord
    return list(model.objects.filter(registry_import=batch).order_by("row_number")[:limit])
