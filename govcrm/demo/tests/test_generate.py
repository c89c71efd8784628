"""Generated cases: histories that the state table allows, that the real actions reproduce field for
field, every state of the lifecycle, the real search text, numbers that never collide, and more."""

import datetime as dt
import itertools
import time

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Count, Max

from govcrm.cases import search
from govcrm.cases.actions import CaseInput, case_register, case_transition
from govcrm.cases.models import Case, CaseAssignment, CaseEvent, CaseNumberSequence
from govcrm.cases.queries import CaseFilter, case_list
from govcrm.cases.workflow import MOVES, CloseReason, Status, target_of
from govcrm.citizens import crypto, identities
from govcrm.citizens.actions import citizen_find
from govcrm.citizens.models import Citizen, Identity
from govcrm.demo import city
from govcrm.demo.generate import demo_generate
from govcrm.organization.queries import SYSTEM, actor_for_user

pytestmark = pytest.mark.django_db

N = 300
EXTRA = ("register", "merged_in")


@pytest.fixture
def demo():
    return demo_generate(cases=N, seed=3, progress=False, workers=0)


def test_histories_follow_the_state_table(demo):
    assert demo.cases == N and Case.objects.count() == N
    events = list(CaseEvent.objects.order_by("case_id", "seq"))
    assert len(events) == demo.events
    cases = {c.pk: c for c in Case.objects.all()}
    for case_id, group in itertools.groupby(events, key=lambda e: e.case_id):
        history = list(group)
        case = cases[case_id]
        assert [e.seq for e in history] == list(range(1, len(history) + 1))
        first = history[0]
        assert (first.action, first.from_status, first.to_status, first.public) == ("register", "", "registered", True)
        assert first.at == case.created_at
        for before, event in itertools.pairwise(history):
            assert event.at >= before.at, (case.number, event.seq)
            assert event.from_status == before.to_status, (case.number, event.seq)
            if event.action == "merged_in":
                assert event.to_status == event.from_status and not event.public
                continue
            move = MOVES[event.action]
            assert event.from_status in move.sources, (case.number, event.action, event.from_status)
            assert event.to_status == target_of(move, event.from_status), (case.number, event.action)
            assert event.public == move.public
            assert event.actor_id is None or event.actor_role in move.roles, (case.number, event.action)
        assert history[-1].to_status == case.status
        assert case.version == len(history)
        assert case.updated_at == max(e.at for e in history)
        assert (case.closed_at is not None) == (case.status == Status.CLOSED)
        assert bool(case.close_reason) == (case.status == Status.CLOSED)
        assert case.created_at <= dt.datetime.now(dt.UTC)


def test_every_state_close_reason_and_side_move_occurs(demo):
    assert set(Case.objects.values_list("status", flat=True)) == set(Status.values)
    assert set(Case.objects.values_list("close_reason", flat=True)) >= {
        "", CloseReason.FIRST_CONTACT, CloseReason.FOLLOWED_UP, CloseReason.WITHDRAWN}
    actions = set(CaseEvent.objects.values_list("action", flat=True))
    assert actions >= {"register", "dispatch", "subdispatch", "accept", "return", "arbitrate", "transfer", "contact",
                       "pause", "resume", "request_extension", "approve_extension", "supervise", "reply",
                       "send_back", "review", "follow_up", "reopen", "resolve_first_contact", "withdraw", "note"}
    assert Case.objects.filter(reopen_count__gt=0, status=Status.CLOSED).exists()
    now = dt.datetime.now(dt.UTC)
    assert Case.objects.filter(status__in=[Status.ACCEPTED, Status.IN_PROGRESS], reply_due__lt=now).exists()
    assert set(Case.objects.values_list("case_type", flat=True)) == {
        "inquiry", "help", "complaint", "report", "suggestion", "praise"}
    assert 0.08 < Case.objects.filter(language="en").count() / N < 0.25
    assert Case.objects.filter(status=Status.REGISTERED, lead_unit__isnull=True).exists()
    assert CaseAssignment.objects.filter(role=CaseAssignment.Role.CO).exists()


