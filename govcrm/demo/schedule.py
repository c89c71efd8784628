"""When the demo cases come in, who calls, and which numbers they get: decided up front, in order.

Rules:
- Cases spread over the last `days` days up to now: more on working days, a slow growth and a
  summer peak, and the hotline's hours of the day (busiest 9–11 and 14–17).
- About half of the callers call again: a returning caller is drawn from everyone who called
  before, with a few frequent callers; a citizen is created by their first case, so a case never
  refers to a citizen created after it. A few contacts are anonymous.
- Case numbers are "YYYYMMDD" (local day of registration) + a 6-digit daily sequence that
  continues from `CaseNumberSequence`, in order of registration.
- The most recent cases include a few planned to stay in each state of the lifecycle, so that
  every queue has cases even in a small demo.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate

from .clock import DAY, HOUR, FastCalendar

HOUR_WEIGHTS = (1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 3.0, 6.0, 9.0, 9.5, 8.5, 6.0, 6.5, 8.0, 8.5, 8.0, 7.0, 5.5, 5.0,
                4.5, 3.5, 2.5, 1.6)
# Planned final states of the most recent cases (see the module rules).
COVERAGE = ("registered", "dispatched", "accepted", "in_progress", "returned", "replied", "follow_up", "closed",
            "first_contact", "withdrawn")
ANONYMOUS = 0.04
RETURNING = 0.5
ENGLISH = 0.15


@dataclass
class Schedule:
    t0: array  # registration times, ascending
    citizen: array  # citizen id per case; 0: anonymous
    new_citizen: bytearray  # 1 where the case creates its citizen
    english: bytearray  # 1 where the case (and its citizen) is in English
    numbers: list[str]
    first_case_id: int
    forced: dict[int, str] = field(default_factory=dict)  # case index -> planned state
    day_last: dict[str, int] = field(default_factory=dict)  # day -> last sequence number used


def _day_weights(cal: FastCalendar, first_day: int, last_day: int, now: int) -> list[float]:
    weights = []
    span = max(1, last_day - first_day)
    for d in range(first_day, last_day + 1):
        doy = (cal.first + dt.timedelta(days=d)).timetuple().tm_yday
        w = (1 + 0.35 * (d - first_day) / span) * (1 + 0.15 * math.sin(2 * math.pi * (doy - 100) / 365))
        if not cal.is_work[d]:
            w *= 0.7
        if d == last_day:
            w *= min(1.0, (now - cal.midnight[d]) / DAY)
        weights.append(w)
    return weights


def schedule_make(*, n: int, cal: FastCalendar, now: int, days: int, seed: int, first_case_id: int,
                  first_citizen_id: int, day_last: dict[str, int]) -> Schedule:
    rng = random.Random(seed)  # noqa: S311 - demo data from a seeded generator, on purpose
    r = rng.random
    last_day = cal.day_of(now)
    first_day = max(1, last_day - days + 1)
    day_cum = list(accumulate(_day_weights(cal, first_day, last_day, now)))
    hour_cum = list(accumulate(HOUR_WEIGHTS))
    total_days, total_hours = day_cum[-1], hour_cum[-1]
    times = []
    for _ in range(n):
        d = first_day + bisect_right(day_cum, r() * total_days)
        t = cal.midnight[d] + bisect_right(hour_cum, r() * total_hours) * HOUR + rng.randrange(HOUR)
        if t >= now:
            t = cal.midnight[d] + rng.randrange(max(1, now - cal.midnight[d]))
        times.append(t)
    times.sort()

    citizen = array("q", bytes(8 * n))
    new_citizen = bytearray(n)
    english = bytearray(n)
    pool_language = bytearray()  # language of citizen first_citizen_id + k
    next_id = first_citizen_id
    for i in range(n):
        if r() < ANONYMOUS:
            english[i] = r() < ENGLISH
            continue
        if pool_language and r() < RETURNING:
            # a tenth of the returning calls come from frequent callers: the first few hundred people
            k = rng.randrange(min(len(pool_language), 300) if r() < 0.1 else len(pool_language))
            citizen[i] = first_citizen_id + k
            english[i] = pool_language[k]
            continue
        lang = r() < ENGLISH
        pool_language.append(lang)
        citizen[i] = next_id
        new_citizen[i] = 1
        english[i] = lang
        next_id += 1

    numbers = []
    day_last = dict(day_last)
    for t in times:
        day = cal.date_of(t).strftime("%Y%m%d")
        seq = day_last.get(day, 0) + 1
        day_last[day] = seq
        numbers.append(f"{day}{seq:06d}")

    forced = {}
    i = n - 1
    for state in COVERAGE * 2:
        while i >= 0 and times[i] > now - 6 * HOUR:
            i -= 1
        if i < 0:
            break
        forced[i] = state
        i -= 1
    return Schedule(t0=array("q", times), citizen=citizen, new_citizen=new_citizen, english=english,
                    numbers=numbers, first_case_id=first_case_id, forced=forced, day_last=day_last)
