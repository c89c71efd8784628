"""The scoring of possible duplicates, without a database."""

import datetime as dt

from govcrm.cases.search import search_text
from govcrm.incidents.similarity import Params, Report, metres, propose

NOW = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
GRID = "/city/d1/d1s1/d1s1g1/"


def report(key, text, hours=1, **kw):
    return Report(key=key, words=search_text(text), at=NOW - dt.timedelta(hours=hours), **kw)


def test_metres_is_haversine():
    # 0.001° of latitude is about 111 m anywhere
    assert 110 < metres(39.9, 116.4, 39.901, 116.4) < 112


def test_chinese_report_nearby_is_proposed_with_its_reasons():
    new = report("", "和平街12号门口的路灯坏了，晚上很黑", hours=0, lat=39.9000, lon=116.4000,
                 category="urban.lighting.out")
    same = report("A", "和平街12号附近的路灯坏了，一片漆黑", lat=39.9005, lon=116.4003, category="urban.lighting.out")
    far = report("B", "和平街12号门口的路灯坏了", lat=39.95, lon=116.5, category="urban.lighting.out")
    old = report("C", "和平街12号门口的路灯坏了", hours=24 * 10, lat=39.9, lon=116.4)
    other = report("D", "楼下餐馆油烟太大，噪音扰民", lat=39.9001, lon=116.4001, category="environment.noise")
    found = propose(new, [same, far, old, other])
    assert [p.key for p in found] == ["A"]
    kinds = [r.kind for r in found[0].reasons]
    assert kinds == ["words", "distance", "age", "category"]
    words = found[0].reasons[0].words
    assert "路灯" in words and "和平街" in words
    assert 50 < found[0].reasons[1].value < 70  # about 62 m


def test_english_report_in_the_same_grid_without_coordinates():
    new = report("", "Streetlight out on Maple Avenue near the school", hours=0, area_path=GRID, area_level="grid")
    same = report("A", "The streetlight on Maple Avenue is out, very dark at night", area_path=GRID,
                  area_level="grid")
    other_street = report("B", "Streetlight out on Maple Avenue", area_path="/city/d2/d2s1/", area_level="street")
    unrelated = report("C", "Noise from a karaoke bar every night", area_path=GRID, area_level="grid")
    found = propose(new, [same, other_street, unrelated])
    assert [p.key for p in found] == ["A"]
    assert found[0].reasons[1].kind == "same_grid"


def test_across_languages_only_same_category_and_near():
    new = report("", "Streetlight out at 12 Heping Street", hours=0, lat=39.9, lon=116.4, category="urban.lighting.out")
    zh = report("A", "和平街12号门口的路灯坏了", lat=39.9002, lon=116.4, category="urban.lighting.out")
    zh_other_category = report("B", "和平街12号门口的井盖丢了", lat=39.9002, lon=116.4, category="urban.manhole")
    found = propose(new, [zh, zh_other_category])
    assert [p.key for p in found] == ["A"]
    assert found[0].text < 0.2  # only the house number is shared


def test_window_radius_and_limit_are_parameters():
    new = report("", "路灯坏了", hours=0, lat=39.9, lon=116.4)
    near = report("A", "路灯坏了", hours=48, lat=39.9030, lon=116.4)  # about 333 m, two days
    assert [p.key for p in propose(new, [near])] == ["A"]
    assert propose(new, [near], Params(radius_m=200)) == []
    assert propose(new, [near], Params(window_days=1)) == []
    many = [report(str(i), "路灯坏了", hours=i + 1, lat=39.9, lon=116.4) for i in range(9)]
    assert [p.key for p in propose(new, many, Params(limit=3))] == ["0", "1", "2"]  # the most recent


def test_text_alone_needs_a_strong_match_when_place_is_unknown():
    new = report("", "小区电梯坏了三天没人修", hours=0)
    strong = report("A", "小区电梯坏了三天没人修理")
    weak = report("B", "电梯广告太多")
    assert [p.key for p in propose(new, [strong, weak])] == ["A"]