def _replay_data(event: CaseEvent) -> dict:
    d = event.data
    if event.action == "dispatch":
        return {k: d[k] for k in ("unit", "co_units", "rule") if k in d}
    if event.action in ("subdispatch", "transfer", "reopen"):
        return {"unit": d["unit"]}
    if event.action in ("reply", "resolve_first_contact"):
        return {"reply": d["reply"]}
    if event.action == "follow_up":
        return {k: d[k] for k in ("resolved", "satisfied", "rating")}
    if event.action == "request_extension":
        return {"days": d["days"]}
    if event.action == "contact":
        return {"method": d["method"]}
    return {}


FIELDS = ("status", "close_reason", "lead_unit_id", "dispatch_count", "return_count", "reopen_count",
          "supervision_level", "accept_due", "contact_due", "reply_due", "dispatched_at", "accepted_at",
          "first_contact_at", "replied_at", "closed_at", "paused_at", "pause_reason", "extension_pending_days",
          "reply", "resolved", "satisfied", "rating", "version")
EVENT_FIELDS = ("action", "actor_id", "actor_name", "actor_role", "actor_unit_id", "at", "from_status", "to_status",
                "reason_code", "reason", "data", "public")


def test_the_real_actions_reproduce_the_histories(demo):
    """Replay demo histories (every one with a side move) through `case_transition` on a copy: same
    fields, deadlines, assignments and events."""
    users = {u.pk: u for u in get_user_model().objects.all()}
    replayed = 0
    plain = {"register", "dispatch", "accept", "contact", "reply", "review", "follow_up", "resolve_first_contact"}
    for k, case in enumerate(Case.objects.order_by("id")):
        history = list(case.events.order_by("seq"))
        if any(e.action in ("merge", "merged_in") for e in history):
            continue
        if k % 3 and {e.action for e in history} <= plain:
            continue  # a third of the plain histories suffice; every side move is replayed
        copy = Case.objects.create(
            number=f"R{case.number}", query_code=case.query_code, case_type=case.case_type, urgency=case.urgency,
            category=case.category, status=Status.REGISTERED, channel=case.channel, description=case.description,
            area=case.area, citizen=case.citizen, search_text=case.search_text)
        first = history[0]
        CaseEvent.objects.create(case=copy, seq=1, action="register", actor_id=first.actor_id,
                                 actor_name=first.actor_name, actor_role=first.actor_role,
                                 actor_unit_id=first.actor_unit_id, at=first.at, to_status="registered",
                                 data=first.data, public=True)
        for event in history[1:]:
            actor = SYSTEM if event.actor_id is None else actor_for_user(users[event.actor_id])
            data = _replay_data(event)
            if event.reason_code:
                data["reason_code"] = event.reason_code
            case_transition(actor=actor, case=copy.number, action=event.action, data=data, reason=event.reason,
                            now=event.at)
        copy.refresh_from_db()
        for name in FIELDS:
            assert getattr(copy, name) == getattr(case, name), (case.number, name)
        theirs = [tuple(getattr(e, f) for f in EVENT_FIELDS) for e in copy.events.order_by("seq")]
        mine = [tuple(getattr(e, f) for f in EVENT_FIELDS) for e in history]
        assert theirs == mine, case.number
        lead = lambda c: sorted(c.assignments.values_list("unit_id", "role", "active"))  # noqa: E731
        assert lead(copy) == lead(case), case.number
        replayed += 1
    assert replayed > N * 0.4


def test_search_text_is_what_the_search_module_makes(demo):
    for case in Case.objects.all():
        assert case.search_text == search.search_text(case.title, case.description, case.address), case.number
    dispatcher = actor_for_user(get_user_model().objects.get(username="dispatcher"))
    found = list(case_list(dispatcher, CaseFilter(q="路灯")))
    assert found and all("路灯" in c.search_text.split() for c in found)
    assert len(found) == sum("路灯" in c.search_text.split() for c in Case.objects.all())


def test_numbers_are_daily_sequences_that_the_app_continues(demo):
    numbers = list(Case.objects.order_by("created_at", "id").values_list("number", "created_at"))
    assert len({n for n, _ in numbers}) == N
    last = dict(CaseNumberSequence.objects.values_list("day", "last"))
    for number, created in numbers:
        day = created.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y%m%d")
        assert number[:8] == day and len(number) == 14
        assert int(number[8:]) <= last[day]
    today = max(numbers, key=lambda n: n[1])[1]
    actor = actor_for_user(get_user_model().objects.get(username="agent"))
    case = case_register(actor=actor, data=CaseInput(category="urban.lighting.out", case_type="complaint",
                                                     description="路灯不亮。", channel="phone"), now=today)
    assert case.number[:8] == numbers[-1][0][:8]
    assert int(case.number[8:]) == last[case.number[:8]] + 1


