"""The application's status table (one state table, ADR 0007): the allowed moves and nothing else.

started → submitted (the citizen sends the form) → in_review (a unit accepts the first task)
→ approved | rejected (the process ends). The citizen may withdraw while it is not decided.
A process may also decide straight from submitted (e.g. a DMN table finds no eligibility).
"""

from __future__ import annotations

from .models import ApplicationStatus as S

MOVES: dict[str, frozenset[str]] = {
    S.STARTED: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.SUBMITTED: frozenset({S.IN_REVIEW, S.APPROVED, S.REJECTED, S.WITHDRAWN}),
    S.IN_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.WITHDRAWN}),
    S.APPROVED: frozenset(),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

FINAL = frozenset({S.APPROVED, S.REJECTED, S.WITHDRAWN})


class TransitionNotAllowed(Exception):
    def __init__(self, from_status: str, to_status: str):
        super().__init__(f"{from_status} → {to_status} is not allowed")
        self.from_status = from_status
        self.to_status = to_status


def check_move(from_status: str, to_status: str) -> None:
    if to_status not in MOVES.get(from_status, frozenset()):
        raise TransitionNotAllowed(from_status, to_status)
