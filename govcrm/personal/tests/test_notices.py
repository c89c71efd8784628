"""Date rules of the proactive notices, on a hand-made calendar and on the real working-day calendar."""

import datetime as dt

import pytest

from govcrm.cases.deadlines import WorkCalendar
from govcrm.personal import notices as n

D = dt.date


def weekdays(day: dt.date) -> bool:
    return day.weekday() < 5


def test_validity_ends_the_day_before_the_anniversary_and_clamps_short_months():
    assert n.valid_until(D(2025, 3, 10), 12) == D(2026, 3, 9)
    assert n.add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert n.valid_until(D(2024, 1, 31), 1) == D(2024, 2, 28)
    assert n.add_months(D(2023, 12, 15), 2) == D(2024, 2, 15)
    assert n.valid_until(D(2020, 2, 29), 60) == D(2025, 2, 27)  # 2025-02-29 does not exist → 28, minus a day


def test_window_on_weekdays_counts_back_working_days_only():
    # valid until Sunday 2026-03-08 → last day to renew Friday 03-06; 5 working days before it: Fri 02-27
    w = n.renewal_window(approved_on=D(2025, 3, 9), valid_months=12, lead_working_days=5, grace_days=10,
                         is_workday=weekdays)
    assert (w.valid_until, w.last_day, w.notice_from, w.notice_until) == (
        D(2026, 3, 8), D(2026, 3, 6), D(2026, 2, 27), D(2026, 3, 18))
    assert w.state(D(2026, 2, 26)) is None
    assert w.state(D(2026, 2, 27)) == n.DUE
    assert w.state(D(2026, 3, 6)) == n.DUE
    assert w.state(D(2026, 3, 7)) == n.EXPIRED  # Saturday: the office is closed, the permit still runs
    assert w.state(D(2026, 3, 18)) == n.EXPIRED
    assert w.state(D(2026, 3, 19)) is None
    assert w.working_days_left(D(2026, 3, 2), weekdays) == 5  # Mon..Fri
    assert w.working_days_left(D(2026, 2, 28), weekdays) == 5  # a Saturday does not count


@pytest.mark.django_db
def test_window_on_the_national_calendar_with_holidays_and_make_up_days():
    cal = WorkCalendar(overrides={})
    # approved 2024-10-02 for a year: valid until 2025-10-01, National Day (1–8 October 2025 off).
    w = n.renewal_window(approved_on=D(2024, 10, 2), valid_months=12, lead_working_days=3, grace_days=30,
                         is_workday=cal.is_workday)
    assert w.valid_until == D(2025, 10, 1)
    assert w.last_day == D(2025, 9, 30)
    # back from 30 Sep: Mon 29 (1), Sunday 28 — a make-up working day 调休 (2), Fri 26 (3)
    assert w.notice_from == D(2025, 9, 26)
    assert w.state(D(2025, 10, 1)) == n.EXPIRED
    # a local override (the city closes on 29 Sep) moves the window
    closed = WorkCalendar(overrides={D(2025, 9, 29): False})
    w2 = n.renewal_window(approved_on=D(2024, 10, 2), valid_months=12, lead_working_days=3, grace_days=30,
                          is_workday=closed.is_workday)
    assert w2.notice_from == D(2025, 9, 25)


def test_birthdays_and_ages():
    assert n.birthday(D(1946, 5, 3), 80) == D(2026, 5, 3)
    assert n.birthday(D(1944, 2, 29), 80) == D(2024, 2, 29)
    assert n.birthday(D(1945, 2, 28), 80) == D(2025, 2, 28)
    assert n.birthday(D(1944, 2, 29), 81) == D(2025, 3, 1)  # 2025 has no 29 February
    assert n.age_on(D(1944, 2, 29), D(2025, 2, 28)) == 80
    assert n.age_on(D(1944, 2, 29), D(2025, 3, 1)) == 81
    assert n.age_on(D(1990, 6, 1), D(2020, 5, 31)) == 29


def test_age_state_upcoming_then_entitled():
    born = D(1946, 5, 4)  # 80 on Monday 2026-05-04
    state, reached = n.age_state(born=born, min_age=80, lead_working_days=2, today=D(2026, 4, 30),
                                 is_workday=weekdays)
    assert (state, reached) == (n.UPCOMING, D(2026, 5, 4))  # Fri 1 May and Thu 30 Apr are the 2 working days
    assert n.age_state(born=born, min_age=80, lead_working_days=2, today=D(2026, 4, 29),
                       is_workday=weekdays)[0] is None
    assert n.age_state(born=born, min_age=80, lead_working_days=2, today=D(2026, 5, 4),
                       is_workday=weekdays)[0] == n.ENTITLED
