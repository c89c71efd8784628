"""Citizen segmentation on a generated warehouse with planted groups: the clusters recover the
groups, are named after what their members do (in Chinese and English), keep their keys when run
again on the same data written in another order, and are stored as dim_segment / dim_citizen."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from govcrm.analytics import segmentation
from govcrm.analytics.warehouse import connect, schema

AS_OF = dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC)
GROUPS = ("frequent", "online", "complainer", "phone_only")


def plant(con, *, seed: int = 1, per_group: int = 25, idle: int = 7) -> dict[str, str]:
    """Fact rows for four planted behaviours (+ idle citizens); returns citizen_key -> group."""
    rng = random.Random(seed)
    con.execute("INSERT INTO dim_category (category_key, code, level, l1_key) VALUES "
                "(1, 'a', 1, 1), (2, 'b', 1, 2), (3, 'c', 1, 3), (11, 'a.x', 2, 1), (21, 'b.x', 2, 2)")
    truth: dict[str, str] = {}
    cases, interactions, apps = [], [], []
    ids = iter(range(1, 100_000))

    def case(key, days_ago, channel, *, category=11, case_type="inquiry", satisfied=None, reopen=0):
        at = AS_OF - dt.timedelta(days=days_ago, hours=rng.random())
        cases.append((next(ids), key, at, channel, category, case_type, satisfied, reopen))

    members = [(g, i) for g in GROUPS for i in range(per_group)]
    rng.shuffle(members)
    for group, i in members:
        key = f"{group}-{i:03d}"
        truth[key] = group
        if group == "frequent":  # many phone calls, recent, across categories, content
            for _ in range(rng.randint(9, 14)):
                case(key, rng.randint(0, 120), "phone", category=rng.choice([1, 11, 2, 21, 3]),
                     satisfied=rng.random() < 0.85)
        elif group == "online":  # a little portal and WeChat, and applications
            for _ in range(rng.randint(1, 2)):
                case(key, rng.randint(0, 90), rng.choice(["portal", "wechat"]), satisfied=True)
            for _ in range(rng.randint(2, 4)):
                apps.append((next(ids), key, AS_OF - dt.timedelta(days=rng.randint(0, 90))))
        elif group == "complainer":  # the same complaint again and again, not satisfied, reopened
            for _ in range(rng.randint(4, 6)):
                case(key, rng.randint(0, 120), rng.choice(["phone", "phone", "wechat"]), category=21,
                     case_type="complaint", satisfied=False, reopen=rng.randint(0, 1))
        else:  # one phone call now and then
            case(key, rng.randint(20, 100), "phone", satisfied=rng.random() < 0.7)
            if rng.random() < 0.3:
                interactions.append((next(ids), "phone", key, AS_OF - dt.timedelta(days=rng.randint(20, 100))))
    for i in range(idle):
        truth[f"idle-{i}"] = "idle"
    con.executemany("INSERT INTO fact_case (case_id, citizen_key, registered_at, channel, category_key, case_type, "
                    "satisfied, reopen_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", cases)
    con.executemany("INSERT INTO fact_interaction (interaction_id, channel, citizen_key, created_at) "
                    "VALUES (?, ?, ?, ?)", interactions)
    con.executemany("INSERT INTO fact_application (application_id, citizen_key, started_at, status) "
                    "VALUES (?, ?, ?, 'submitted')", apps)
    keys = sorted(truth)
    rng.shuffle(keys)
    con.executemany("INSERT INTO dim_citizen (citizen_key, kind, segment_key) VALUES (?, 'person', 0)",
                    [(k,) for k in keys])
    return truth


@pytest.fixture
def warehouse(tmp_path):
    con = connect(path=tmp_path / "seg.duckdb")
    schema.ensure(con)
    yield con
    con.close()


def assigned(con) -> dict[str, int]:
    return dict(con.execute("SELECT citizen_key, segment_key FROM dim_citizen").fetchall())


def test_planted_groups_are_found_and_named(warehouse):
    truth = plant(warehouse)
    result = segmentation.assign(warehouse)
    assert result.k == 4 and result.silhouette > 0.4
    keys = assigned(warehouse)
    segments = {r[0]: r for r in warehouse.execute(
        "SELECT segment_key, code, name_zh, name_en, description_zh, description_en, citizens, profile "
        "FROM dim_segment").fetchall()}
    # Each planted group sits whole in one segment, and each segment holds one group.
    by_group: dict[str, set[int]] = {}
    for key, group in truth.items():
        by_group.setdefault(group, set()).add(keys[key])
    assert all(len(v) == 1 for v in by_group.values()), by_group
    assert len({next(iter(v)) for v in by_group.values()}) == len(by_group)
    code = {group: segments[next(iter(v))][1] for group, v in by_group.items()}
    assert code == {"frequent": "frequent_callers", "online": "online_self_servers",
                    "complainer": "repeat_complainants", "phone_only": "phone_only", "idle": "not_segmented"}
    frequent = segments[next(iter(by_group["frequent"]))]
    assert frequent[0] == 21 and frequent[2] == "高频来电者" and frequent[3] == "Frequent callers"
    assert frequent[6] == 25 and "25" in frequent[4] and "by phone" in frequent[5]
    profile = json.loads(frequent[7])
    assert profile["contacts"] >= 9 and profile["phone_share"] == 1.0
    assert segments[0][6] == 7  # the idle citizens
    assert sum(s[6] for s in segments.values()) == len(truth)


def test_a_rerun_on_the_same_data_in_another_order_keeps_every_key(warehouse, tmp_path):
    plant(warehouse, seed=1)
    segmentation.assign(warehouse)
    first = assigned(warehouse)
    other = connect(path=tmp_path / "other.duckdb")
    schema.ensure(other)
    plant(other, seed=1)
    # the same rows, inserted in another order
    for table in ("fact_case", "dim_citizen"):
        other.execute(f"CREATE TEMP TABLE shuffled AS SELECT * FROM {table} ORDER BY random()")
        other.execute(f"DELETE FROM {table}")
        other.execute(f"INSERT INTO {table} SELECT * FROM shuffled")
        other.execute("DROP TABLE shuffled")
    segmentation.assign(other)
    assert assigned(other) == first
    segmentation.assign(other)  # and again
    assert assigned(other) == first
    other.close()


def test_too_few_active_citizens_are_not_segmented(warehouse):
    warehouse.execute("INSERT INTO dim_citizen (citizen_key, segment_key) VALUES ('a', 5), ('b', 5)")
    warehouse.execute("INSERT INTO fact_case (case_id, citizen_key, registered_at, channel) VALUES "
                      "(1, 'a', TIMESTAMPTZ '2026-03-01 10:00:00+00', 'phone')")
    result = segmentation.assign(warehouse)
    assert result.k is None
    assert assigned(warehouse) == {"a": 0, "b": 0}
    assert warehouse.execute("SELECT segment_key, code, citizens FROM dim_segment").fetchall() == [
        (0, "not_segmented", 2)]


def test_an_empty_warehouse_has_one_empty_segment(warehouse):
    result = segmentation.assign(warehouse)
    assert [(s.key, s.citizens) for s in result.segments] == [(0, 0)]


def test_features_of_one_citizen_by_hand(warehouse):
    """contacts, recency, channel shares, categories, satisfaction, repeat complaints, applications."""
    warehouse.execute("INSERT INTO dim_category (category_key, l1_key) VALUES (11, 1), (12, 1), (21, 2)")
    warehouse.executemany(
        "INSERT INTO fact_case (case_id, citizen_key, registered_at, channel, category_key, case_type, satisfied, "
        "reopen_count) VALUES (?, 'x', ?, ?, ?, ?, ?, ?)", [
            (1, AS_OF - dt.timedelta(days=10), "phone", 11, "complaint", False, 1),
            (2, AS_OF - dt.timedelta(days=5), "phone", 12, "complaint", True, 0),
            (3, AS_OF - dt.timedelta(days=400), "phone", 21, "complaint", None, 0),  # outside the year
            (4, AS_OF - dt.timedelta(days=3), "wechat", 21, "inquiry", None, 0),
        ])
    warehouse.execute("INSERT INTO fact_interaction (interaction_id, channel, citizen_key, created_at, case_id) "
                      "VALUES (1, 'sms', 'x', ?, NULL), (2, 'phone', 'x', ?, 1)", [AS_OF - dt.timedelta(days=2),
                                                                                 AS_OF - dt.timedelta(days=10)])
    warehouse.execute("INSERT INTO fact_application (application_id, citizen_key, started_at) VALUES (1, 'x', ?)",
                      [AS_OF])
    row = warehouse.execute(segmentation.FEATURES_SQL).fetchone()
    features = dict(zip(("key", *segmentation.FEATURES), row, strict=True))
    # cases 1, 2, 4, the SMS without a case, the application: 5 contacts; the last one today
    assert features["contacts"] == 5 and features["recency_days"] == 0
    assert features["phone_share"] == pytest.approx(2 / 5) and features["online_share"] == pytest.approx(2 / 5)
    assert features["categories"] == 2 and features["satisfaction"] == pytest.approx(0.5)
    # two complaints in category 1 (one repeat) and one reopened case
    assert features["repeat_complaints"] == 2 and features["applications"] == 1


@pytest.mark.django_db
def test_the_refresh_stores_segments_of_real_cases(city, settings, tmp_path, capsys):
    """Through the real path: cases registered by the moves, `govcrm warehouse refresh`, dim_segment
    and dim_citizen.segment_key filled, every citizen counted once."""
    from django.core.management import call_command

    from govcrm.cases.tests.factories import register

    settings.GOVCRM_WAREHOUSE = tmp_path / "real.duckdb"
    agent = city.actor("agent")
    for i in range(8):  # one phone call each
        register(agent, citizen={"name": f"电话{i}", "phone": f"+86139000010{i:02d}"}, channel="phone",
                 case_type="inquiry")
    for i in range(8):  # several WeChat messages each
        for _ in range(3):
            register(agent, citizen={"name": f"微信{i}", "phone": f"+86139000020{i:02d}"}, channel="wechat",
                     case_type="inquiry")
    call_command("warehouse", "refresh", "--no-progress")
    assert "市民细分：3。" in capsys.readouterr().out  # two segments and "not segmented"
    con = connect(path=settings.GOVCRM_WAREHOUSE, read_only=True)
    try:
        segments = dict(con.execute("SELECT code, citizens FROM dim_segment").fetchall())
        by_key = con.execute("SELECT d.segment_key, s.code, count(*) FROM dim_citizen d "
                             "JOIN dim_segment s USING (segment_key) GROUP BY ALL").fetchall()
    finally:
        con.close()
    assert segments.get("phone_only") == 8 and segments.get("online_self_servers") == 8, segments
    assert sum(n for *_k, n in by_key) == sum(segments.values())
    assert {(code, n) for _k, code, n in by_key} >= {("phone_only", 8), ("online_self_servers", 8)}
