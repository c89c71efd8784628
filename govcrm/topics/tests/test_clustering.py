import datetime as dt

from govcrm.topics.clustering import Doc, Params, cluster, words_of

from .factories import BURST_MAIN, BURST_MAIN_EN, UNRELATED

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)


def _docs(**place):
    docs = [Doc(key=f"b{k}", words=words_of(t, d), title=words_of(t), at=T0 + dt.timedelta(hours=k), **place)
            for k, (t, d, _c) in enumerate(BURST_MAIN)]
    docs += [Doc(key=f"u{k}", words=words_of(t, d), title=words_of(t), at=T0, **place)
             for k, (t, d, _c) in enumerate(UNRELATED)]
    return docs


def test_the_same_incident_told_four_times_is_one_topic_and_unrelated_messages_stay_out():
    docs = _docs(area="d1s1g1")
    topics = cluster(docs)
    assert len(topics) == 1
    assert {docs[i].key for i in topics[0].members} == {"b0", "b1", "b2", "b3"}
    assert "水管" in topics[0].terms or "爆裂" in topics[0].terms


def test_english_reports_of_an_incident_are_one_topic():
    docs = _docs() + [Doc(key=f"e{k}", words=words_of(t, d), title=words_of(t), at=T0)
                      for k, (t, d, _c) in enumerate(BURST_MAIN_EN)]
    topics = cluster(docs)
    english = [c for c in topics if any(docs[i].key.startswith("e") for i in c.members)]
    assert [sorted(docs[i].key for i in c.members) for c in english] == [["e0", "e1"]]
    assert {"burst", "water"} & set(english[0].terms)


def test_chinese_and_english_reports_of_one_incident_in_one_place_are_one_topic():
    docs = _docs(area="d1s1g1") + [
        Doc(key=f"e{k}", words=words_of(t, d), title=words_of(t), at=T0, area="d1s1g1", category="water")
        for k, (t, d, _c) in enumerate(BURST_MAIN_EN)]
    docs = [Doc(**{**d.__dict__, "category": "water"}) if d.key.startswith("b") else d for d in docs]
    topics = cluster(docs)
    assert len(topics) == 1
    assert {docs[i].key for i in topics[0].members} == {"b0", "b1", "b2", "b3", "e0", "e1"}
    apart = cluster(docs, Params(bridge_languages=False))
    assert sorted(len(c.members) for c in apart) == [2, 4]


def test_no_bridge_across_languages_without_the_same_category_or_a_place():
    english = [Doc(key=f"e{k}", words=words_of(t, d), title=words_of(t), at=T0, area="d1s1g1", category="water")
               for k, (t, d, _c) in enumerate(BURST_MAIN_EN)]
    chinese = [Doc(**{**d.__dict__, "category": "roads"}) if d.key.startswith("b") else d
               for d in _docs(area="d1s1g1")]
    assert sorted(len(c.members) for c in cluster(chinese + english)) == [2, 4]  # other category
    unplaced = [Doc(**{**d.__dict__, "area": None}) for d in english]
    same_cat = [Doc(**{**d.__dict__, "category": "water"}) if d.key.startswith("b") else d
                for d in _docs(area="d1s1g1")]
    assert sorted(len(c.members) for c in cluster(same_cat + unplaced)) == [2, 4]  # no place


def test_place_keeps_apart_the_same_words_in_two_distant_places():
    here = [Doc(key=k, words=words_of(t, d), title=words_of(t), at=T0, lat=30.66, lon=104.06)
            for k, (t, d, _c) in enumerate(BURST_MAIN[:2])]
    there = [Doc(key=10 + k, words=words_of(t, d), title=words_of(t), at=T0, lat=30.70, lon=104.10)
             for k, (t, d, _c) in enumerate(BURST_MAIN[:2])]
    topics = cluster(here + there, Params(radius_m=500))
    assert sorted(sorted(c.members) for c in topics) == [[0, 1], [2, 3]]


def test_time_keeps_apart_reports_weeks_apart():
    docs = [Doc(key=k, words=words_of(t, d), title=words_of(t), at=T0 + dt.timedelta(days=20 * (k % 2)))
            for k, (t, d, _c) in enumerate(BURST_MAIN)]
    topics = cluster(docs, Params(max_gap_days=7))
    assert all({i % 2 for i in c.members} in ({0}, {1}) for c in topics)
    assert cluster(docs, Params(max_gap_days=None))[0].members != []


def test_representative_is_a_member_and_nothing_to_cluster_gives_nothing():
    topics = cluster(_docs())
    assert topics[0].representative in topics[0].members
    assert cluster([]) == []
    assert cluster([Doc(key=1, words="")]) == []
