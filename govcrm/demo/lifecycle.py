"""The life of one demo case: its events, assignments, deadlines and final fields, in memory.

Rules (the same as `govcrm.cases.actions`, which the tests replay against):
- Each event is a move of `workflow.MOVES` made from one of its source states, by a role that
  may make it; its target follows the table (moves without a target keep the state); `public`
  is the move's. Besides moves there are only `register` (first) and `merged_in` (on the
  case another one was merged into).
- Event times never go backwards and never pass `now`. A case whose next move would fall after
  `now` stays where it is (so recent cases are open); a case planned to stay open stops at its
  planned state; a "squeezed" case fits its planned moves before `now` by shortening the waits.
- Deadlines as `actions._start_clock` sets them: accept due at every dispatch; contact and reply
  due (and `dispatched_at`) only when a new round starts (first dispatch, reopen); a pause
  shifts the pending deadlines by the working time it lasted; an approved extension moves the
  reply deadline by working days.
- The deadline task supervises a case held by a unit once its reply deadline has passed, and a
  supervisor supervises again if it stays open for days after that.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
from dataclasses import dataclass
from math import log

from govcrm.cases.workflow import MOVES, UNIT_STATES, PauseReason, ReturnReason, Status

from . import phrases
from .clock import HOUR, FastCalendar

S = Status
# action -> (target or None, public)
_MOVE_INFO = {name: (m.target, m.public) for name, m in MOVES.items()}
_MOVE_INFO["register"] = (S.REGISTERED, True)
_MOVE_INFO["merged_in"] = (None, False)

Actor = tuple  # (user id or None, username, role, unit id or None)


def dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)


_JSON: dict[tuple, str] = {}


def jdata(**fields) -> str:
    """`dumps(fields)` for the few distinct event data that recur millions of times (tuples for lists)."""
    key = tuple(fields.items())
    found = _JSON.get(key)
    if found is None:
        found = _JSON[key] = dumps(fields)
    return found


def reply_data(text: str) -> str:
    return '{"reply": ' + json.dumps(text, ensure_ascii=False) + "}"


def picker(rng: random.Random):
    """`rng.choice`, four times faster: one float per pick."""
    r = rng.random

    def pick(seq):
        return seq[int(r() * len(seq))]

    return pick


@dataclass(frozen=True)
class Staff:
    system: Actor
    agents: tuple[Actor, ...]
    dispatchers: tuple[Actor, ...]
    supervisors: tuple[Actor, ...]
    of_unit: dict[int, tuple[Actor, ...]]  # unit id -> its handlers and managers


@dataclass(slots=True)
class Plan:
    """What happens to a case, decided before its life is played out."""

    target: str  # a Status, or "first_contact" | "withdrawn" | "merged" (closed in that way)
    stage: str = ""  # for withdrawn: the state it is withdrawn from
    rule: tuple | None = None  # (rule id, unit id, co-unit ids) when a dispatch rule matches
    manual_unit: int | None = None  # the dispatcher's choice when no rule matches
    district_unit: int | None = None  # a district that passes the case down to `street_unit`
    street_unit: int | None = None
    alt_unit: int | None = None  # the right unit after a return, or the transfer target
    returned: bool = False
    transfer: bool = False
    pause: bool = False
    extension: bool = False
    send_back: bool = False
    note: bool = False
    late: bool = False  # replies after the reply deadline
    squeeze: bool = False


class Stop(Exception):
    """The next move would happen after now: the case stays in its current state."""


class Life:
    """A case being played out; its attributes mirror the columns of `cases.Case`."""

    __slots__ = (
        "accept_due",
        "accepted_at",
        "assignments",
        "cal",
        "close_reason",
        "closed_at",
        "contact_due",
        "dispatch_count",
        "dispatched_at",
        "english",
        "events",
        "extension_pending_days",
        "first_contact_at",
        "last_at",
        "lead",
        "limits",
        "merged_into",
        "now",
        "number",
        "pause_reason",
        "paused_at",
        "pick",
        "rating",
        "reopen_count",
        "replied_at",
        "reply",
        "reply_due",
        "resolved",
        "return_count",
        "rng",
        "satisfied",
        "squeeze",
        "staff",
        "status",
        "supervision_level",
        "t0",
        "task_lag",
        "unit_codes",
        "updated_at",
    )

    def __init__(self, *, cal: FastCalendar, now: int, staff: Staff, rng: random.Random, unit_codes: dict,
                 limits: tuple[int, int, int], t0: int, english: bool, squeeze: bool, number: str) -> None:
        self.cal, self.now, self.staff, self.rng, self.unit_codes = cal, now, staff, rng, unit_codes
        self.pick = picker(rng)
        self.limits = limits
        self.english = english
        self.squeeze = squeeze
        self.number = number
        self.t0 = t0
        self.status = ""
        self.last_at = t0
        self.events: list[tuple] = []  # (action, actor, at, from, to, reason code, reason, data json, public)
        self.assignments: list[list] = []  # [unit id, role, active, created at]
        self.lead: int | None = None
        self.dispatch_count = self.return_count = self.reopen_count = self.supervision_level = 0
        self.accept_due = self.contact_due = self.reply_due = self.dispatched_at = None
        self.accepted_at = self.first_contact_at = self.replied_at = self.closed_at = self.paused_at = None
        self.pause_reason = ""
        self.extension_pending_days: int | None = None
        self.reply = ""
        self.resolved = self.satisfied = self.rating = None
        self.close_reason = ""
        self.merged_into: int | None = None
        self.updated_at = t0
        self.task_lag = rng.randint(300, 3600)  # how long after a deadline the periodic task notices

    # --- recording --------------------------------------------------------------------------------
    def fit(self, at: int) -> int:
        """The time a move planned for `at` happens: never before the last one, never after now."""
        if at > self.now:
            if not self.squeeze:
                raise Stop
            at = self.last_at + (self.now - self.last_at) // 4
        return at if at > self.last_at else self.last_at

    def ev(self, action: str, at: int, actor: Actor, *, to: str | None = None, reason_code: str = "",
           reason: str = "", data: str = "{}") -> int:
        if at > self.now or at < self.last_at:  # the usual case skips the call
            at = self.fit(at)
        target, public = _MOVE_INFO[action]
        if to is None:
            to = target or self.status
        self.events.append((action, actor, at, self.status, to, reason_code, reason, data, public))
        self.status = to
        self.last_at = self.updated_at = at
        return at

    def insert_merged_in(self, at: int, actor: Actor, from_number: str) -> bool:
        """Record that another case was merged into this one at `at`, if it was open then."""
        index = len(self.events)
        while index and self.events[index - 1][2] > at:
            index -= 1
        status = self.events[index - 1][4]
        if status == S.CLOSED:
            return False
        self.events.insert(index, ("merged_in", actor, at, status, status, "", "", dumps({"from": from_number}),
                                   False))
        self.updated_at = max(self.updated_at, at)
        return True

    # --- time -------------------------------------------------------------------------------------
    def later(self, t: int, mean_hours: float, minimum: int = 120) -> int:
        """A working-time wait after t, exponentially distributed."""
        return self.cal.add_seconds(t, minimum - int(mean_hours * HOUR * log(1.0 - self.rng.random())))

    def iso(self, t: int, *, local: bool = False) -> str:
        """As the actions write times into event data: read back from the database (UTC) or computed
        by the calendar (its time zone)."""
        return dt.datetime.fromtimestamp(t, self.cal.tz if local else dt.UTC).isoformat()

    def overdue_check(self, t_next: int) -> None:
        """Supervision by the deadline task (and later a supervisor) before the move at t_next."""
        if (self.status not in UNIT_STATES or self.paused_at is not None or self.reply_due is None
                or self.supervision_level >= 2):
            return
        t_task = self.reply_due + self.task_lag
        if self.supervision_level == 0 and t_task < t_next and t_task <= self.now:
            self.supervision_level = 1
            self.ev("supervise", t_task, self.staff.system, reason_code="overdue", reason=phrases.OVERDUE_REASON,
                    data='{"level": 1}')
        if self.supervision_level == 1:
            t_manual = self.cal.add_seconds(t_task, 3 * 8 * HOUR)
            if t_manual < t_next and t_manual <= self.now:
                self.supervision_level = 2
                self.ev("supervise", t_manual, self.pick(self.staff.supervisors),
                        reason=self.pick(phrases.SUPERVISE_REASONS), data='{"level": 2}')

    # --- changes of the case's fields shared by several moves --------------------------------------
    def assign(self, unit: int, co: tuple[int, ...], t: int) -> None:
        for a in self.assignments:
            a[2] = False
        self.assignments.append([unit, "lead", True, t])
        self.assignments.extend([u, "co", True, t] for u in co if u != unit)
        self.lead = unit

    def start_clock(self, t: int, *, new_round: bool) -> None:
        accept, contact, days = self.limits
        self.accept_due = self.cal.add_seconds(t, accept * HOUR)
        if new_round or self.reply_due is None:
            self.contact_due = self.cal.add_seconds(t, contact * HOUR)
            self.reply_due = self.cal.add_days(t, days)
            self.dispatched_at = t

    def unit_actor(self) -> Actor:
        """A handler or manager of the lead unit (a nameless handler where a unit has no staff)."""
        return self.pick(self.staff.of_unit.get(self.lead) or ((None, "handler", "handler", self.lead),))


class Flow:
    """Plays a `Plan` out on a `Life`."""

    def __init__(self, life: Life, plan: Plan, *, channel: str, unit_names: dict[int, tuple[str, str]]) -> None:
        self.life, self.plan, self.channel = life, plan, channel
        self.rng = life.rng
        self.unit_names = unit_names
        self.stop_at = plan.stage if plan.target in ("withdrawn", "merged") else plan.target

    def run(self, *, register_actor: Actor) -> None:
        life = self.life
        with contextlib.suppress(Stop):
            self._run(register_actor)
        if life.status != S.CLOSED and self.plan.target != "merged":  # the builder merges it next
            life.overdue_check(life.now + 1)

    # --- the main line --------------------------------------------------------------------------
    def _run(self, register_actor: Actor) -> None:
        life, plan, rng = self.life, self.plan, self.rng
        t = life.ev("register", life.t0, register_actor, data=jdata(channel=self.channel))
        if plan.target == "first_contact":
            agent = register_actor if register_actor[2] == "agent" else life.pick(life.staff.agents)
            t = life.ev("resolve_first_contact", min(t + rng.randint(60, 900), life.now), agent,
                        data=self._reply_data(first_contact=True))
            life.replied_at = life.first_contact_at = life.closed_at = t
            life.close_reason = "first_contact"
            return
        if plan.rule is not None:
            rule_id, unit, co = plan.rule
            self._dispatch(t, life.staff.system, unit, co, rule_id)
        else:
            if self._stop_here(S.REGISTERED):
                return
            self._dispatch(life.later(t, 1.5, 60), life.pick(life.staff.dispatchers), plan.manual_unit, (), None)
        if self._stop_here(S.DISPATCHED):
            return
        self._round(reopened=False)

    def _stop_here(self, status: str) -> bool:
        """True when the plan ends in this state; ends a withdrawn or merged case there."""
        if self.stop_at != status:
            return False
        life, plan = self.life, self.plan
        if plan.target == "withdrawn":
            t = life.later(life.last_at, 6)
            life.overdue_check(t)
            t = life.ev("withdraw", t, life.pick(life.staff.agents), reason=life.pick(phrases.WITHDRAW_REASONS))
            life.closed_at, life.close_reason = t, "withdrawn"
        return True

    def _dispatch(self, t: int, actor: Actor, unit: int, co: tuple, rule_id: int | None) -> None:
        life = self.life
        codes = life.unit_codes
        co_codes = tuple(codes[u] for u in co)
        data = (jdata(unit=codes[unit], co_units=co_codes) if rule_id is None
                else jdata(unit=codes[unit], co_units=co_codes, rule=rule_id))
        new_round = life.status == S.REGISTERED or life.closed_at is not None
        t = life.ev("dispatch", t, actor, data=data)
        life.assign(unit, co, t)
        life.dispatch_count += 1
        life.start_clock(t, new_round=new_round)

    def _accept(self) -> int:
        life, rng = self.life, self.rng
        limits = life.limits
        if rng.random() < 0.08:  # late acceptance
            t = life.cal.add_seconds(max(life.accept_due, life.last_at), 600 + int(rng.expovariate(1 / 7200)))
        else:
            t = life.later(life.last_at, max(0.25, limits[0] * 0.3), 60)
        life.overdue_check(t)
        t = life.ev("accept", t, life.unit_actor())
        life.accepted_at = t
        return t

    def _round(self, *, reopened: bool) -> None:
        life, plan, rng = self.life, self.plan, self.rng
        staff = life.staff
        if plan.returned and not reopened:
            if rng.random() < 0.3:
                self._accept()
            t = life.later(life.last_at, 2)
            life.overdue_check(t)
            code = rng.choices(ReturnReason.values, (50, 20, 15, 10, 5))[0]
            life.ev("return", t, life.unit_actor(), reason_code=code, reason=phrases.RETURN_REASONS[code],
                    data=jdata(unit=life.unit_codes[life.lead]))
            for a in life.assignments:
                a[2] = False
            life.return_count += 1
            life.accepted_at = None
            if self._stop_here(S.RETURNED):
                return
            t = life.later(t, 1.5)
            if rng.random() < 0.35 or plan.alt_unit is None or plan.alt_unit == life.lead:
                t = life.ev("arbitrate", t, life.pick(staff.dispatchers), reason=life.pick(phrases.ARBITRATE_REASONS),
                            data=jdata(unit=life.unit_codes[life.lead]))
                life.assign(life.lead, (), t)
                life.start_clock(t, new_round=False)
            else:
                self._dispatch(t, life.pick(staff.dispatchers), plan.alt_unit, (), None)
        if plan.transfer and not reopened and plan.alt_unit not in (None, life.lead):
            t = life.later(life.last_at, 1)
            life.overdue_check(t)
            old = life.lead
            t = life.ev("transfer", t, life.pick(staff.dispatchers), reason=life.pick(phrases.TRANSFER_REASONS),
                        data=jdata(unit=life.unit_codes[plan.alt_unit], from_unit=life.unit_codes[old]))
            life.assign(plan.alt_unit, (), t)
            life.accepted_at = None
            life.dispatch_count += 1
            life.start_clock(t, new_round=False)
        if plan.street_unit is not None and life.lead == plan.district_unit:
            self._accept()
            t = life.later(life.last_at, 1)
            life.overdue_check(t)
            district = life.lead
            t = life.ev("subdispatch", t, life.unit_actor(),
                        data=jdata(unit=life.unit_codes[plan.street_unit], from_unit=life.unit_codes[district],
                                   co_units=()))
            life.assign(plan.street_unit, (), t)
            life.accepted_at = None
            life.dispatch_count += 1
            life.start_clock(t, new_round=False)
        self._accept()
        if self._stop_here(S.ACCEPTED):
            return
        self._work(reopened)

    def _work(self, reopened: bool) -> None:
        life, plan, rng = self.life, self.plan, self.rng
        staff = life.staff
        t = life.later(life.last_at, max(0.5, life.limits[1] * 0.3), 300)
        life.overdue_check(t)
        first = life.first_contact_at is None
        method = life.pick(phrases.CONTACT_METHODS)
        t = life.ev("contact", t, life.unit_actor(), data=jdata(first=True, method=method) if first
                    else jdata(method=method))
        if first:
            life.first_contact_at = t
        if plan.note and not reopened:
            t = life.later(t, 3)
            life.overdue_check(t)
            life.ev("note", t, life.unit_actor(), reason=life.pick(phrases.NOTE_TEXTS))
        if plan.pause and not reopened:
            t = life.later(life.last_at, 2)
            life.overdue_check(t)
            code = life.pick(PauseReason.values)
            t = life.ev("pause", t, life.unit_actor(), reason_code=code,
                        reason="等待市民补充材料。" if code == "waiting_citizen" else "等待专业机构鉴定结果。")
            life.paused_at, life.pause_reason = t, code
            if self.stop_at == S.IN_PROGRESS and rng.random() < 0.5:
                return
            t2 = life.fit(life.later(t, 16))
            seconds = life.cal.between(t, t2)
            life.ev("resume", t2, life.unit_actor(),
                    data=dumps({"paused_minutes": round(seconds / 60), "paused_since": life.iso(t)}))
            if life.accepted_at is None and life.accept_due is not None:
                life.accept_due = life.cal.add_seconds(life.accept_due, seconds)
            if life.first_contact_at is None and life.contact_due is not None:
                life.contact_due = life.cal.add_seconds(life.contact_due, seconds)
            if life.reply_due is not None:
                life.reply_due = life.cal.add_seconds(life.reply_due, seconds)
            life.paused_at, life.pause_reason = None, ""
        if plan.extension and not reopened:
            t = life.later(life.last_at, 8)
            life.overdue_check(t)
            days = life.pick((3, 5, 5, 7, 10, 15))
            life.ev("request_extension", t, life.unit_actor(), reason=life.pick(phrases.EXTENSION_REASONS),
                    data=jdata(days=days))
            life.extension_pending_days = days
            if self.stop_at == S.IN_PROGRESS and rng.random() < 0.5:
                return
            t = life.later(life.last_at, 3)
            life.overdue_check(t)
            if rng.random() < 0.8:
                old = life.reply_due
                new = life.cal.add_days(old, days)
                data = {"days": days, "old_reply_due": life.iso(old), "new_reply_due": life.iso(new, local=True)}
                life.ev("approve_extension", t, life.pick(staff.dispatchers), data=dumps(data))
                life.reply_due = new
            else:
                life.ev("reject_extension", t, life.pick(staff.dispatchers),
                        reason=life.pick(phrases.REJECT_EXTENSION_REASONS), data=jdata(days=days))
            life.extension_pending_days = None
        if self._stop_here(S.IN_PROGRESS):
            return
        self._reply(self._reply_time())
        if self._stop_here(S.REPLIED):
            return
        if plan.send_back and not reopened:
            t = life.ev("send_back", life.later(life.last_at, 3), life.pick(staff.dispatchers),
                        reason=life.pick(phrases.SEND_BACK_REASONS))
            life.replied_at = None
            self._reply(life.later(t, 10))
        t = life.ev("review", life.later(life.last_at, 3), life.pick(staff.dispatchers))
        if self._stop_here(S.FOLLOW_UP):
            return
        self._follow_up(life.later(t, 6), reopened)

    def _reply_time(self) -> int:
        life, rng = self.life, self.rng
        start = life.last_at
        cal = life.cal
        if self.plan.late:
            return cal.add_seconds(max(life.reply_due, start), 600 + int(rng.expovariate(1 / (10 * HOUR))))
        span = cal.worked(life.reply_due) - cal.worked(start)
        if span <= 600:
            return life.later(start, 3, 300)
        return cal.add_seconds(start, max(300, int(span * rng.random() ** 1.6)))

    def _reply(self, t: int) -> None:
        life = self.life
        life.overdue_check(t)
        data = self._reply_data(first_contact=False, at=t)
        t = life.ev("reply", t, life.unit_actor(), data=data)
        life.replied_at = t
        if life.first_contact_at is None:
            life.first_contact_at = t

    def _reply_data(self, *, first_contact: bool, at: int | None = None) -> str:
        life = self.life
        if first_contact:
            text = life.pick(phrases.EN_FIRST_CONTACT_REPLY if life.english else phrases.ZH_FIRST_CONTACT_REPLY)
        else:
            day = life.cal.date_of(at)
            zh, en = self.unit_names[life.lead]
            if life.english:
                text = life.pick(phrases.EN_REPLY).format(unit=en, date=day.isoformat())
            else:
                text = life.pick(phrases.ZH_REPLY).format(unit=zh, date=f"{day.month}月{day.day}日")
        life.reply = text
        return reply_data(text)

    def _follow_up(self, t: int, reopened: bool) -> None:
        life, rng = self.life, self.rng
        resolved = rng.random() < 0.82
        satisfied = rng.random() < (0.92 if resolved else 0.25)
        rating = None
        if rng.random() < 0.9:
            rating = life.pick((4, 5, 5)) if satisfied else life.pick((1, 2, 2, 3))
        t = life.ev("follow_up", t, life.pick(life.staff.agents),
                    data=jdata(resolved=resolved, satisfied=satisfied, rating=rating))
        life.resolved, life.satisfied, life.rating = resolved, satisfied, rating
        life.closed_at, life.close_reason = t, "followed_up"
        if reopened or satisfied or resolved or rng.random() > 0.35:
            return
        t = life.later(t, 8)
        unit = life.lead
        t = life.ev("reopen", t, life.pick(life.staff.dispatchers), reason=life.pick(phrases.REOPEN_REASONS),
                    data=dumps({"unit": life.unit_codes[unit],
                                "previous": {"resolved": resolved, "satisfied": satisfied}}))
        life.reopen_count += 1
        life.closed_at, life.close_reason = None, ""
        life.replied_at = life.accepted_at = None
        life.reply = ""
        life.resolved = life.satisfied = life.rating = None
        life.assign(unit, (), t)
        life.dispatch_count += 1
        life.start_clock(t, new_round=True)
        self.stop_at = S.CLOSED
        self._round(reopened=True)
