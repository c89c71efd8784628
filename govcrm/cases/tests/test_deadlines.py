"""Working-time deadlines across the 2026 National Day holiday and its make-up working days."""

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import pytest

from govcrm.cases import deadlines
from govcrm.cases.deadlines import WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")


def at(y, m, d, h=0, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=TZ)


@pytest.fixture
def cal(settings):
    settings.GOVCRM_WORKDAY_START = "09:00"
    settings.GOVCRM_WORKDAY_END = "17:00"
    settings.TIME_ZONE = "Asia/Shanghai"
    return WorkCalendar()


def test_national_day_2026_is_skipped_and_makeup_saturday_counts(cal):
    # Wed 30 Sep 15:00; 1–7 Oct holiday; Thu 8, Fri 9, Sat 10 (make-up day) work; Sun 11 rest.
    start = at(2026, 9, 30, 15)
    assert cal.add_work_days(start, 1) == at(2026, 10, 8, 17)
    assert cal.add_work_days(start, 3) == at(2026, 10, 10, 17)  # 调休 Saturday is a working day
    assert cal.add_work_days(start, 5) == at(2026, 10, 13, 17)


def test_working_hours_run_over_the_holiday(cal):
    # 2 h left on 30 Sep (15–17), then 8 Oct from 09:00.
    assert cal.add_work_hours(at(2026, 9, 30, 15), 4) == at(2026, 10, 8, 11)
    # Starting inside the holiday waits for the first working morning.
    assert cal.add_work_hours(at(2026, 10, 3, 10), 1) == at(2026, 10, 8, 10)


def test_makeup_sunday_before_national_day(cal):
    assert cal.is_workday(dt.date(2026, 9, 20))  # Sunday, 调休
    assert not cal.is_workday(dt.date(2026, 9, 25))  # Mid-Autumn Festival, a Friday
    assert cal.add_work_days(at(2026, 9, 19, 10), 1) == at(2026, 9, 20, 17)


def test_work_minutes_between_skips_holidays(cal):
    assert cal.work_minutes_between(at(2026, 9, 30, 16), at(2026, 10, 8, 10)) == 120
    assert cal.work_minutes_between(at(2026, 10, 8, 10), at(2026, 9, 30, 16)) == 0


def test_local_override_wins():
    cal = WorkCalendar(overrides={dt.date(2026, 10, 8): False, dt.date(2026, 10, 11): True})
    assert cal.add_work_days(at(2026, 9, 30, 15), 1) == at(2026, 10, 9, 17)
    assert cal.add_work_days(at(2026, 9, 30, 15), 3) == at(2026, 10, 11, 17)


def test_unknown_year_falls_back_to_holidays_package_with_a_warning(cal, caplog):
    deadlines._warn_unknown_year.cache_clear()
    with caplog.at_level(logging.WARNING, logger="govcrm.cases.deadlines"):
        assert not cal.is_workday(dt.date(2031, 10, 1))  # National Day from `holidays`
        assert cal.is_workday(dt.date(2031, 10, 9))  # an ordinary Thursday
        assert not cal.is_workday(dt.date(2031, 10, 11))  # a Saturday
    assert any("2031" in r.getMessage() for r in caplog.records)


def test_naive_datetimes_are_refused(cal):
    with pytest.raises(ValueError, match="naive"):
        cal.add_work_minutes(dt.datetime(2026, 10, 1, 9), 10)  # noqa: DTZ001 - the point of the test


@pytest.mark.django_db
def test_policy_most_specific_wins_and_overrides_from_db(city):
    from govcrm.cases.models import CalendarOverride, Category, DeadlinePolicy

    leaf = Category.objects.get(code="urban.lighting.out")
    assert deadlines.limits_for(leaf, "normal") == deadlines.Limits(4, 16, 5)  # the default from migration
    DeadlinePolicy.objects.create(category=leaf.parent, urgency="normal", accept_hours=2, contact_hours=8,
                                  reply_days=3)
    assert deadlines.limits_for(leaf, "normal") == deadlines.Limits(2, 8, 3)
    DeadlinePolicy.objects.create(category=leaf, urgency="normal", accept_hours=1, contact_hours=4, reply_days=2)
    assert deadlines.limits_for(leaf, "normal") == deadlines.Limits(1, 4, 2)
    CalendarOverride.objects.create(date=dt.date(2026, 10, 8), is_workday=False, note="local flood day")
    assert not deadlines.calendar_from_db().is_workday(dt.date(2026, 10, 8))


@pytest.mark.django_db
def test_case_deadlines_set_at_dispatch_over_national_day(city):
    from govcrm.cases.actions import case_transition
    from govcrm.cases.tests.factories import register

    case = register(city.actor("agent"))
    case = case_transition(actor=city.actor("dispatcher"), case=case, action="dispatch",
                           data={"unit": "gov-d1s1"}, now=at(2026, 9, 30, 15))
    assert case.accept_due == at(2026, 10, 8, 11)  # 4 working hours
    assert case.reply_due == at(2026, 10, 13, 17)  # 5 working days
