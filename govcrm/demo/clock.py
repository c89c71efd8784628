"""Working-time arithmetic on whole-second timestamps, precomputed per day, for the generator.

Rules:
- Every answer equals what `govcrm.cases.deadlines.WorkCalendar` gives for the same instant
  (the tests compare them): this module only tabulates that calendar once per local day, so a
  million cases' deadlines cost a few list look-ups each instead of a loop over dates.
- Times are whole seconds since the Unix epoch (UTC); "days" are the calendar's local days.
- Working time is a running total W(t) of working seconds since the first tabulated day, so
  "t plus s working seconds" is the earliest instant whose total is W(t) + s, and the working
  time between a and b is W(b) − W(a).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right

from govcrm.cases.deadlines import WorkCalendar

DAY = 86400
HOUR = 3600


class FastCalendar:
    """A `WorkCalendar` tabulated for the local days first..last (inclusive)."""

    def __init__(self, cal: WorkCalendar, first: dt.date, last: dt.date) -> None:
        self.first = first
        self.tz = cal.tz
        self.midnight: list[int] = []
        self.is_work: list[bool] = []
        self.open: list[int] = []
        self.close: list[int] = []
        self.cum_start: list[int] = []
        self.cum_end: list[int] = []
        self.workdays: list[int] = []
        total = 0
        day = first
        i = 0
        while day <= last:
            work = cal.is_workday(day)
            open_, close = cal._window(day)  # the calendar's own working window of that day
            self.midnight.append(int(dt.datetime.combine(day, dt.time(0), cal.tz).timestamp()))
            self.is_work.append(work)
            self.open.append(int(open_.timestamp()))
            self.close.append(int(close.timestamp()))
            self.cum_start.append(total)
            if work:
                total += self.close[-1] - self.open[-1]
                self.workdays.append(i)
            self.cum_end.append(total)
            day += dt.timedelta(days=1)
            i += 1
        self.last_midnight = self.midnight[-1] + DAY
        # Without daylight saving every day is 86,400 s long and the day is a division away.
        self.uniform = all(b - a == DAY for a, b in zip(self.midnight, self.midnight[1:], strict=False))

    def day_of(self, t: int) -> int:
        """Index of the local day holding t."""
        if t < self.midnight[0] or t >= self.last_midnight:
            raise ValueError(f"{t} is outside the tabulated days")
        if self.uniform:
            return (t - self.midnight[0]) // DAY
        return bisect_right(self.midnight, t) - 1

    def date_of(self, t: int) -> dt.date:
        return self.first + dt.timedelta(days=self.day_of(t))

    def worked(self, t: int) -> int:
        """W(t): working seconds from the first tabulated day up to t."""
        i = self.day_of(t)
        if not self.is_work[i] or t <= self.open[i]:
            return self.cum_start[i]
        if t >= self.close[i]:
            return self.cum_end[i]
        return self.cum_start[i] + t - self.open[i]

    def next_working_instant(self, t: int) -> int:
        """The first instant at or after t inside working hours."""
        i = self.day_of(t)
        if self.is_work[i] and t < self.close[i]:
            return max(t, self.open[i])
        return self.open[self.workdays[bisect_right(self.workdays, i)]]

    def add_seconds(self, t: int, seconds: int) -> int:
        """`WorkCalendar.add_work_minutes(t, seconds / 60)`."""
        if seconds <= 0:
            return self.next_working_instant(t)
        if self.uniform and self.midnight[0] <= t < self.last_midnight:  # `worked(t)`, inline: the hot path
            i = (t - self.midnight[0]) // DAY
            if not self.is_work[i] or t <= self.open[i]:
                target = self.cum_start[i] + seconds
            elif t >= self.close[i]:
                target = self.cum_end[i] + seconds
            else:
                target = self.cum_start[i] + t - self.open[i] + seconds
        else:
            target = self.worked(t) + seconds
        i = bisect_left(self.cum_end, target)  # the working day on which the total is reached
        return self.close[i] - (self.cum_end[i] - target)

    def add_hours(self, t: int, hours: float) -> int:
        return self.add_seconds(t, round(hours * HOUR))

    def add_days(self, t: int, days: int) -> int:
        """`WorkCalendar.add_work_days`: close of the days-th working day after t's day."""
        k = bisect_right(self.workdays, self.day_of(t))
        return self.close[self.workdays[k + days - 1]]

    def between(self, a: int, b: int) -> int:
        """Working seconds in [a, b)."""
        return self.worked(b) - self.worked(a) if b > a else 0


class Stamps:
    """Formats whole-second UTC timestamps the way the database takes them, from two tables.

    SQLite (Django's backend) stores naive UTC text "YYYY-MM-DD HH:MM:SS"; PostgreSQL's COPY
    takes the same text with "+00".
    """

    def __init__(self, first: int, last: int, *, suffix: str = "") -> None:
        self.d0 = first // DAY
        start = dt.date(1970, 1, 1) + dt.timedelta(days=self.d0)
        self.days = [(start + dt.timedelta(days=k)).isoformat() for k in range(last // DAY - self.d0 + 1)]
        self.hms = [f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{suffix}" for s in range(DAY)]

    def __call__(self, t: int | None) -> str | None:
        if t is None:
            return None
        return self.days[t // DAY - self.d0] + self.hms[t % DAY]
