"""How a case's state reads in Open311.

Rules:
- A service request is `closed` when its case is closed, `open` in every other state
  (GeoReport v2 knows only these two).
- A public case event becomes an update of mySociety's servicerequestupdates extension with one of
  its extended statuses, lower case on GET as open311-adapter's `status_extended` type (FixMyStreet
  lower-cases and maps them: `fixed` → fixed, `action_scheduled` → action scheduled, …):
  registration and reopening → open; dispatch → action_scheduled; acceptance → in_progress;
  the unit's reply and a resolution at first contact → fixed; the follow-up → fixed when the
  citizen said it was resolved, else no_further_action; a merge → duplicate; a withdrawal → closed.
"""

from __future__ import annotations

from govcrm.cases.workflow import Status

EVENT_STATUS = {
    "register": "open",
    "dispatch": "action_scheduled",
    "accept": "in_progress",
    "reply": "fixed",
    "resolve_first_contact": "fixed",
    "reopen": "open",
    "merge": "duplicate",
    "incident_reply": "fixed",  # the reply of the request it was merged into
    "unmerge": "open",
    "withdraw": "closed",
}


def request_status(case_status: str) -> str:
    return "closed" if case_status == Status.CLOSED else "open"


def update_status(action: str, to_status: str, data: dict) -> str:
    if action == "follow_up":
        return "fixed" if data.get("resolved") else "no_further_action"
    return EVENT_STATUS.get(action) or request_status(to_status)
