"""The tabulated calendar gives exactly what the cases app's WorkCalendar gives."""

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from govcrm.cases.deadlines import WorkCalendar
from govcrm.demo.clock import FastCalendar, Stamps

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def calendars(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    settings.GOVCRM_WORKDAY_START = "09:00"
    settings.GOVCRM_WORKDAY_END = "17:00"
    cal = WorkCalendar(overrides={dt.date(2026, 10, 8): False, dt.date(2026, 10, 11): True})
    return cal, FastCalendar(cal, dt.date(2025, 12, 1), dt.date(2027, 6, 1))


def instant(t: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, TZ)


def ts(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def some_instants(n: int):
    rng = random.Random(5)
    base = ts(dt.datetime(2026, 1, 1, tzinfo=TZ))
    for k in range(n):
        t = base + rng.randrange(340 * 86400)
        if k % 4 == 0:  # exactly on a boundary: midnight, opening or closing time
            day = instant(t).date()
            t = ts(dt.datetime.combine(day, rng.choice([dt.time(0), dt.time(9), dt.time(17)]), TZ))
        yield rng, t


def test_adding_working_time_matches(calendars):
    cal, fast = calendars
    for rng, t in some_instants(3000):
        seconds = rng.choice([0, 1, 60, 3600, 4 * 3600, 8 * 3600, 16 * 3600, 123_457])
        assert fast.add_seconds(t, seconds) == ts(cal.add_work_minutes(instant(t), seconds / 60)), (t, seconds)


def test_adding_working_days_matches(calendars):
    cal, fast = calendars
    for rng, t in some_instants(2000):
        days = rng.randint(1, 25)
        assert fast.add_days(t, days) == ts(cal.add_work_days(instant(t), days)), (t, days)


def test_working_time_between_matches(calendars):
    cal, fast = calendars
    for rng, t in some_instants(2000):
        later = t + rng.randrange(25 * 86400)
        assert fast.between(t, later) == round(cal.work_minutes_between(instant(t), instant(later)) * 60)
    assert fast.between(later, t) == 0


def test_national_day_2026(calendars):
    _cal, fast = calendars
    start = ts(dt.datetime(2026, 9, 30, 15, tzinfo=TZ))
    assert fast.add_days(start, 1) == ts(dt.datetime(2026, 10, 9, 17, tzinfo=TZ))  # 8 Oct is overridden
    assert fast.add_hours(start, 4) == ts(dt.datetime(2026, 10, 9, 11, tzinfo=TZ))


@pytest.mark.parametrize(("suffix", "expected"), [("", "2026-03-01 01:02:03"), ("+00", "2026-03-01 01:02:03+00")])
def test_stamps(suffix, expected):
    t = ts(dt.datetime(2026, 3, 1, 1, 2, 3, tzinfo=dt.UTC))
    stamps = Stamps(t - 86400 * 10, t + 86400 * 10, suffix=suffix)
    assert stamps(t) == expected
    assert stamps(None) is None
