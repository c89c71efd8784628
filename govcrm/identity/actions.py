"""Writes of identity resolution: registry imports, match runs, decisions on proposals, merges.

Rules:
- `registry_import` stores a registry file only when every row is valid, in one transaction; a file
  with any bad row stores nothing and raises `ImportRejected` carrying the per-row report.
- `match_run` decrypts citizens' and unlinked registry residents' identities into memory, scores
  them with `matching.find_pairs` (in-memory DuckDB) and stores each new pair above the threshold
  as a pending `MatchProposal`. A pair already proposed (pending, accepted or rejected) is skipped.
  Pairs of two registry records are not proposed (nothing for a reviewer to do with them).
- Only reviewers (supervisors, administrators) decide. `proposal_accept` merges two citizen records
  (`citizen_merge`) or links a registry record to a citizen; `proposal_reject` records the decision,
  and the pair is never proposed again. A decided proposal cannot be decided again.
- `citizen_merge` keeps the older record (lower id) and moves everything that points at the other
  one: cases (each gains a `citizen_merge` event, through `cases.actions.case_citizen_move`),
  identities, contacts, notifications, registry links, and the rows of any app with a foreign key
  to `Citizen`. The merged record stays, marked `merged_into`, so that audit records and old links
  still resolve; a `CitizenMerge` lists every moved row. All of it is one transaction.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from govcrm.citizens import identities
from govcrm.citizens.models import Citizen, Identity
from govcrm.common.errors import Forbidden, NotAllowed, NotFound, ValidationFailed
from govcrm.organization.models import Role
from govcrm.organization.queries import Actor

from . import matching, registry
from .models import (
    CitizenMerge,
    EnterpriseRecord,
    MatchProposal,
    MatchRun,
    RegistryImport,
    RegistryKind,
    RegistryRecord,
    ResidentRecord,
)

logger = logging.getLogger(__name__)

REVIEWERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
IMPORTERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
DEFAULT_THRESHOLD = 0.95


class ImportRejected(ValidationFailed):
    """A registry file with bad rows (or unreadable): nothing was stored. `report` lists the problems."""

    def __init__(self, message: str, *, report: list[registry.RowError], total: int = 0):
        super().__init__(message, details={f"row {e.row}: {e.column}": e.message for e in report[:50]})
        self.report = report
        self.total = total


def _require(actor: Actor, roles: frozenset[str], message: str) -> None:
    if not actor.is_system and actor.role not in roles:
        raise Forbidden(message)


# --- registry import -----------------------------------------------------------------------------

def registry_import(*, actor: Actor, data: bytes, file_name: str, kind: str, source: str) -> RegistryImport:
    """Validate the whole file, then store all of its rows or none."""
    _require(actor, IMPORTERS, _("Only supervisors and administrators may import registries."))
    source = (source or "").strip()
    if not source:
        raise ValidationFailed(_("Name the source department."), details={"source": _("This value is empty.")})
    if len(source) > 200:
        raise ValidationFailed(_("The source department's name is too long."), details={"source": _("Too long.")})
    try:
        parsed = registry.parse(data, kind=kind)
    except registry.FileRejected as err:
        raise ImportRejected(err.message, report=[registry.RowError(0, _("file"), err.message)]) from None
    if not parsed.ok:
        msg = _("%(bad)s of %(total)s rows have problems; nothing was imported.") % {
            "bad": len({e.row for e in parsed.errors}), "total": parsed.total}
        raise ImportRejected(msg, report=parsed.errors, total=parsed.total)
    with transaction.atomic():
        batch = RegistryImport.objects.create(
            kind=kind, source=source, file_name=file_name[:255], sha256=hashlib.sha256(data).hexdigest(),
            rows=parsed.total, imported_by_id=actor.user_id, imported_by_name=actor.username)
        if kind == RegistryKind.RESIDENTS:
            batch.created, batch.updated = _store_records(
                batch, parsed.rows, model=ResidentRecord, key="id_number", key_kind=identities.ID_CARD,
                columns=("name", "birth_date", "address"))
        else:
            batch.created, batch.updated = _store_records(
                batch, parsed.rows, model=EnterpriseRecord, key="credit_code", key_kind=identities.CREDIT_CODE,
                columns=("name", "legal_representative", "address"), link=_link_enterprises)
        batch.save(update_fields=["created", "updated"])
    return batch


def _store_records(batch: RegistryImport, rows: list[dict], *, model: type[RegistryRecord], key: str,
                   key_kind: str, columns: tuple[str, ...],
                   link: Callable[[list[RegistryRecord]], list[str]] | None = None) -> tuple[int, int]:
    """Insert or update one file's rows as `model` records of the batch's source, found by the blind
    index of their `key` value (one query for the file); `columns` are copied from the row as they
    are. `link` may set more fields on the records before they are saved and names them. Returns the
    numbers of new and of updated records."""
    from govcrm.citizens import crypto

    index_field = f"{key}_index"
    indexes = [crypto.blind_index(key_kind, row[key]) for row in rows]
    existing = {getattr(r, index_field): r for r in model.objects.select_for_update().filter(
        source=batch.source, **{f"{index_field}__in": indexes})}
    new, changed = [], []
    for row, index in zip(rows, indexes, strict=True):
        record = existing.get(index)
        if record is None:
            record = model(source=batch.source)
            new.append(record)
        else:
            changed.append(record)
        record.registry_import = batch
        record.row_number = row["row"]
        for column in columns:
            setattr(record, column, row[column])
        record.set_values(**{key: row[key], "phone": row["phone"]})
    linked = link([*new, *changed]) if link else []
    model.objects.bulk_create(new, batch_size=1000)
    fields = ["registry_import", "row_number", *columns, f"{key}_stored", index_field, f"{key}_masked",
              "phone_stored", "phone_index", "phone_masked", *linked, "updated_at"]
    now = timezone.now()
    for record in changed:
        record.updated_at = now
    model.objects.bulk_update(changed, fields, batch_size=1000)
    return len(new), len(changed)


def _link_enterprises(records: list[EnterpriseRecord]) -> list[str]:
    """An enterprise is found by its credit code: link each record not yet linked to the citizens'
    enterprise record with that code (one query for the file; a code is one identity at most)."""
    unlinked = [r for r in records if r.citizen_id is None]
    if not unlinked:
        return ["citizen"]
    owners = dict(Identity.objects.filter(kind=identities.CREDIT_CODE,
                                          blind_index__in={r.credit_code_index for r in unlinked})
                  .values_list("blind_index", "citizen_id"))
    for record in unlinked:
        record.citizen_id = owners.get(record.credit_code_index)
    return ["citizen"]


# --- matching ------------------------------------------------------------------------------------

def _citizen_candidates() -> list[matching.Candidate]:
    """Every person record still in use, with its phone, resident ID and latest case address, decrypted."""
    from govcrm.cases.models import Case

    latest_address = Subquery(Case.objects.filter(citizen=OuterRef("pk")).exclude(address="")
                              .order_by("-created_at").values("address")[:1])
    people = (Citizen.objects.filter(kind=Citizen.Kind.PERSON, merged_into__isnull=True)
              .annotate(last_address=latest_address).values_list("pk", "name", "last_address"))
    values: dict[int, dict[str, str]] = defaultdict(dict)
    for citizen_id, kind, stored in (Identity.objects
                                     .filter(citizen__kind=Citizen.Kind.PERSON, citizen__merged_into__isnull=True,
                                             kind__in=(identities.PHONE, identities.ID_CARD))
                                     .order_by("pk").values_list("citizen_id", "kind", "value_stored")):
        values[citizen_id].setdefault(kind, Identity(kind=kind, value_stored=stored).value)
    out = []
    for pk, name, address in people.iterator(chunk_size=5000):
        v = values.get(pk, {})
        if not name and not v:
            continue
        out.append(matching.Candidate(key=f"c:{pk}", name=name or "", id_number=v.get(identities.ID_CARD, ""),
                                      phone=v.get(identities.PHONE, ""), address=address or ""))
    return out


def _resident_candidates() -> list[matching.Candidate]:
    out = []
    for record in ResidentRecord.objects.filter(citizen__isnull=True).only(
            "pk", "name", "id_number_stored", "phone_stored", "birth_date", "address").iterator(chunk_size=5000):
        out.append(matching.Candidate(key=f"r:{record.pk}", name=record.name, id_number=record.id_number,
                                      phone=record.phone, birth_date=record.birth_date.isoformat(),
                                      address=record.address))
    return out


def _pair_key(left: str, right: str) -> str:
    """`c:12|c:40`, `c:12|r:7`: citizens first, then by id, so the same pair always has the same key."""
    def order(key: str) -> tuple[int, int]:
        prefix, pk = key.split(":")
        return (0 if prefix == "c" else 1, int(pk))

    a, b = sorted((left, right), key=order)
    return f"{a}|{b}"


def match_run(*, threshold: float = DEFAULT_THRESHOLD) -> MatchRun:
    """Score citizens and registry residents; store new pairs above `threshold` as pending proposals."""
    if not 0.5 <= threshold < 1:
        raise ValidationFailed(_("The threshold must be a probability between 0.5 and 1."),
                               details={"threshold": _("Between 0.5 and 1.")})
    run = MatchRun.objects.create(threshold=threshold)
    started = time.monotonic()
    try:
        citizens = _citizen_candidates()
        residents = _resident_candidates()
        pairs = matching.find_pairs([*citizens, *residents], threshold=threshold)
        del citizens, residents  # the clear values go as soon as they are scored
        proposals = []
        for pair in pairs:
            if pair.left.startswith("r:") and pair.right.startswith("r:"):
                continue
            key = _pair_key(pair.left, pair.right)
            first, second = key.split("|")
            proposal = MatchProposal(
                run=run, pair_key=key, citizen_id=int(first[2:]), match_weight=pair.match_weight,
                match_probability=pair.match_probability, levels=pair.levels, weights=pair.weights)
            if second.startswith("c:"):
                proposal.kind, proposal.other_citizen_id = MatchProposal.Kind.MERGE, int(second[2:])
            else:
                proposal.kind, proposal.resident_id = MatchProposal.Kind.LINK, int(second[2:])
            proposals.append(proposal)
        known = set()
        keys = [p.pair_key for p in proposals]
        for start in range(0, len(keys), 500):
            known |= set(MatchProposal.objects.filter(pair_key__in=keys[start:start + 500])
                         .values_list("pair_key", flat=True))
        fresh = [p for p in proposals if p.pair_key not in known]
        with transaction.atomic():
            MatchProposal.objects.bulk_create(fresh, batch_size=500, ignore_conflicts=True)
            run.pairs = len(proposals)
            run.proposed = len(fresh)
    except Exception as exc:
        run.status, run.error = MatchRun.Status.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        run.finished_at, run.seconds = timezone.now(), time.monotonic() - started
        run.save()
        raise
    run.citizens = Citizen.objects.filter(kind=Citizen.Kind.PERSON, merged_into__isnull=True).count()
    run.residents = ResidentRecord.objects.filter(citizen__isnull=True).count()
    run.status, run.finished_at, run.seconds = MatchRun.Status.DONE, timezone.now(), time.monotonic() - started
    run.save()
    logger.info("match run %s: %s pairs, %s new proposals in %.1f s", run.pk, run.pairs, run.proposed, run.seconds)
    return run


# --- decisions -----------------------------------------------------------------------------------

def _pending(proposal_id: int) -> MatchProposal:
    proposal = MatchProposal.objects.select_for_update().filter(pk=proposal_id).first()
    if proposal is None:
        raise NotFound(_("No such proposal."))
    if proposal.status != MatchProposal.Status.PENDING:
        raise NotAllowed(_("This proposal was already decided (%(status)s).")
                         % {"status": proposal.get_status_display()})
    return proposal


def _decide(proposal: MatchProposal, *, actor: Actor, status: str, note: str) -> None:
    proposal.status = status
    proposal.decided_by_id = actor.user_id
    proposal.decided_by_name = actor.username
    proposal.decided_at = timezone.now()
    proposal.note = (note or "").strip()[:2000]
    proposal.save(update_fields=["status", "decided_by", "decided_by_name", "decided_at", "note"])


def _surviving(citizen: Citizen) -> Citizen:
    while citizen.merged_into_id:
        citizen = Citizen.objects.get(pk=citizen.merged_into_id)
    return citizen


def proposal_accept(*, actor: Actor, proposal_id: int, note: str = "") -> MatchProposal:
    """Accept: merge the two citizen records, or link the registry record to the citizen."""
    _require(actor, REVIEWERS, _("Only supervisors and administrators decide on proposals."))
    with transaction.atomic():
        proposal = _pending(proposal_id)
        if proposal.kind == MatchProposal.Kind.MERGE:
            citizen_merge(actor=actor, survivor_id=proposal.citizen_id, merged_id=proposal.other_citizen_id,
                          proposal=proposal)
        else:
            resident = ResidentRecord.objects.select_for_update().get(pk=proposal.resident_id)
            if resident.citizen_id is not None:
                raise NotAllowed(_("This registry record is already linked to a citizen."))
            resident.citizen = _surviving(Citizen.objects.get(pk=proposal.citizen_id))
            resident.save(update_fields=["citizen", "updated_at"])
        _decide(proposal, actor=actor, status=MatchProposal.Status.ACCEPTED, note=note)
    return proposal


def proposal_reject(*, actor: Actor, proposal_id: int, note: str = "") -> MatchProposal:
    """Reject: the two records are different people; the pair is not proposed again."""
    _require(actor, REVIEWERS, _("Only supervisors and administrators decide on proposals."))
    with transaction.atomic():
        proposal = _pending(proposal_id)
        _decide(proposal, actor=actor, status=MatchProposal.Status.REJECTED, note=note)
    return proposal


def citizen_merge(*, actor: Actor, survivor_id: int, merged_id: int,
                  proposal: MatchProposal | None = None) -> CitizenMerge:
    """Merge citizen `merged_id` into `survivor_id`: one person, one record. One transaction."""
    from govcrm.cases.actions import case_citizen_move
    from govcrm.cases.models import Case

    _require(actor, REVIEWERS, _("Only supervisors and administrators merge citizen records."))
    if survivor_id == merged_id:
        raise ValidationFailed(_("A record cannot be merged into itself."))
    with transaction.atomic():
        people = {c.pk: c for c in Citizen.objects.select_for_update().filter(pk__in=(survivor_id, merged_id))}
        if len(people) != 2:
            raise NotFound(_("No such citizen."))
        survivor, merged = people[survivor_id], people[merged_id]
        if survivor.merged_into_id or merged.merged_into_id:
            raise NotAllowed(_("One of these records was already merged into another."))
        moved: dict[str, list[int]] = {}
        cases = case_citizen_move(actor=actor, from_citizen_id=merged.pk, to_citizen_id=survivor.pk,
                                  reason=_("Duplicate citizen records merged"),
                                  data={"proposal": proposal.pk if proposal else None})
        if cases:
            moved["cases.Case.citizen"] = cases
        for relation in Citizen._meta.related_objects:
            model = relation.related_model
            if not relation.one_to_many or model in (Citizen, Case, MatchProposal, CitizenMerge):
                continue  # merged_into; cases above; the proposals and merges keep naming the merged record
            field = relation.field.name
            ids = list(model._base_manager.filter(**{field: merged.pk}).values_list("pk", flat=True))
            if ids:
                model._base_manager.filter(pk__in=ids).update(**{field: survivor.pk})
                moved[f"{model._meta.label}.{field}"] = ids
        changed = ["merged_into", "updated_at"]
        if not survivor.name and merged.name:
            survivor.name = merged.name
        # The stricter consent wins: an opt-out given on either record is kept.
        survivor.sms_opt_out = survivor.sms_opt_out or merged.sms_opt_out
        survivor.consent_contact = survivor.consent_contact and merged.consent_contact
        survivor.save(update_fields=["name", "sms_opt_out", "consent_contact", "updated_at"])
        merged.merged_into = survivor
        merged.save(update_fields=changed)
        superseded = (MatchProposal.objects.filter(status=MatchProposal.Status.PENDING)
                      .exclude(pk=proposal.pk if proposal else None)
                      .filter(Q(citizen_id=merged.pk) | Q(other_citizen_id=merged.pk)))
        superseded.update(status=MatchProposal.Status.SUPERSEDED, decided_at=timezone.now(),
                          decided_by_name=actor.username, note=_("Superseded by a merge"))
        return CitizenMerge.objects.create(survivor=survivor, merged=merged, proposal=proposal,
                                           by_id=actor.user_id, by_name=actor.username, moved=moved)
