"""Every rate on a small month of cases built through the real moves, against counts worked out
by hand (docs/metrics.md has the definitions); Wilson intervals against published values;
rankings that do not over-read a small unit."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import duckdb
import pytest

from govcrm.analytics import metrics
from govcrm.analytics.warehouse import connect
from govcrm.analytics.warehouse.refresh import refresh
from govcrm.cases.actions import CaseInput, case_register, case_transition
from govcrm.cases.models import Case, Category
from govcrm.citizens.actions import citizen_input_clean

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday, a working day
AS_OF = T0 + dt.timedelta(days=60)
MARCH = 202603
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


class Clock:
    """Each case starts a minute after the previous one; its moves go forward in time."""

    def __init__(self):
        self.now = T0
        self.cases = 0

    def start(self) -> dt.datetime:
        self.cases += 1
        self.now = T0 + self.cases * MINUTE
        return self.now

    def tick(self, to: dt.datetime | None = None) -> dt.datetime:
        self.now = max(self.now + MINUTE, to) if to else self.now + MINUTE
        return self.now


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def month(city):
    """Eleven cases of March 2026 (letters as in docs/metrics.md's worked example)."""
    clock = Clock()
    agent, d, sup = city.actor("agent"), city.actor("dispatcher"), city.actor("supervisor")
    s1, s2 = city.actor("street_handler"), city.actor("street2_handler")
    urban, dm = city.actor("urban_handler"), city.actor("district_manager")

    def new(area="d1s1g1", **kw) -> Case:
        data = CaseInput(category="urban.lighting.out", case_type="complaint", description="路灯不亮。",
                         area=area, channel=kw.pop("channel", "phone"),
                         citizen=citizen_input_clean(name="王五", phone="+8613800138001"), **kw)
        return case_register(actor=agent, data=data, now=clock.start())

    def mv(actor, case, action, when=None, reason="", **data):
        return case_transition(actor=actor, case=case.number, action=action, data=data, reason=reason,
                               now=clock.tick(when))

    def on_time(due):  # just before a deadline
        return due - MINUTE

    def late(due):
        return due + HOUR

    def close(case, resolved, satisfied):
        mv(d, case, "review")
        mv(agent, case, "follow_up", resolved=resolved, satisfied=satisfied)

    cases = {}
    # A: S1, everything on time, resolved and satisfied.
    c = cases["A"] = new()
    c = mv(d, c, "dispatch", unit="gov-d1s1")
    mv(s1, c, "accept", on_time(c.accept_due))
    mv(s1, c, "contact", on_time(c.contact_due))
    mv(s1, c, "reply", on_time(c.reply_due), reply="已修复。")
    close(c, True, True)
    # B: S1, every stage late, not resolved, not satisfied.
    c = cases["B"] = new()
    c = mv(d, c, "dispatch", unit="gov-d1s1")
    mv(s1, c, "accept", late(c.accept_due))
    mv(s1, c, "contact", late(c.contact_due))
    mv(s1, c, "reply", late(c.reply_due), reply="已修复。")
    close(c, False, False)
    # C: S1, unsatisfied follow-up, reopened (a new round with new deadlines), then all on time.
    c = cases["C"] = new()
    c = mv(d, c, "dispatch", unit="gov-d1s1")
    mv(s1, c, "accept")
    mv(s1, c, "reply", reply="已处理。")
    close(c, False, False)
    c = mv(d, c, "reopen", unit="gov-d1s1", reason="市民不满意")
    mv(s1, c, "accept", on_time(c.accept_due))
    mv(s1, c, "contact", on_time(c.contact_due))
    mv(s1, c, "reply", on_time(c.reply_due), reply="已彻底修复。")
    close(c, True, True)
    # D: first dispatched to the urban department, which returns it; then S2 (clock kept): on time,
    # resolved but not satisfied.
    c = cases["D"] = new()
    c = mv(d, c, "dispatch", unit="urban")
    mv(urban, c, "return", reason_code="not_our_duty")
    c = mv(d, c, "dispatch", unit="gov-d1s2")
    mv(s2, c, "accept", on_time(c.accept_due))
    mv(s2, c, "contact", on_time(c.contact_due))
    mv(s2, c, "reply", on_time(c.reply_due), reply="已修复。")
    close(c, True, False)
    # E: S2 returns it, the centre rejects the return (arbitration): S2 again, accepts in time,
    # replies after the reply deadline (its first contact, late too).
    c = cases["E"] = new()
    c = mv(d, c, "dispatch", unit="gov-d1s2")
    mv(s2, c, "return", reason_code="not_our_duty")
    c = mv(sup, c, "arbitrate", reason="属地职责")
    mv(s2, c, "accept", on_time(c.accept_due))
    mv(s2, c, "reply", late(c.reply_due), reply="已修复。")
    # F: to the district, which passes it down to S1; S1 accepts and replies in time.
    c = cases["F"] = new()
    c = mv(d, c, "dispatch", unit="gov-d1")
    mv(dm, c, "accept")
    c = mv(dm, c, "subdispatch", unit="gov-d1s1")
    mv(s1, c, "accept", on_time(c.accept_due))
    mv(s1, c, "reply", on_time(c.contact_due), reply="已修复。")
    # G: answered at first contact.
    cases["G"] = new(resolve_now_reply="路灯由街道负责维修。")
    # H: withdrawn after dispatch.
    c = cases["H"] = new()
    mv(d, c, "dispatch", unit="gov-d1s1")
    mv(agent, c, "withdraw", reason="市民撤回")
    # J: dispatched to S2 and left untouched.
    c = cases["J"] = new()
    mv(d, c, "dispatch", unit="gov-d1s2")
    # I: a duplicate of J, merged into it.
    c = cases["I"] = new()
    mv(d, c, "dispatch", unit="gov-d1s2")
    mv(d, c, "merge", into=cases["J"].number)
    # K: to the water company, transferred by the centre to the urban department (another district's
    # area): accepted and replied in time.
    c = cases["K"] = new(area="d2", channel="wechat")
    c = mv(d, c, "dispatch", unit="water")
    c = mv(d, c, "transfer", unit="urban", reason="属城管委")
    mv(urban, c, "accept", on_time(c.accept_due))
    mv(urban, c, "reply", on_time(c.contact_due), reply="已修复。")
    refresh()
    con = connect(read_only=True)
    # Everything happened in March: registrations, and every receipt by a unit.
    assert con.execute("SELECT DISTINCT month_key FROM fact_case UNION SELECT DISTINCT month_key "
                       "FROM fact_case_handling").fetchall() == [(MARCH,)]
    yield {"con": con, "cases": {k: fresh(v) for k, v in cases.items()}, "city": city}
    con.close()


def by_key(rows, code):
    return {r["k0"]: (r[f"k_{code}"], r[f"n_{code}"]) for r in rows if r[f"n_{code}"]}


def test_the_worked_example_is_what_the_docs_say(month):
    c = month["cases"]
    assert [c[x].status for x in "ABCDEFGHIJK"] == [
        "closed", "closed", "closed", "closed", "replied", "replied", "closed", "closed", "closed",
        "dispatched", "replied"]
    assert c["C"].reopen_count == 1 and c["I"].close_reason == "merged" and c["H"].close_reason == "withdrawn"


@pytest.mark.parametrize(("code", "street", "district", "total"), [
    # (k, n) for street S1, street S2; district gov-d1; the whole month
    ("response", {"s1": (3, 4), "s2": (1, 3)}, (4, 7), (5, 8)),
    ("contact_on_time", {"s1": (3, 4), "s2": (1, 3)}, (4, 7), (5, 8)),
    ("resolution", {"s1": (2, 3), "s2": (1, 1)}, (3, 4), (3, 4)),
    ("satisfaction", {"s1": (2, 3), "s2": (0, 1)}, (2, 4), (2, 4)),
    ("accept_on_time", {"s1": (3, 4), "s2": (2, 3)}, (5, 7), (6, 8)),
    ("reply_on_time", {"s1": (3, 4), "s2": (1, 3)}, (4, 7), (5, 8)),
    ("first_dispatch_accuracy", {"s1": (3, 3), "s2": (1, 1)}, (5, 5), (5, 7)),
    ("return", {"s1": (0, 5), "s2": (1, 4)}, (1, 10), (2, 13)),
    ("reopen", {"s1": (1, 3), "s2": (0, 1)}, (1, 4), (1, 4)),
])
def test_rates_by_street_district_and_month_match_the_hand_count(month, code, street, district, total):
    con, city = month["con"], month["city"]
    as_of = AS_OF
    rows = metrics.rates(con, [code], ["street"], months=(MARCH, MARCH), as_of=as_of)
    streets = by_key(rows, code)
    streets.pop(None, None)  # cases held by units above street level (a department, a district)
    assert streets == {city.street1.pk: street["s1"], city.street2.pk: street["s2"]}
    rows = metrics.rates(con, [code], ["district"], months=(MARCH, MARCH), as_of=as_of)
    assert by_key(rows, code)[city.district.pk] == district
    rows = metrics.rates(con, [code], ["month"], as_of=as_of)
    assert by_key(rows, code) == {MARCH: total}
    row = rows[0]
    k, n = total
    assert row[f"rate_{code}"] == pytest.approx(k / n)
    assert (row[f"low_{code}"], row[f"high_{code}"]) == pytest.approx(metrics.wilson(k, n))


def test_every_numerator_implies_its_denominator(month):
    """k is counted without re-testing the denominator, so no row may meet the numerator alone."""
    con = month["con"]
    for rate in metrics.RATES.values():
        stray = con.execute(f"SELECT count(*) FROM {rate.table} f WHERE ({rate.numerator}) "
                            f"AND NOT coalesce({rate.denominator}, false)", {"as_of": AS_OF}
                            if "$as_of" in rate.denominator else {}).fetchone()[0]
        assert stray == 0, rate.code


def test_first_dispatch_accuracy_belongs_to_the_first_unit(month):
    con, city = month["con"], month["city"]
    rows = metrics.rates(con, ["first_dispatch_accuracy"], ["unit"], as_of=AS_OF)
    assert by_key(rows, "first_dispatch_accuracy") == {
        city.street1.pk: (3, 3), city.street2.pk: (1, 1), city.district.pk: (1, 1),
        city.urban.pk: (0, 1), city.water.pk: (0, 1)}


def test_return_rate_by_department_level(month):
    con, city = month["con"], month["city"]
    rows = metrics.rates(con, ["return"], ["department"], as_of=AS_OF)
    assert by_key(rows, "return") == {city.urban.pk: (1, 2), city.water.pk: (0, 1), None: (1, 10)}


def test_first_contact_resolution_and_the_overview(month):
    con = month["con"]
    [row] = metrics.overview(con, (MARCH, MARCH), as_of=AS_OF)
    assert (row["registered"], row["counted"], row["closed"]) == (11, 9, 7)
    assert (row["k_first_contact_resolution"], row["n_first_contact_resolution"]) == (1, 9)
    assert (row["k_satisfaction"], row["n_satisfaction"]) == (2, 4)
    with pytest.raises(metrics.MetricsError):
        metrics.rates(con, ["first_contact_resolution"], ["street"])  # not a unit's figure


def test_by_category_channel_and_area(month):
    con, city = month["con"], month["city"]
    rows = metrics.rates(con, ["response"], ["channel"], months=(MARCH, MARCH), as_of=AS_OF)
    assert by_key(rows, "response") == {"phone": (4, 7), "wechat": (1, 1)}
    assert {r["name_zh0"] for r in rows} == {"电话", "微信"}
    top = Category.objects.get(code="urban.lighting.out").parent.parent
    rows = metrics.rates(con, ["response"], ["category1", "month"], as_of=AS_OF)
    assert [(r["k0"], r["name_zh0"], r["k1"], r["k_response"], r["n_response"]) for r in rows] == [
        (top.pk, top.name_zh, MARCH, 5, 8)]
    rows = metrics.rates(con, ["response"], ["area_district"], as_of=AS_OF)
    assert by_key(rows, "response") == {city.district_area.pk: (4, 7), city.other_area.pk: (1, 1)}


def test_ranking_by_street_with_intervals(month):
    con, city = month["con"], month["city"]
    rows = metrics.ranking(con, "response", "street", MARCH, as_of=AS_OF)
    assert [(r["k0"], r["rank"], r["cautious_rank"]) for r in rows] == [
        (city.street1.pk, 1, 1), (city.street2.pk, 2, 2)]
    assert rows[0]["name_zh0"] == "和平街道办事处"
    low, high = metrics.wilson(3, 4)
    assert (rows[0]["low_response"], rows[0]["high_response"]) == pytest.approx((low, high))
    rows = metrics.ranking(con, "return", "street", MARCH, as_of=AS_OF)  # lower is better
    assert [r["k0"] for r in rows] == [city.street1.pk, city.street2.pk]
    table = metrics.three_rate_ranking(con, MARCH, "street", as_of=AS_OF)
    assert {r["k0"]: (r["rank_response"], r["rank_resolution"], r["rank_satisfaction"]) for r in table} == {
        city.street1.pk: (1, 2, 1), city.street2.pk: (2, 1, 2)}


def test_requests_per_10k_residents(month):
    con = month["con"]
    rows = {r["code"]: r for r in metrics.requests_per_10k(con, "grid", (MARCH, MARCH))}
    assert rows["d1s1g1"]["cases"] == 8 and rows["d1s1g1"]["per_10k"] == pytest.approx(8 * 10_000 / 5_000)
    assert rows["d1s1g1"]["low"] < 16 < rows["d1s1g1"]["high"]
    rows = {r["code"]: r for r in metrics.requests_per_10k(con, "district", (MARCH, MARCH))}
    assert rows["d1"]["per_10k"] == pytest.approx(8 * 10_000 / 500_000)
    assert rows["d2"]["per_10k"] == pytest.approx(1 * 10_000 / 400_000)


def test_wilson_against_published_values():
    # Wilson (1927) score interval, 95 %: values as tabulated by Newcombe (1998), Table I.
    assert metrics.wilson(3, 4) == pytest.approx((0.3006, 0.9544), abs=1e-4)
    assert metrics.wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert metrics.wilson(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert metrics.wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert metrics.wilson(0, 0) == (None, None)


def test_a_small_unit_is_not_ranked_above_a_large_one_on_luck(tmp_path):
    """3 of 3 satisfied ranks first on the plain rate but after 95 of 100 on the cautious rank."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    from govcrm.analytics.warehouse import schema

    schema.ensure(con)
    con.execute("INSERT INTO dim_unit (unit_key, code, name_zh, name_en, kind, path, street_key) VALUES "
                "(1, 'small', '小街道', 'Small', 'street', '/c/small/', 1), "
                "(2, 'large', '大街道', 'Large', 'street', '/c/large/', 2)")
    con.execute("""
        INSERT INTO fact_case (case_id, unit_key, month_key, merged, close_reason, counted, satisfied)
        SELECT i, CASE WHEN i <= 3 THEN 1 ELSE 2 END, 202603, false, 'followed_up', true,
               CASE WHEN i <= 3 THEN true ELSE i > 8 END
        FROM range(1, 104) t(i)
    """)
    rows = metrics.ranking(con, "satisfaction", "street", MARCH)
    by_unit = {r["k0"]: r for r in rows}
    assert (by_unit[1]["k_satisfaction"], by_unit[1]["n_satisfaction"]) == (3, 3)
    assert (by_unit[2]["k_satisfaction"], by_unit[2]["n_satisfaction"]) == (95, 100)
    assert (by_unit[1]["rank"], by_unit[2]["rank"]) == (1, 2)
    assert (by_unit[1]["cautious_rank"], by_unit[2]["cautious_rank"]) == (2, 1)
    assert [r["k0"] for r in rows] == [2, 1]  # listed by the cautious rank
    assert metrics.ranking(con, "satisfaction", "street", MARCH, min_n=10)[0]["k0"] == 2
    assert len(metrics.ranking(con, "satisfaction", "street", MARCH, min_n=10)) == 1


def test_unknown_names_are_refused():
    with pytest.raises(metrics.MetricsError):
        metrics.rates_query(["nope"], ["street"])
    with pytest.raises(metrics.MetricsError):
        metrics.rates_query(["response"], ["street; DROP TABLE fact_case"])
    with pytest.raises(metrics.MetricsError):
        metrics.rates_query(["response", "return"], ["month"])
