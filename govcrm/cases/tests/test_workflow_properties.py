"""Property test: random sequences of moves by random staff keep the state machine's invariants.

Invariants: exactly one current state, equal to the last event's target; event seqs
contiguous and times monotonic; each event starts where the previous ended; nothing leaves
`closed` except `reopen`; a refused move changes neither the case nor its history.
"""

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govcrm.cases.actions import case_transition
from govcrm.cases.models import Case
from govcrm.cases.tests.factories import register
from govcrm.cases.workflow import MOVES, Status
from govcrm.common.errors import DomainError

pytestmark = pytest.mark.django_db

USERS = ["agent", "dispatcher", "supervisor", "analyst", "urban_handler", "district_manager", "street_handler",
         "water_handler", "other_handler"]
DATA = {
    "unit": st.sampled_from(["urban", "gov-d1", "gov-d1s1", "water", "gov-d2", "nope"]),
    "reason": st.sampled_from(["", "理由"]),
    "reason_code": st.sampled_from(["", "not_our_duty", "waiting_citizen", "bogus"]),
    "reply": st.sampled_from(["", "已办结"]),
    "resolved": st.booleans(),
    "satisfied": st.booleans(),
    "rating": st.integers(0, 6),
    "days": st.integers(0, 70),
}
step = st.tuples(
    st.sampled_from(USERS), st.sampled_from(sorted(MOVES)), st.fixed_dictionaries({}, optional=DATA),
    st.integers(0, 3000),  # minutes since the previous move
)


def snapshot(case_id):
    case = Case.objects.get(pk=case_id)
    return case.status, case.version, list(case.events.values_list("seq", flat=True))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_random_moves_keep_invariants(city, steps):
    case = register(city.actor("agent"))
    now = case.created_at
    for user, action, data, minutes in steps:
        now += dt.timedelta(minutes=minutes)
        before = snapshot(case.pk)
        try:
            case_transition(actor=city.actor(user), case=case.number, action=action, data=dict(data), now=now)
        except DomainError:
            assert snapshot(case.pk) == before, f"refused {action} by {user} changed the case"
            continue
        if before[0] == Status.CLOSED:
            assert action in ("reopen", "note", "unmerge"), f"{action} left closed"
    case = Case.objects.get(pk=case.pk)
    events = list(case.events.order_by("seq"))
    assert case.status in Status.values
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].to_status == case.status
    for a, b in itertools.pairwise(events):
        assert a.at <= b.at
        assert b.from_status == a.to_status or b.action == "merged_in"
    assert (case.closed_at is not None) == (case.status == Status.CLOSED)
