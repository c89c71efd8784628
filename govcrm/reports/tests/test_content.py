"""The report's figures on the worked month of analytics' tests (cases made through the real moves,
loaded by a real refresh) equal analytics.metrics for the same period and scope; periods."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from govcrm.analytics import metrics
from govcrm.analytics.tests.test_metrics import AS_OF, MARCH, month  # noqa: F401 -- the fixture
from govcrm.reports import content
from govcrm.reports.periods import Period

pytestmark = pytest.mark.django_db

WEEK = Period.containing("weekly", dt.date(2026, 3, 4))  # 2026-W10, 2 to 8 March
MONTH = Period.containing("monthly", dt.date(2026, 3, 15))


def build(con, period, scope=None, language="zh-hans"):
    with translation.override(language):
        return content.build(con, period, scope_path=scope, scope_name="x", language=language, as_of=AS_OF)


def table(report, name):
    return next(t for s in report.sections for t in s.tables if t.name == name)


def test_periods():
    assert (WEEK.start, WEEK.end, WEEK.code) == (dt.date(2026, 3, 2), dt.date(2026, 3, 8), "2026-W10")
    assert WEEK.previous().start == dt.date(2026, 2, 23) and WEEK.dates == (20260302, 20260308)
    assert (MONTH.start, MONTH.end, MONTH.code) == (dt.date(2026, 3, 1), dt.date(2026, 3, 31), "2026-03")
    assert MONTH.previous() == Period("monthly", dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert Period.containing("monthly", dt.date(2025, 12, 31)).previous().end == dt.date(2025, 11, 30)
    assert [p.code for p in MONTH.back(3)] == ["2026-01", "2026-02", "2026-03"]
    # Monday 00:00 local time is the first moment the week before is due; Sunday 23:59 still reports
    # the week before that.
    monday = dt.datetime(2026, 3, 9, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert Period.last_ended("weekly", monday) == WEEK
    assert Period.last_ended("weekly", monday - dt.timedelta(minutes=1)) == WEEK.previous()
    assert Period.last_ended("monthly", dt.datetime(2026, 4, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))) \
        == MONTH
    assert WEEK.ends_at().isoformat() == "2026-03-09T00:00:00+08:00"


@pytest.mark.parametrize("period", [WEEK, MONTH], ids=["week", "month"])
def test_summary_rates_equal_metrics(month, period):  # noqa: F811
    con = month["con"]
    report = build(con, period)
    rates = table(report, "rates")
    by_name = {row[0]: row for row in rates.rows}
    expected_codes = [c for c in content.SUMMARY_RATES]
    assert len(rates.rows) == len(expected_codes)
    for code in expected_codes:
        m = metrics.rates(con, [code], ["month"], months=(MARCH, MARCH), as_of=AS_OF)[0]
        row = by_name[metrics.RATES[code].name_zh]
        # every case and receipt of the fixture is in March; the week holds the registrations
        assert row[1:4] == [m[f"k_{code}"], m[f"n_{code}"], round(100 * m[f"rate_{code}"], 1)], code
        assert row[6:8] == [round(100 * m[f"low_{code}"], 1), round(100 * m[f"high_{code}"], 1)]
        assert row[4] is None and row[5] is None  # nothing the period before
    # the hand counts of docs/metrics.md: response 5/8, resolution 3/4, satisfaction 2/4, return 2/13
    assert by_name["响应率"][1:4] == [5, 8, 62.5]
    assert by_name["满意率"][1:4] == [2, 4, 50.0]
    assert report.headline["resolution"] == {"name": "解决率", "rate": 75.0, "previous": None, "n": 4}
    cases = table(report, "cases")
    assert [row[1] for row in cases.rows] == [11, 9, 5]  # registered, counted, closed (A B C D G)


def test_the_weekly_receipts_are_those_of_the_week(month):  # noqa: F811
    """The return rate counts receipts by the day the unit received the case."""
    con = month["con"]
    got = table(build(con, WEEK), "rates").rows
    days = con.execute("SELECT count(*) FILTER (WHERE counted), count(*) FILTER (WHERE counted AND outcome = 'return') "
                       "FROM fact_case_handling WHERE date_key BETWEEN 20260302 AND 20260308").fetchone()
    row = next(r for r in got if r[0] == "退单率")
    assert (row[2], row[1]) == days


def test_rankings_equal_metrics_ranking(month):  # noqa: F811
    con, city = month["con"], month["city"]
    report = build(con, MONTH)
    streets = table(report, "ranking_street")
    for code in metrics.THREE_RATES:
        expected = {r["name_zh0"]: r for r in metrics.ranking(con, code, "street", MARCH, as_of=AS_OF)}
        i = 1 + 7 * metrics.THREE_RATES.index(code)
        for row in streets.rows:
            r = expected.get(row[0])
            if r is None:
                assert row[i + 2] == 0
                continue
            assert row[i:i + 7] == [round(100 * r[f"rate_{code}"], 1), r[f"k_{code}"], r[f"n_{code}"],
                                    round(100 * r[f"low_{code}"], 1), round(100 * r[f"high_{code}"], 1),
                                    r["rank"], r["cautious_rank"]]
    # satisfaction: S1 2/3 ranks above S2 0/1
    assert [row[0] for row in streets.rows] == [city.street1.name_zh, city.street2.name_zh]
    departments = [row[0] for row in table(report, "ranking_department").rows]
    assert city.urban.name_zh in departments


def test_a_unit_managers_report_is_limited_to_its_subtree(month):  # noqa: F811
    con, city = month["con"], month["city"]
    report = build(con, MONTH, scope=city.district.path)
    rates = {row[0]: row for row in table(report, "rates").rows}
    m = metrics.rates(con, ["response"], [], dates=MONTH.dates, unit_path=city.district.path, as_of=AS_OF)[0]
    assert rates["响应率"][1:3] == [m["k_response"], m["n_response"]] == [4, 7]  # district D in docs/metrics.md
    assert "直接办结率" not in rates  # a centre figure, not a unit's
    names = {row[0] for t in ("ranking_street", "ranking_district", "ranking_department")
             for row in table(report, t).rows}
    assert names == {city.street1.name_zh, city.street2.name_zh, city.district.name_zh}
    assert not any(t.name == "hot_topics" for s in report.sections for t in s.tables)


def test_top_and_rising_categories_and_trend(month):  # noqa: F811
    con = month["con"]
    report = build(con, MONTH, language="en")
    top = table(report, "top_categories")
    assert top.columns[:3] == ["Rank", "Category", "Cases"]
    # nine counted cases, all street lights out, none the month before: a new, rising category
    assert top.rows[0][2] == 9 and top.rows[0][4] == 0 and top.rows[0][3] == 100.0
    rising = table(report, "rising_categories")
    assert rising.rows[0][1:4] == [9, 0, 9]
    trend = table(report, "trend")
    assert len(trend.rows) == content.TREND_PERIODS and trend.rows[-1][0] == "2026-03"
    assert trend.rows[-1][3:6] == [11, 9, 5] and trend.rows[-2][3] == 0
    assert trend.rows[-1][6:9] == [62.5, 75.0, 50.0]


def test_deadline_performance_equals_metrics(month):  # noqa: F811
    con = month["con"]
    report = build(con, WEEK, language="en")
    stages = table(report, "deadlines")
    m = metrics.deadline_performance(con, [], dates=WEEK.dates, as_of=AS_OF)[0]
    for row, stage in zip(stages.rows, ("accept", "contact", "reply"), strict=True):
        assert row[1:] == [m[f"n_{stage}"], m[f"on_time_{stage}"], m[f"late_{stage}"], m[f"overdue_{stage}"],
                           round(100 * m[f"rate_{stage}"], 1)]
    assert stages.rows[2][1:3] == [8, 5]  # on-time reply 5/8 (docs/metrics.md)


def test_hot_topics_of_the_detection_run_covering_the_periods_end(db):
    from zoneinfo import ZoneInfo

    from govcrm.topics.models import Topic, TopicRun

    tz = ZoneInfo("Asia/Shanghai")
    assert content.hot_topics(WEEK) is None  # no detection run at all
    old = TopicRun.objects.create(period_start=dt.datetime(2026, 1, 1, tzinfo=tz),
                                  period_end=dt.datetime(2026, 2, 1, tzinfo=tz))
    Topic.objects.create(run=old, rank=1, terms=["旧"], size=9, first_seen=old.period_start,
                         last_seen=old.period_end)
    assert content.hot_topics(WEEK) is None  # ended a month before the week
    run = TopicRun.objects.create(period_start=dt.datetime(2026, 2, 7, tzinfo=tz),
                                  period_end=dt.datetime(2026, 3, 9, 0, 10, tzinfo=tz))
    Topic.objects.create(run=run, rank=1, terms=["停水", "小区"], size=12,
                         first_seen=dt.datetime(2026, 3, 6, 8, tzinfo=tz),
                         last_seen=dt.datetime(2026, 3, 8, 20, tzinfo=tz))
    Topic.objects.create(run=run, rank=2, terms=["噪音"], size=5,
                         first_seen=dt.datetime(2026, 2, 10, tzinfo=tz), last_seen=dt.datetime(2026, 2, 20, tzinfo=tz))
    with translation.override("en"):
        topics = content.hot_topics(WEEK)
    # the second topic was last seen before the week: not one of its hot topics
    assert topics.rows == [[1, "停水 小区", 12, None, "2026-03-06", "2026-03-08"]]
    assert topics.columns[:3] == ["Rank", "Topic", "Cases"]
