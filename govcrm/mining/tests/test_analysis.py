"""Mining a small hand-made log: the map, variants, times and loops computed by hand below."""

import datetime as dt

from govcrm.mining.analysis import Event, Trace, discover, loops, percentile, variants, write_xes

T0 = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def trace(key, steps, category="urban", period="2026-11"):
    """steps: (activity, hours after T0, unit)"""
    return Trace(key, tuple(Event(a, T0 + h * H, u) for a, h, u in steps), category, period)


# c1: straight through. c2: returned by the street, the centre rejects the return (arbitrate) — the
# return ping-pong; then the reply is sent back twice. c3: street → water → street (unit ping-pong),
# reply, reopen. c4: like c1, slower.
C1 = trace("c1", [("register", 0, ""), ("dispatch", 1, "st"), ("accept", 2, "st"), ("reply", 10, "st"),
                  ("review", 11, "st")])
C2 = trace("c2", [("register", 0, ""), ("dispatch", 1, "st"), ("return", 3, "st"), ("arbitrate", 4, "st"),
                  ("accept", 5, "st"), ("reply", 6, "st"), ("send_back", 7, "st"), ("reply", 8, "st"),
                  ("send_back", 9, "st"), ("reply", 10, "st"), ("review", 12, "st")], category="water")
C3 = trace("c3", [("register", 0, ""), ("dispatch", 2, "st"), ("transfer", 3, "wa"), ("transfer", 4, "st"),
                  ("accept", 5, "st"), ("reply", 6, "st"), ("review", 7, "st"), ("reopen", 8, "st")],
           period="2026-10")
C4 = trace("c4", [("register", 0, ""), ("dispatch", 3, "st"), ("accept", 7, "st"), ("reply", 27, "st"),
                  ("review", 28, "st")])
LOG = [C1, C2, C3, C4]


def test_variants_and_their_frequency():
    found = variants(LOG)
    assert found[0] == (("register", "dispatch", "accept", "reply", "review"), 2)
    assert sorted(n for _v, n in found) == [1, 1, 2]  # c1 and c4 share one variant; c2, c3 their own


def test_directly_follows_graph_with_times():
    pmap = discover(LOG)
    edges = {(e.source, e.target): e for e in pmap.edges}
    # register→dispatch in c1, c2, c3, c4: 1 h, 1 h, 2 h, 3 h
    e = edges[("register", "dispatch")]
    assert e.count == 4 and e.mean_s == 7 * 3600 / 4 and e.median_s == 1.5 * 3600 and e.p90_s == 3 * 3600
    # reply→send_back twice in c2 (1 h each); send_back→reply twice (1 h each)
    assert edges[("reply", "send_back")].count == 2 and edges[("send_back", "reply")].mean_s == 3600
    # reply→review: c1 1 h, c2 2 h, c3 1 h, c4 1 h
    e = edges[("reply", "review")]
    assert (e.count, e.mean_s, e.median_s, e.p90_s) == (4, 1.25 * 3600, 3600, 2 * 3600)
    assert ("transfer", "transfer") in edges and edges[("review", "reopen")].count == 1
    assert pmap.starts == {"register": 4} and pmap.ends == {"review": 3, "reopen": 1}
    assert pmap.activities["reply"] == 6 and pmap.activities["register"] == 4


def test_loops_per_category_unit_and_period():
    found = loops(LOG)
    t = found.total
    assert (t.traces, t.returns, t.returned_back, t.ping_pong, t.send_backs, t.repeated_send_back, t.reopens) == (
        4, 1, 1, 1, 2, 1, 1)
    assert found.by_unit["st"].returns == 1 and found.by_unit["st"].returned_back == 1
    assert found.by_unit["st"].ping_pong == 1 and "wa" in found.by_unit and found.by_unit["wa"].ping_pong == 0
    assert found.unit_pairs == {("st", "wa"): 1}
    assert found.by_category["water"].send_backs == 2 and found.by_category["urban"].send_backs == 0
    assert found.by_category["urban"].traces == 3 and found.by_period["2026-10"].reopens == 1
    assert found.by_period["2026-11"].traces == 3


def test_percentile_is_nearest_rank():
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == 9
    assert percentile([5], 90) == 5
    assert percentile([1, 2], 50) == 1


def test_xes_export_parses_back_with_pm4py(tmp_path):
    from govcrm.mining.analysis import pm4py

    path = str(tmp_path / "log.xes")
    write_xes(LOG, path)
    back = pm4py().read_xes(path)
    assert back["case:concept:name"].nunique() == 4 and len(back) == sum(len(t.events) for t in LOG)
    c2 = back[back["case:concept:name"] == "c2"].sort_values("time:timestamp")
    assert list(c2["concept:name"])[:4] == ["register", "dispatch", "return", "arbitrate"]
    assert set(back["org:resource"]) == {"centre", "st", "wa"}


def test_empty_log():
    assert discover([]).edges == [] and variants([]) == [] and loops([]).total.traces == 0


def test_same_time_events_keep_their_order():
    same = [trace(k, [("register", 0, ""), ("dispatch", 0, "st"), ("accept", 0, "st")]) for k in ("s1", "s2")]
    assert variants(same) == [(("register", "dispatch", "accept"), 2)]
