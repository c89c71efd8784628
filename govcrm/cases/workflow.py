"""The case lifecycle as one table: states, moves, who may make them.

registered 受理 → dispatched 派单 → accepted 签收 → in_progress 办理 → replied 办结答复
→ follow_up 回访 (after the centre's review 审核) → closed 结案.

Rules enforced here and only here:
- A case has exactly one current state; `closed` is left only by `reopen`, or by `unmerge` for a
  case merged into another (并案) while that lead case's reply has not been approved yet.
- Each move names the states it may start from, the state it leads to (None: stays), and
  the roles that may make it. Unit roles may only move cases whose lead unit is in their subtree
  (checked in actions, which know the case).
- Side moves: return 退单 (unit → centre, with a reason code), arbitrate (the centre rejects a
  return and sends the case back to the same unit), transfer 转派, extension request and
  decision 延期, supervision 督办, pause/resume of the clock for an audited reason, merge 并案,
  withdrawal 撤销, reopen 重办 after an unsatisfied follow-up.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from govcrm.organization.models import Role


class Status(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    DISPATCHED = "dispatched", _("Dispatched")
    ACCEPTED = "accepted", _("Accepted")
    IN_PROGRESS = "in_progress", _("In progress")
    RETURNED = "returned", _("Returned")
    REPLIED = "replied", _("Replied")
    FOLLOW_UP = "follow_up", _("Follow-up")
    CLOSED = "closed", _("Closed")


OPEN_STATES = frozenset(s for s in Status if s != Status.CLOSED)
# States in which a unit holds the case and its clock runs.
UNIT_STATES = frozenset({Status.DISPATCHED, Status.ACCEPTED, Status.IN_PROGRESS})


class CloseReason(models.TextChoices):
    FIRST_CONTACT = "first_contact", _("Resolved at first contact")
    FOLLOWED_UP = "followed_up", _("Followed up")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    MERGED = "merged", _("Merged")


class ReturnReason(models.TextChoices):
    NOT_OUR_DUTY = "not_our_duty", _("Not within our responsibility")
    WRONG_AREA = "wrong_area", _("Outside our territory")
    INFO_MISSING = "info_missing", _("Information missing, cannot be handled")
    DUPLICATE = "duplicate", _("Duplicate of another case")
    LEGAL_CHANNEL = "legal_channel", _("Belongs to litigation / arbitration / petition")


class PauseReason(models.TextChoices):
    WAITING_CITIZEN = "waiting_citizen", _("Waiting for the citizen")
    EXPERT_ASSESSMENT = "expert_assessment", _("Waiting for an expert assessment")


CENTRE = frozenset({Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})
CENTRE_DECIDERS = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})
UNIT = frozenset({Role.HANDLER, Role.MANAGER})
UNIT_LEAD = frozenset({Role.MANAGER})


@dataclass(frozen=True)
class Move:
    name: str
    label: str
    sources: frozenset[str]
    target: str | None  # None: the state does not change
    roles: frozenset[str]
    unit_bound: bool = False  # a unit role must hold the case (lead unit in its subtree)
    public: bool = False  # shown on the citizen's tracking page
    needs_reason: bool = False


def _m(name, label, sources, target, roles, **kw) -> Move:
    return Move(name, label, frozenset(sources), target, frozenset(roles), **kw)


S = Status
ALL_OPEN = OPEN_STATES
MOVES: dict[str, Move] = {m.name: m for m in [
    _m("dispatch", _("Dispatch"), {S.REGISTERED, S.RETURNED}, S.DISPATCHED, CENTRE_DECIDERS | {Role.AGENT},
       public=True),
    # Second-level dispatch: a district passes the case down to a street in its subtree.
    _m("subdispatch", _("Dispatch down"), {S.ACCEPTED}, S.DISPATCHED, UNIT, unit_bound=True),
    _m("resolve_first_contact", _("Resolve at first contact"), {S.REGISTERED}, S.CLOSED,
       {Role.AGENT, Role.DISPATCHER}, public=True),
    _m("accept", _("Accept"), {S.DISPATCHED}, S.ACCEPTED, UNIT, unit_bound=True, public=True),
    _m("return", _("Return"), {S.DISPATCHED, S.ACCEPTED}, S.RETURNED, UNIT, unit_bound=True,
       needs_reason=True),
    _m("arbitrate", _("Reject the return"), {S.RETURNED}, S.DISPATCHED, CENTRE_DECIDERS,
       needs_reason=True),
    _m("transfer", _("Transfer"), {S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS}, S.DISPATCHED,
       CENTRE_DECIDERS, needs_reason=True),
    _m("contact", _("Record contact with the citizen"), {S.ACCEPTED, S.IN_PROGRESS}, S.IN_PROGRESS,
       UNIT, unit_bound=True),
    _m("reply", _("Reply"), {S.ACCEPTED, S.IN_PROGRESS}, S.REPLIED, UNIT, unit_bound=True,
       public=True),
    _m("review", _("Approve the reply"), {S.REPLIED}, S.FOLLOW_UP, CENTRE_DECIDERS),
    _m("send_back", _("Send back for redo"), {S.REPLIED}, S.IN_PROGRESS, CENTRE_DECIDERS,
       needs_reason=True),
    _m("follow_up", _("Record the follow-up"), {S.FOLLOW_UP}, S.CLOSED, {Role.AGENT, *CENTRE_DECIDERS},
       public=True),
    _m("reopen", _("Reopen"), {S.CLOSED}, S.DISPATCHED, CENTRE_DECIDERS, needs_reason=True, public=True),
    _m("request_extension", _("Request an extension"), {S.ACCEPTED, S.IN_PROGRESS}, None, UNIT,
       unit_bound=True, needs_reason=True),
    _m("approve_extension", _("Approve the extension"), {S.ACCEPTED, S.IN_PROGRESS}, None,
       CENTRE_DECIDERS),
    _m("reject_extension", _("Reject the extension"), {S.ACCEPTED, S.IN_PROGRESS}, None,
       CENTRE_DECIDERS, needs_reason=True),
    _m("pause", _("Pause the clock"), {S.ACCEPTED, S.IN_PROGRESS}, None, UNIT, unit_bound=True,
       needs_reason=True),
    _m("resume", _("Resume the clock"), {S.ACCEPTED, S.IN_PROGRESS}, None,
       UNIT | CENTRE_DECIDERS, unit_bound=True),
    _m("supervise", _("Supervise"), {S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS, S.RETURNED}, None,
       {Role.SUPERVISOR, Role.ADMIN}, needs_reason=True),
    _m("merge", _("Merge into another case"), ALL_OPEN, S.CLOSED, CENTRE_DECIDERS, public=True),
    # Take a merged case out of its incident again (back to the state it was merged from).
    _m("unmerge", _("Take out of the merged incident"), {S.CLOSED}, None, CENTRE_DECIDERS, needs_reason=True,
       public=True),
    _m("withdraw", _("Withdraw"), {S.REGISTERED, S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS, S.RETURNED},
       S.CLOSED, {Role.AGENT, *CENTRE_DECIDERS}, needs_reason=True, public=True),
    # Correct the category, type or urgency before dispatch (feeds the dispatch classifier's feedback).
    _m("reclassify", _("Reclassify"), {S.REGISTERED, S.RETURNED}, None, {Role.AGENT, *CENTRE_DECIDERS}),
    _m("note", _("Add a note"), set(Status), None, CENTRE | UNIT | {Role.ANALYST}, unit_bound=True),
]}
# Moves made by the system itself (not offered to people).
SYSTEM_MOVES = frozenset({"register"})


def target_of(move: Move, current: str) -> str:
    return move.target if move.target is not None else current


def moves_from(status: str) -> list[Move]:
    return [m for m in MOVES.values() if status in m.sources]
