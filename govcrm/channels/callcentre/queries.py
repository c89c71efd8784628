"""Reads for the agent console: the screen pop of the agent's current call, and the follow-up list.

Rules:
- An agent's screen pop is their latest call that is ringing or answered, or that ended less than
  WRAP_UP ago without being linked to a case (so that it can still be linked), and no older than
  POP_WINDOW (a PBX that never reported "ended" must not pin a call forever).
- The caller's record is shown through `citizens.queries.citizen_view`, masked by the reader's
  role; their open cases and last contacts come from the cases and channels queries.
- The follow-up list is the actor's `to_follow_up` queue, with each case's citizen and identities
  loaded in two queries (no query per row).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from govcrm.cases.models import Case
from govcrm.cases.queries import case_list_for_citizen, case_queue
from govcrm.cases.workflow import Status
from govcrm.channels.models import Interaction
from govcrm.channels.queries import timeline_for_citizen
from govcrm.citizens.queries import CitizenView, citizen_view
from govcrm.organization.queries import Actor

from .models import Call

POP_WINDOW = dt.timedelta(hours=2)
WRAP_UP = dt.timedelta(minutes=10)
OPEN_CASES_SHOWN = 10
CONTACTS_SHOWN = 5


@dataclass(frozen=True)
class ScreenPop:
    call: Call
    citizen: CitizenView | None
    open_cases: list[Case]
    contacts: list[Interaction]

    @property
    def token(self) -> str:
        """Changes whenever what the pop shows changes (the poll answers 204 while it does not)."""
        return f"{self.call.pk}.{self.call.state}.{self.call.case_id or 0}.{self.call.citizen_id or 0}"


def current_call(actor: Actor, *, now: dt.datetime | None = None) -> Call | None:
    now = now or timezone.now()
    active = Q(state__in=[Call.State.RINGING, Call.State.ANSWERED])
    wrapping_up = Q(state=Call.State.ENDED, case__isnull=True, ended_at__gte=now - WRAP_UP)
    return (Call.objects.filter(agent=actor.username, created_at__gte=now - POP_WINDOW)
            .filter(active | wrapping_up).select_related("citizen", "case").order_by("-created_at", "-id").first())


def screen_pop_for(actor: Actor, *, now: dt.datetime | None = None) -> ScreenPop | None:
    call = current_call(actor, now=now)
    if call is None:
        return None
    if call.citizen is None:
        return ScreenPop(call, None, [], [])
    cases = list(case_list_for_citizen(call.citizen_id).exclude(status=Status.CLOSED)[:OPEN_CASES_SHOWN])
    return ScreenPop(call, citizen_view(call.citizen, actor), cases,
                     list(timeline_for_citizen(call.citizen_id, limit=CONTACTS_SHOWN)))


def call_get(call_id: str) -> Call | None:
    return Call.objects.select_related("case", "citizen").filter(call_id=call_id).first()


def followup_queue(actor: Actor) -> QuerySet[Case]:
    return case_queue(actor, "to_follow_up").select_related("citizen").prefetch_related("citizen__identities")
