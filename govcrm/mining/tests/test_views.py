"""The case event log read from the database, the console page in both languages, exports, scoping."""

import datetime as dt
import io

import pytest
from django.utils import timezone

from govcrm.cases.actions import case_transition
from govcrm.cases.tests.factories import register
from govcrm.common.errors import Forbidden, ValidationFailed
from govcrm.mining.analysis import loops, pm4py, variants
from govcrm.mining.queries import Filters, event_log

pytestmark = pytest.mark.django_db


def step(city, case, user, action, minutes, **data):
    reason = data.pop("reason", "")
    return case_transition(actor=city.actor(user), case=case.number, action=action, data=data, reason=reason,
                           now=case.created_at + dt.timedelta(minutes=minutes))


@pytest.fixture
def log_cases(city):
    """a: straight; b: returned by the street and sent back to it (arbitrate); c: street → water → street."""
    agent = city.actor("agent")
    a, b = register(agent), register(agent)
    c = register(agent, category="environment.noise.commercial")
    for case in (a, b, c):
        step(city, case, "dispatcher", "dispatch", 60, unit="gov-d1s1")
    step(city, a, "street_handler", "accept", 120)
    step(city, a, "street_handler", "reply", 240, reply="已修复")
    step(city, b, "street_handler", "return", 90, reason_code="not_our_duty", reason="不归我们")
    step(city, b, "dispatcher", "arbitrate", 150, reason="属于街道职责")
    step(city, b, "street_handler", "accept", 180)
    step(city, b, "street_handler", "note", 200, reason="已联系")
    step(city, c, "dispatcher", "transfer", 70, unit="water", reason="供水问题")
    step(city, c, "dispatcher", "transfer", 100, unit="gov-d1s1", reason="不是供水")
    return a, b, c


def test_case_log_has_the_moves_their_units_and_no_notes(city, log_cases):
    a, b, c = log_cases
    log = event_log(city.actor("supervisor"), Filters())
    traces = {t.key: t for t in log.traces}
    assert [e.activity for e in traces[b.number].events] == ["register", "dispatch", "return", "arbitrate", "accept"]
    assert [e.unit for e in traces[b.number].events] == ["", "gov-d1s1", "gov-d1s1", "gov-d1s1", "gov-d1s1"]
    assert [e.unit for e in traces[c.number].events] == ["", "gov-d1s1", "water", "gov-d1s1"]
    assert (traces[a.number].events[2].at - traces[a.number].events[1].at) == dt.timedelta(minutes=60)
    found = loops(log.traces)
    assert (found.total.returns, found.total.returned_back, found.total.ping_pong) == (1, 1, 1)
    assert found.unit_pairs == {("gov-d1s1", "water"): 1}
    assert variants(log.traces)[0][1] == 1 and len(variants(log.traces)) == 3
    # filters: category prefix and period
    assert {t.key for t in event_log(city.actor("analyst"), Filters(category="environment")).traces} == {c.number}
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert event_log(city.actor("analyst"), Filters(start=tomorrow)).traces == []


def test_scoping(city, log_cases, settings):
    assert len(event_log(city.actor("district_manager"), Filters()).traces) == 3  # all held by its street
    water_case = register(city.actor("agent"))
    step(city, water_case, "dispatcher", "dispatch", 10, unit="water")
    assert len(event_log(city.actor("district_manager"), Filters()).traces) == 3
    assert len(event_log(city.actor("admin"), Filters()).traces) == 4
    for role in ("street_handler", "agent", "dispatcher"):
        with pytest.raises(Forbidden):
            event_log(city.actor(role), Filters())
    with pytest.raises(Forbidden):
        event_log(city.actor("district_manager"), Filters(unit="water"))
    with pytest.raises(ValidationFailed):
        event_log(city.actor("supervisor"), Filters(unit="nope"))
    settings.GOVCRM_MINING_MAX_CASES = 2
    log = event_log(city.actor("supervisor"), Filters())
    assert log.capped and len(log.traces) == 2 and water_case.number in {t.key for t in log.traces}


@pytest.mark.parametrize(("language", "words"), [
    ("en", ["Process mining", "Time between steps", "Variants", "Ping-pong", "Dispatch", "Returned back"]),
    ("zh-hans", ["流程挖掘", "步骤间用时", "流程变体", "来回推诿", "派单"]),
])
def test_page_renders_in_both_languages(client_for, log_cases, language, words):
    page = client_for("supervisor", language=language).get("/console/mining/")
    text = page.content.decode()
    assert page.status_code == 200 and "<svg" in text and "<path" in text
    missing = [w for w in words if w not in text]
    assert not missing


def test_bad_filters_are_a_clear_error(client_for, log_cases):
    client = client_for("supervisor", language="en")
    page = client.get("/console/mining/?start=2026-12-01&end=2026-11-01")
    assert page.status_code == 422 and "before its start" in page.content.decode()
    assert client.get("/console/mining/?unit=nope").status_code == 422
    assert client_for("district_manager").get("/console/mining/?unit=water").status_code == 403
    assert client_for("street_handler").get("/console/mining/").status_code == 403


def test_exports_xes_parses_back_and_csv(client_for, log_cases, tmp_path):
    a, b, c = log_cases
    client = client_for("analyst")
    response = client.get("/console/mining/export.xes")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    path = tmp_path / "log.xes"
    path.write_bytes(response.content)
    back = pm4py().read_xes(str(path))
    assert set(back["case:concept:name"]) == {a.number, b.number, c.number}
    assert list(back[back["case:concept:name"] == b.number].sort_values("time:timestamp")["concept:name"]) == [
        "register", "dispatch", "return", "arbitrate", "accept"]
    csv_text = client.get("/console/mining/export.csv?category=environment").content.decode("utf-8-sig")
    rows = list(__import__("csv").reader(io.StringIO(csv_text)))
    assert rows[0] == ["case", "activity", "timestamp", "unit", "category", "period"]
    assert {r[0] for r in rows[1:]} == {c.number} and [r[1] for r in rows[1:]][:2] == ["register", "dispatch"]
