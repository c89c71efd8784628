"""The recommender on hand-made histories: expected items, order, reasons, exclusions, cold start."""

import math

import pytest

from govcrm.personal.recommend import COOCCURRENCE, POPULAR, PROFILE, Cooccurrence, Popularity

# Five families: birth registration goes with child insurance (4 of 5) and less with the subsidy
# (2 of 5); the elderly pair goes together; one citizen used a single service.
HISTORIES = [
    {"birth", "insurance", "subsidy"},
    {"birth", "insurance", "subsidy"},
    {"birth", "insurance"},
    {"birth", "insurance"},
    {"birth", "vaccination"},
    {"senior-card", "bus-card"},
    {"senior-card", "bus-card"},
    {"senior-card"},
    {"insurance"},
]


def test_similarity_is_cosine_with_shrinkage_by_hand():
    model = Cooccurrence(HISTORIES, shrinkage=5.0, min_support=2)
    # birth: 5 citizens, insurance: 5, together 4 -> 4/sqrt(25) * 4/9
    assert model.similarity("birth", "insurance") == pytest.approx(4 / 5 * 4 / 9)
    # birth & subsidy: 2 together, subsidy 2 -> 2/sqrt(10) * 2/7
    assert model.similarity("birth", "subsidy") == pytest.approx(2 / math.sqrt(10) * 2 / 7)
    # birth & vaccination: only one citizen -> below min_support, no similarity
    assert model.similarity("birth", "vaccination") == 0.0
    assert model.similarity("insurance", "birth") == model.similarity("birth", "insurance")


def test_recommends_co_occurring_items_in_order_with_the_reason():
    model = Cooccurrence(HISTORIES, shrinkage=5.0, min_support=2)
    found = model.recommend({"birth"}, k=2, fill=False)
    assert [r.item for r in found] == ["insurance", "subsidy"]
    assert all(r.reason == COOCCURRENCE and r.because == "birth" for r in found)
    # insurance + birth both point at subsidy: its score is the sum of both similarities
    both = model.recommend({"birth", "insurance"}, k=1, fill=False)
    assert both[0].item == "subsidy"
    assert both[0].score == pytest.approx(model.similarity("birth", "subsidy") + model.similarity("insurance",
                                                                                                   "subsidy"))
    # both contribute 2/sqrt(5·2)·2/7: a tie goes to the first history item by code
    assert both[0].because == "birth"


def test_never_offers_what_is_in_progress_or_already_used():
    model = Cooccurrence(HISTORIES, shrinkage=5.0, min_support=2)
    found = model.recommend({"birth"}, k=5, exclude={"insurance"})
    items = [r.item for r in found]
    assert "insurance" not in items and "birth" not in items
    assert items[0] == "subsidy"


def test_cold_start_falls_back_to_popularity_and_respects_eligibility():
    model = Cooccurrence(HISTORIES, shrinkage=5.0, min_support=2)
    found = model.recommend(set(), k=3)
    # citizen counts: birth 5, insurance 5, senior-card 3, subsidy 2, bus-card 2, vaccination 1 (ties by code)
    assert [r.item for r in found] == ["birth", "insurance", "senior-card"]
    assert all(r.reason == POPULAR for r in found)
    only_young = model.recommend(set(), k=3, eligible=lambda item: item not in {"senior-card", "bus-card"})
    assert [r.item for r in only_young] == ["birth", "insurance", "subsidy"]


def test_profile_boost_reorders_the_fallback_and_marks_the_reason():
    pop = Popularity(HISTORIES)
    found = pop.recommend(set(), k=2, boost={"senior-card": 1.5})
    # 3 × 2.5 = 7.5 beats birth's and insurance's 5
    assert [r.item for r in found] == ["senior-card", "birth"]
    assert [r.reason for r in found] == [PROFILE, POPULAR]


def test_fill_tops_up_co_occurrence_with_popular_items():
    model = Cooccurrence(HISTORIES, shrinkage=5.0, min_support=2)
    found = model.recommend({"senior-card"}, k=3)
    assert found[0].item == "bus-card" and found[0].reason == COOCCURRENCE
    assert [r.item for r in found[1:]] == ["birth", "insurance"]
    assert {r.reason for r in found[1:]} == {POPULAR}
