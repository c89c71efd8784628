"""When a proactive notice is due: renewals and services a citizen becomes entitled to by age.

Pure functions of dates and a working-day predicate (`cases.deadlines.WorkCalendar.is_workday`,
which knows public holidays and China's make-up working days 调休); no database.

Rules (see docs/personalisation.md):
- **Validity.** A permit or licence approved on day D for M months is valid up to and including
  the day before D + M months (a residence permit endorsed on 2025-03-10 for 12 months is valid
  until 2026-03-09, as 有效期至 is written). Months are calendar months; a day that does not
  exist in the target month becomes that month's last day (approved 2024-01-31 + 1 month →
  anniversary 2024-02-29 → valid until 2024-02-28).
- **Last day to renew** is the last working day on or before the end of validity: the office is
  closed on a Sunday or a holiday, so a permit that ends on 1 October must be renewed by the
  last working day of September.
- **Renewal notice** shows from `lead_working_days` working days before the last day to renew
  (counted back on working days, the last day itself not counted) until `grace_days` calendar
  days after the end of validity; after the last day to renew it says "expired" /
  "renew now". A later application for the renewal service (not rejected or withdrawn) ends it.
- **Age.** A person reaches age N on their N-th birthday; someone born on 29 February reaches it
  on 1 March in a year without 29 February (周岁 counts full years). The entitlement notice shows
  from `lead_working_days` working days before that day, and for as long as the citizen has no
  application for the service that is not withdrawn (a rejected one ends it too: someone looked).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

IsWorkday = Callable[[dt.date], bool]

DUE = "due"  # within the notice window, before the last day to renew
EXPIRED = "expired"  # after the last working day to renew, within the grace period
UPCOMING = "upcoming"  # an age entitlement: the birthday is near
ENTITLED = "entitled"  # an age entitlement reached and not used


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months later, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def valid_until(approved_on: dt.date, months: int) -> dt.date:
    return add_months(approved_on, months) - dt.timedelta(days=1)


def last_workday_on_or_before(day: dt.date, is_workday: IsWorkday) -> dt.date:
    for _ in range(60):  # the longest run of closed days (Spring Festival + weekends) is far shorter
        if is_workday(day):
            return day
        day -= dt.timedelta(days=1)
    raise ValueError("no working day in the 60 days before " + day.isoformat())


def workdays_before(day: dt.date, n: int, is_workday: IsWorkday) -> dt.date:
    """The working day n working days before `day` (which itself is not counted)."""
    counted = 0
    while counted < n:
        day -= dt.timedelta(days=1)
        if is_workday(day):
            counted += 1
    return day


@dataclass(frozen=True)
class RenewalWindow:
    valid_until: dt.date
    last_day: dt.date  # last working day to renew
    notice_from: dt.date
    notice_until: dt.date  # inclusive: valid_until + grace

    def state(self, today: dt.date) -> str | None:
        if today < self.notice_from or today > self.notice_until:
            return None
        return DUE if today <= self.last_day else EXPIRED

    def working_days_left(self, today: dt.date, is_workday: IsWorkday) -> int:
        """Working days from today (counted when it is one) to the last day to renew, inclusive."""
        n, day = 0, today
        while day <= self.last_day:
            n += is_workday(day)
            day += dt.timedelta(days=1)
        return n


def renewal_window(*, approved_on: dt.date, valid_months: int, lead_working_days: int, grace_days: int,
                   is_workday: IsWorkday) -> RenewalWindow:
    until = valid_until(approved_on, valid_months)
    last = last_workday_on_or_before(until, is_workday)
    return RenewalWindow(valid_until=until, last_day=last,
                         notice_from=workdays_before(last, lead_working_days, is_workday),
                         notice_until=until + dt.timedelta(days=grace_days))


def birthday(born: dt.date, age: int) -> dt.date:
    """The day a person born on `born` reaches `age` full years (29 Feb → 1 Mar in other years)."""
    year = born.year + age
    if born.month == 2 and born.day == 29 and not calendar.isleap(year):
        return dt.date(year, 3, 1)
    return born.replace(year=year)


def age_on(born: dt.date, today: dt.date) -> int:
    age = today.year - born.year
    return age if today >= birthday(born, age) else age - 1


def age_state(*, born: dt.date, min_age: int, lead_working_days: int, today: dt.date,
              is_workday: IsWorkday) -> tuple[str | None, dt.date]:
    """(UPCOMING | ENTITLED | None, the day the age is reached)."""
    reached = birthday(born, min_age)
    if today >= reached:
        return ENTITLED, reached
    if today >= workdays_before(reached, lead_working_days, is_workday):
        return UPCOMING, reached
    return None, reached
