"""Every move of the state table, a refused one for each kind of refusal, and the lifecycle."""

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from govcrm.cases.models import Case, CaseAssignment, CaseEvent, ImmutableError
from govcrm.cases.tests.factories import LEAF, dispatch_rule, move, register
from govcrm.cases.workflow import Status
from govcrm.common.errors import Forbidden, NotAllowed, NotFound, ValidationFailed

pytestmark = pytest.mark.django_db


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def actions_of(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", flat=True))


def walk_to_follow_up(city, case):
    d, s = city.actor("dispatcher"), city.actor("street_handler")
    move(d, case, "dispatch", unit="gov-d1s1")
    move(s, case, "accept")
    move(s, case, "contact", method="phone")
    move(s, case, "reply", reply="已修复路灯。")
    move(d, case, "review")
    return fresh(case)


def test_full_lifecycle(city):
    case = register(city.actor("agent"))
    assert case.status == Status.REGISTERED and case.number.isdigit() and len(case.query_code) == 6
    case = walk_to_follow_up(city, case)
    assert case.status == Status.FOLLOW_UP
    move(city.actor("agent"), case, "follow_up", resolved=True, satisfied=True, rating=5)
    case = fresh(case)
    assert case.status == Status.CLOSED and case.close_reason == "followed_up"
    assert case.rating == 5 and case.first_contact_at and case.accepted_at and case.replied_at
    assert actions_of(case) == ["register", "dispatch", "accept", "contact", "reply", "review", "follow_up"]
    events = list(case.events.order_by("seq"))
    assert all(a.to_status == b.from_status for a, b in itertools.pairwise(events))
    assert all(a.at <= b.at for a, b in itertools.pairwise(events))


def test_dispatch_rule_applies_at_intake_most_specific_wins(city):
    dispatch_rule(LEAF, city.urban)  # city-wide
    dispatch_rule(LEAF, city.street1, city.street_area)  # this street's area
    case = register(city.actor("agent"))
    assert case.status == Status.DISPATCHED and case.lead_unit == city.street1
    other = register(city.actor("agent"), area="d2")
    assert other.lead_unit == city.urban


def test_no_rule_lands_in_dispatcher_queue(city):
    from govcrm.cases.queries import case_queue

    case = register(city.actor("agent"))
    assert case.status == Status.REGISTERED
    assert case in case_queue(city.actor("dispatcher"), "to_dispatch")


def test_resolve_at_first_contact(city):
    from govcrm.cases.actions import CaseInput, case_register

    case = case_register(actor=city.actor("agent"), data=CaseInput(
        category=LEAF, case_type="inquiry", description="路灯归谁管？", resolve_now_reply="由街道负责。"))
    assert case.status == Status.CLOSED and case.close_reason == "first_contact"


def test_two_level_dispatch_with_co_handler(city):
    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1", co_units=["water"])
    dm = city.actor("district_manager")
    move(dm, case, "accept")
    move(dm, case, "subdispatch", unit="gov-d1s1")
    case = fresh(case)
    assert case.status == Status.DISPATCHED and case.lead_unit == city.street1
    active = set(CaseAssignment.objects.filter(case=case, active=True).values_list("unit__code", "role"))
    assert ("gov-d1s1", "lead") in active
    # the district keeps seeing it (its subtree holds it), the co-handler too
    from govcrm.cases.queries import case_get

    assert case_get(dm, case.number)
    assert case_get(city.actor("water_handler"), case.number)
    # but a co-handler cannot reply for the lead unit
    move(city.actor("street_handler"), case, "accept")
    with pytest.raises(Forbidden):
        move(city.actor("water_handler"), case, "reply", reply="x")
    with pytest.raises(ValidationFailed):  # down only, into the subtree
        move(city.actor("street_handler"), case, "subdispatch", unit="gov-d2")


def test_return_then_redispatch_keeps_clock(city):
    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "dispatch", unit="urban")
    due = fresh(case).reply_due
    with pytest.raises(ValidationFailed):
        move(city.actor("urban_handler"), case, "return", reason_code="because")
    move(city.actor("urban_handler"), case, "return", reason_code="not_our_duty", reason="属地街道负责")
    case = fresh(case)
    assert case.status == Status.RETURNED and case.return_count == 1
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    case = fresh(case)
    assert case.status == Status.DISPATCHED and case.lead_unit == city.street1 and case.reply_due == due


def test_arbitration_sends_back_to_returning_unit(city):
    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "dispatch", unit="urban")
    move(city.actor("urban_handler"), case, "return", reason_code="not_our_duty")
    move(city.actor("supervisor"), case, "arbitrate", reason="路灯属城管委职责")
    case = fresh(case)
    assert case.status == Status.DISPATCHED and case.lead_unit == city.urban


