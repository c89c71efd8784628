"""Report periods: ISO weeks and calendar months, in local time (settings.TIME_ZONE).

Rules:
- A weekly report covers one ISO week, Monday to Sunday; a monthly report one calendar month.
  Both ends are local days, included; the warehouse's `date_key` (a case's registration day, a
  receipt's day, both local) selects the rows.
- A period is due once it has ended: the weekly report from Monday 00:00 local time for the week
  before, the monthly report from the 1st at 00:00 for the month before. The scheduled job always
  reports the period that ended last (a worker down for two weeks sends the latest week only).
- The change is against the period before (the previous week, the previous month).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from govcrm.common.errors import ValidationFailed

WEEKLY = "weekly"
MONTHLY = "monthly"
KINDS = (WEEKLY, MONTHLY)
ALIASES = {"week": WEEKLY, "weekly": WEEKLY, "month": MONTHLY, "monthly": MONTHLY}


def local_today(now: dt.datetime | None = None) -> dt.date:
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date
    end: dt.date  # included

    @classmethod
    def containing(cls, kind: str, day: dt.date) -> Period:
        kind = ALIASES.get(kind, kind)
        if kind == WEEKLY:
            start = day - dt.timedelta(days=day.isoweekday() - 1)
            return cls(kind, start, start + dt.timedelta(days=6))
        if kind == MONTHLY:
            start = day.replace(day=1)
            following = (start + dt.timedelta(days=32)).replace(day=1)
            return cls(kind, start, following - dt.timedelta(days=1))
        raise ValidationFailed(_("Unknown report period “%(kind)s”: weekly or monthly.") % {"kind": kind},
                               details={"period": _("weekly or monthly")})

    @classmethod
    def last_ended(cls, kind: str, now: dt.datetime | None = None) -> Period:
        """The period that ended last before `now` (local time)."""
        return cls.containing(kind, local_today(now)).previous()

    def previous(self) -> Period:
        return Period.containing(self.kind, self.start - dt.timedelta(days=1))

    def back(self, count: int) -> list[Period]:
        """This period and the `count - 1` before it, oldest first."""
        periods = [self]
        while len(periods) < count:
            periods.append(periods[-1].previous())
        return periods[::-1]

    @property
    def dates(self) -> tuple[int, int]:
        """The warehouse's date keys (yyyymmdd) of the first and the last day."""
        return int(self.start.strftime("%Y%m%d")), int(self.end.strftime("%Y%m%d"))

    @property
    def month_key(self) -> int | None:
        return self.start.year * 100 + self.start.month if self.kind == MONTHLY else None

    @property
    def code(self) -> str:
        """2026-W10 or 2026-03: in file names and mail subjects."""
        if self.kind == WEEKLY:
            year, week, _day = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    def ends_at(self) -> dt.datetime:
        """The instant the period is over (the next day's local midnight)."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), ZoneInfo(settings.TIME_ZONE))

    def short_label(self) -> str:
        """A column or axis label: 'W10' / '第10周', '2026-03'."""
        if self.kind == WEEKLY:
            return _("W%(week)02d") % {"week": self.start.isocalendar()[1]}
        return self.code

    def label(self) -> str:
        """The period in words, in the active language."""
        if self.kind == WEEKLY:
            year, week, _day = self.start.isocalendar()
            return _("Week %(week)d of %(year)d (%(start)s to %(end)s)") % {
                "week": week, "year": year, "start": self.start.isoformat(), "end": self.end.isoformat()}
        return _("%(month)s %(year)d") % {"month": MONTH_NAMES[self.start.month - 1], "year": self.start.year}


# Month names in words (zh-hans: 1月 … 12月, so that "%(year)d年%(month)s" reads 2026年3月).
MONTH_NAMES = [pgettext_lazy("report month", "January"), pgettext_lazy("report month", "February"),
               pgettext_lazy("report month", "March"), pgettext_lazy("report month", "April"),
               pgettext_lazy("report month", "May"), pgettext_lazy("report month", "June"),
               pgettext_lazy("report month", "July"), pgettext_lazy("report month", "August"),
               pgettext_lazy("report month", "September"), pgettext_lazy("report month", "October"),
               pgettext_lazy("report month", "November"), pgettext_lazy("report month", "December")]


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(_("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": value},
                               details={"date": _("a date, YYYY-MM-DD")}) from None