def test_a_demo_case_moves_on_through_the_actions(demo):
    users = get_user_model().objects
    dispatcher = actor_for_user(users.get(username="dispatcher"))
    agent = actor_for_user(users.get(username="agent"))

    def unit_actor(case):
        profile = case.lead_unit.staff.first()
        return actor_for_user(profile.user)

    steps = {
        Status.REGISTERED: lambda c: (dispatcher, "dispatch", {"unit": "urban"}),
        Status.DISPATCHED: lambda c: (unit_actor(c), "accept", {}),
        Status.ACCEPTED: lambda c: (unit_actor(c), "contact", {"method": "phone"}),
        Status.IN_PROGRESS: lambda c: (unit_actor(c), "note", {"reason": "已到现场查看。"}),
        Status.RETURNED: lambda c: (dispatcher, "dispatch", {"unit": "urban"}),
        Status.REPLIED: lambda c: (dispatcher, "review", {}),
        Status.FOLLOW_UP: lambda c: (agent, "follow_up", {"resolved": True, "satisfied": True, "rating": 5}),
    }
    for status, step in steps.items():
        case = Case.objects.filter(status=status, paused_at__isnull=True).order_by("-id").first()
        actor, action, data = step(case)
        before = case.version
        moved = case_transition(actor=actor, case=case.number, action=action, data=data)
        assert moved.version == before + 1
        assert moved.events.aggregate(m=Max("seq"))["m"] == before + 1


def test_citizens_have_encrypted_phones_and_several_cases(demo):
    assert Citizen.objects.count() == demo.citizens
    for ident in Identity.objects.select_related("citizen")[:50]:
        phone = ident.value
        assert identities.normalise(identities.PHONE, phone) == phone
        assert ident.blind_index == crypto.blind_index(identities.PHONE, phone)
        assert ident.masked == identities.mask(identities.PHONE, phone)
        assert citizen_find(kind=identities.PHONE, normalised=phone) == ident.citizen
    repeat = Case.objects.values("citizen").annotate(n=Count("id")).filter(citizen__isnull=False, n__gt=1)
    assert repeat.count() > 10
    for case in Case.objects.select_related("citizen").filter(citizen__isnull=False)[:100]:
        assert case.citizen.created_at <= case.created_at
        assert case.citizen.language == case.language


def test_places_lie_in_their_grid():
    demo_generate(cases=120, seed=5, progress=False, workers=0)
    boxes = {g.place.code: g.place.box for g in city.GRIDS}
    located = Case.objects.filter(lat__isnull=False).select_related("area")
    assert located.count() > 40
    for case in located:
        s, w, n, e = boxes[case.area.code]
        assert s <= case.lat <= n and w <= case.lon <= e


def test_running_twice_appends():
    first = demo_generate(cases=80, seed=1, progress=False, workers=0, now=time.time() - 3600)
    areas = city.PLACES
    second = demo_generate(cases=70, seed=2, progress=False, workers=0)
    assert Case.objects.count() == 150
    assert second.first_case_id > first.first_case_id + 79
    assert Case.objects.values("number").distinct().count() == 150
    assert len(areas) == len(city.PLACES)
    last = dict(CaseNumberSequence.objects.values_list("day", "last"))
    for number in Case.objects.values_list("number", flat=True):
        assert int(number[8:]) <= last[number[:8]]


def _snapshot():
    cases = list(Case.objects.order_by("id").values_list("id", "number", "status", "search_text", "version",
                                                           "reply_due", "citizen_id", "lead_unit_id"))
    events = list(CaseEvent.objects.order_by("case_id", "seq").values_list("case_id", "seq", "action", "at", "data"))
    return cases, events


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_processes_build_the_same_cases():
    """Slices built in forked workers (SQLite: written through slice files) equal the ones built inline."""
    now = time.time()
    demo_generate(cases=240, seed=9, progress=False, workers=0, now=now)
    inline = _snapshot()
    for model in (CaseEvent, CaseAssignment, Case, Identity, Citizen, CaseNumberSequence):
        model.objects.all().delete()
    demo_generate(cases=240, seed=9, progress=False, workers=2, now=now)
    assert _snapshot() == inline
    assert len(inline[0]) == 240