def test_transfer_keeps_reply_deadline(city):
    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "dispatch", unit="urban")
    move(city.actor("urban_handler"), case, "accept")
    due = fresh(case).reply_due
    move(city.actor("dispatcher"), case, "transfer", unit="water", reason="供水问题")
    case = fresh(case)
    assert case.status == Status.DISPATCHED and case.lead_unit == city.water and case.reply_due == due
    with pytest.raises(Forbidden):  # the old unit no longer holds it
        move(city.actor("urban_handler"), case, "accept")


def test_send_back_after_review(city):
    case = register(city.actor("agent"))
    d, s = city.actor("dispatcher"), city.actor("street_handler")
    move(d, case, "dispatch", unit="gov-d1s1")
    move(s, case, "accept")
    move(s, case, "reply", reply="已处理")
    with pytest.raises(ValidationFailed):
        move(d, case, "send_back")  # needs a reason
    move(d, case, "send_back", reason="答复过于简单")
    assert fresh(case).status == Status.IN_PROGRESS


def test_reopen_after_unsatisfied_follow_up(city):
    case = walk_to_follow_up(city, register(city.actor("agent")))
    move(city.actor("agent"), case, "follow_up", resolved=False, satisfied=False, rating=1)
    with pytest.raises(Forbidden):
        move(city.actor("agent"), case, "reopen", reason="未解决")
    move(city.actor("dispatcher"), case, "reopen", reason="市民反映未解决")
    case = fresh(case)
    assert case.status == Status.DISPATCHED and case.reopen_count == 1 and case.lead_unit == city.street1
    assert case.resolved is None and case.closed_at is None


def test_extension_request_and_approval_moves_deadline(city):
    case = register(city.actor("agent"))
    s = city.actor("street_handler")
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    move(s, case, "accept")
    before = fresh(case).reply_due
    with pytest.raises(NotAllowed):
        move(city.actor("dispatcher"), case, "approve_extension")
    move(s, case, "request_extension", days=3, reason="需要施工")
    with pytest.raises(NotAllowed):
        move(s, case, "request_extension", days=3, reason="again")
    with pytest.raises(Forbidden):
        move(s, case, "approve_extension")
    move(city.actor("dispatcher"), case, "approve_extension")
    after = fresh(case).reply_due
    assert after > before + dt.timedelta(days=2)


def test_extension_rejection_keeps_deadline(city):
    case = register(city.actor("agent"))
    s = city.actor("street_handler")
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    move(s, case, "accept")
    before = fresh(case).reply_due
    move(s, case, "request_extension", days=3, reason="需要施工")
    move(city.actor("supervisor"), case, "reject_extension", reason="可以按期办结")
    case = fresh(case)
    assert case.reply_due == before and case.extension_pending_days is None


def test_pause_shifts_deadlines_by_paused_working_time(city):
    from govcrm.cases.actions import case_transition

    case = register(city.actor("agent"))
    s = city.actor("street_handler")
    monday = dt.datetime(2026, 11, 23, 10, 0, tzinfo=timezone.get_current_timezone())
    case_transition(actor=city.actor("dispatcher"), case=case, action="dispatch", data={"unit": "gov-d1s1"},
                    now=monday)
    case_transition(actor=s, case=case, action="accept", now=monday + dt.timedelta(minutes=30))
    before = fresh(case).reply_due
    case_transition(actor=s, case=case, action="pause", data={"reason_code": "waiting_citizen"},
                    now=monday + dt.timedelta(hours=1))
    with pytest.raises(NotAllowed):
        case_transition(actor=s, case=case, action="pause", data={"reason_code": "waiting_citizen"},
                        now=monday + dt.timedelta(hours=2))
    case_transition(actor=s, case=case, action="resume", now=monday + dt.timedelta(hours=4))
    after = fresh(case).reply_due
    # 3 working hours paused: the reply deadline (close of business, 17:00) moves 3 working
    # hours on, that is to 12:00 of the next working day.
    local = timezone.localtime(before)
    assert local.hour == 17
    assert timezone.localtime(after) == (local + dt.timedelta(days=1)).replace(hour=12)
    with pytest.raises(ValidationFailed):  # pausing needs an audited reason
        case_transition(actor=s, case=case, action="pause", data={"reason_code": "lunch"})


def test_supervise_and_overdue_check(city):
    from govcrm.cases.actions import case_check_deadlines

    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    with pytest.raises(Forbidden):
        move(city.actor("dispatcher"), case, "supervise", reason="x")
    later = fresh(case).reply_due + dt.timedelta(hours=1)
    assert case_check_deadlines(now=later) == 1
    assert case_check_deadlines(now=later) == 0  # safe to run twice
    case = fresh(case)
    assert case.supervision_level == 1 and actions_of(case)[-1] == "supervise"
    move(city.actor("supervisor"), case, "supervise", reason="再次督办")
    assert fresh(case).supervision_level == 2


