"""Working-time arithmetic for case deadlines. No side effects but reading the overrides.

Rules:
- A day is a working day by, in order: a local override (admin `CalendarOverride`); the State
  Council's published schedule (`chinesecalendar`, which knows 调休 make-up working days);
  for a year it does not know yet, the `holidays` package's China calendar plus weekends, and
  a warning logged for the administrator to add overrides.
- Working hours are GOVCRM_WORKDAY_START–GOVCRM_WORKDAY_END local time (default 09:00–17:00).
- "N working hours" counts only time inside working hours of working days.
- "N working days" ends at the close of the N-th working day after the day the clock starts
  (the start day itself does not count, as in 12345 practice: 受理次日起算).
- Pausing shifts every pending deadline by the working time the case was paused.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings

logger = logging.getLogger(__name__)


@functools.cache
def _fallback_holidays(year: int):
    import holidays

    return holidays.China(years=year)


def national_is_workday(day: dt.date) -> bool:
    import chinese_calendar

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _warn_unknown_year(day.year)
        cal = _fallback_holidays(day.year)
        if day in cal:
            return False
        if day in getattr(cal, "weekend_workdays", set()):
            return True
        return day.weekday() < 5


@functools.cache
def _warn_unknown_year(year: int) -> None:
    logger.warning(
        "chinesecalendar does not know %s yet: using the holidays package and weekends. "
        "Add calendar overrides in the admin once the State Council publishes the schedule.", year,
    )


def _parse_hm(value: str) -> dt.time:
    h, m = value.split(":")
    return dt.time(int(h), int(m))


@dataclass(frozen=True)
class WorkCalendar:
    overrides: Mapping[dt.date, bool] = field(default_factory=dict)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo(settings.TIME_ZONE))
    start: dt.time = field(default_factory=lambda: _parse_hm(settings.GOVCRM_WORKDAY_START))
    end: dt.time = field(default_factory=lambda: _parse_hm(settings.GOVCRM_WORKDAY_END))

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return national_is_workday(day)

    def _window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        return (dt.datetime.combine(day, self.start, self.tz), dt.datetime.combine(day, self.end, self.tz))

    def add_work_minutes(self, start: dt.datetime, minutes: float) -> dt.datetime:
        """The moment when `minutes` of working time have passed after `start`."""
        if start.tzinfo is None:
            raise ValueError("naive datetime")
        current = start.astimezone(self.tz)
        remaining = dt.timedelta(minutes=minutes)
        day = current.date()
        for _ in range(3660):  # ten years of days: a bound, never reached in practice
            if self.is_workday(day):
                open_, close = self._window(day)
                begin = max(current, open_)
                if begin < close:
                    available = close - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day += dt.timedelta(days=1)
            current = dt.datetime.combine(day, dt.time(0), self.tz)
        raise ValueError("deadline beyond ten years")

    def add_work_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        return self.add_work_minutes(start, hours * 60)

    def add_work_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """Close of business of the `days`-th working day after the start day."""
        day = start.astimezone(self.tz).date()
        counted = 0
        while counted < days:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return self._window(day)[1]

    def work_minutes_between(self, a: dt.datetime, b: dt.datetime) -> float:
        """Working minutes in [a, b)."""
        if b <= a:
            return 0.0
        a, b = a.astimezone(self.tz), b.astimezone(self.tz)
        total = dt.timedelta()
        day = a.date()
        while day <= b.date():
            if self.is_workday(day):
                open_, close = self._window(day)
                lo, hi = max(a, open_), min(b, close)
                if hi > lo:
                    total += hi - lo
            day += dt.timedelta(days=1)
        return total.total_seconds() / 60


def calendar_from_db() -> WorkCalendar:
    from govcrm.common.reference import cached

    from .models import CalendarOverride

    return cached("calendar", lambda: WorkCalendar(
        overrides=dict(CalendarOverride.objects.values_list("date", "is_workday"))))


@dataclass(frozen=True)
class Limits:
    accept_hours: int
    contact_hours: int
    reply_days: int


# Used when no policy is configured at all (a fresh install without reference data).
DEFAULT_LIMITS = {
    "normal": Limits(accept_hours=4, contact_hours=16, reply_days=5),
    "urgent": Limits(accept_hours=2, contact_hours=4, reply_days=2),
    "critical": Limits(accept_hours=1, contact_hours=2, reply_days=1),
}


def limits_for(category, urgency: str) -> Limits:
    """The most specific policy: the leaf category, its ancestors, then the default."""
    from govcrm.common.reference import cached

    from .models import DeadlinePolicy

    policies = cached("deadline_policies", lambda: {
        (p.category_id, p.urgency): Limits(p.accept_hours, p.contact_hours, p.reply_days)
        for p in DeadlinePolicy.objects.all()
    })
    node = category
    while node is not None:
        if (node.pk, urgency) in policies:
            return policies[(node.pk, urgency)]
        node = node.parent
    return policies.get((None, urgency)) or DEFAULT_LIMITS.get(urgency, DEFAULT_LIMITS["normal"])


@dataclass(frozen=True)
class Due:
    accept: dt.datetime
    contact: dt.datetime
    reply: dt.datetime


def due_dates(cal: WorkCalendar, start: dt.datetime, limits: Limits) -> Due:
    return Due(
        accept=cal.add_work_hours(start, limits.accept_hours),
        contact=cal.add_work_hours(start, limits.contact_hours),
        reply=cal.add_work_days(start, limits.reply_days),
    )