def test_merge_duplicates(city):
    a = register(city.actor("agent"))
    b = register(city.actor("agent"), description="同一盏路灯坏了")
    move(city.actor("dispatcher"), b, "merge", into=a.number)
    b = fresh(b)
    assert b.status == Status.CLOSED and b.close_reason == "merged" and b.merged_into == a
    assert actions_of(a)[-1] == "merged_in"
    with pytest.raises(ValidationFailed):
        move(city.actor("dispatcher"), a, "merge", into=a.number)
    c = register(city.actor("agent"))
    with pytest.raises(ValidationFailed):  # a closed case cannot take merges
        move(city.actor("dispatcher"), c, "merge", into=b.number)


def test_withdraw(city):
    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "dispatch", unit="urban")
    move(city.actor("agent"), case, "withdraw", reason="市民撤诉")
    case = fresh(case)
    assert case.status == Status.CLOSED and case.close_reason == "withdrawn"
    with pytest.raises(NotAllowed):  # withdrawn (or merged) cases are not reopened
        move(city.actor("dispatcher"), case, "reopen", reason="x")


def test_note_in_any_state_changes_nothing(city):
    case = register(city.actor("agent"))
    move(city.actor("agent"), case, "note", reason="来电人情绪激动")
    case = fresh(case)
    assert case.status == Status.REGISTERED and actions_of(case)[-1] == "note"
    with pytest.raises(NotFound):  # a unit that never had the case cannot even annotate it
        move(city.actor("other_handler"), case, "note", reason="x")


@pytest.mark.parametrize(("who", "action", "error"), [
    ("street_handler", "accept", NotAllowed),  # registered: accept not allowed in this state
    ("agent", "review", NotAllowed),
    ("analyst", "dispatch", Forbidden),  # analysts read, they do not move cases
    ("street_handler", "dispatch", Forbidden),
])
def test_refused_moves_leave_the_case_unchanged(city, who, action, error):
    case = register(city.actor("agent"))
    before = (fresh(case).status, fresh(case).version, CaseEvent.objects.count())
    with pytest.raises(error):
        move(city.actor(who), case, action, unit="gov-d1s1")
    after = (fresh(case).status, fresh(case).version, CaseEvent.objects.count())
    assert before == after


def test_other_unit_cannot_move_a_case(city):
    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    with pytest.raises(Forbidden):
        move(city.actor("other_handler"), case, "accept")
    with pytest.raises(Forbidden):
        move(city.actor("street2_handler"), case, "accept")  # sibling street
    move(city.actor("district_manager"), case, "accept")  # the parent district may act for its street


def test_closed_case_only_reopens(city):
    case = walk_to_follow_up(city, register(city.actor("agent")))
    move(city.actor("agent"), case, "follow_up", resolved=True, satisfied=True)
    for action in ("dispatch", "accept", "reply", "withdraw", "transfer", "merge"):
        with pytest.raises((NotAllowed, Forbidden)):
            move(city.actor("dispatcher"), case, action, unit="urban", reason="x", into="1")


def test_unknown_action_and_bad_follow_up_data(city):
    case = walk_to_follow_up(city, register(city.actor("agent")))
    with pytest.raises(NotFound):
        move(city.actor("agent"), case, "teleport")
    with pytest.raises(ValidationFailed):
        move(city.actor("agent"), case, "follow_up", resolved="maybe", satisfied=True)
    with pytest.raises(ValidationFailed):
        move(city.actor("agent"), case, "follow_up", resolved=True, satisfied=True, rating=9)
    assert fresh(case).status == Status.FOLLOW_UP


def test_events_are_immutable(city):
    case = register(city.actor("agent"))
    event = case.events.first()
    event.reason = "tampered"
    with pytest.raises(ImmutableError):
        event.save()
    with pytest.raises(ImmutableError):
        event.delete()


def test_reclassify_before_dispatch_records_the_change(city):
    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "reclassify", category="environment.noise.commercial", urgency="urgent")
    case = fresh(case)
    assert case.category.code == "environment.noise.commercial" and case.urgency == "urgent"
    event = case.events.order_by("-seq").first()
    assert event.data["changes"]["category"] == ["urban.lighting.out", "environment.noise.commercial"]
    with pytest.raises(ValidationFailed):
        move(city.actor("dispatcher"), case, "reclassify", category="environment")  # not a leaf
    move(city.actor("dispatcher"), case, "dispatch", unit="urban")
    with pytest.raises(NotAllowed):
        move(city.actor("dispatcher"), case, "reclassify", category=LEAF)


def test_note_keeps_its_small_data(city):
    case = register(city.actor("agent"))
    move(city.actor("agent"), case, "note", reason="市民要求重办", reopen_requested=True, interaction=7)
    event = fresh(case).events.order_by("-seq").first()
    assert event.data == {"reopen_requested": True, "interaction": 7}
