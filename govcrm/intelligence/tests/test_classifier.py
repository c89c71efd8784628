"""The classifier's pipeline end to end on a small made-up set: no accuracy claims (see bench/)."""

import pickle
import random

import pytest

from govcrm.intelligence import classifier

from .factories import LIGHT, NOISE, PARKING, WATER, labelled, message


@pytest.fixture(scope="module")
def trained():
    docs, labels = labelled(20)
    return classifier.train(docs, labels, folds=3, seed=0, jobs=1)


def test_segment_gives_the_same_words_for_raw_and_pre_segmented_text():
    raw = "和平街路灯坏了三天，晚上很黑。"
    words = classifier.segment(raw)
    assert "路灯" in words and "，" not in words and " " not in words
    assert classifier.segment(" ".join(words)) == words


def test_segment_keeps_english_words_lower_cased():
    assert classifier.segment("Street LIGHT is out!") == ["street", "light", "is", "out"]


def test_document_puts_the_title_first():
    title = classifier.segment("路灯坏了")
    doc = classifier.document("晚上很黑", title="路灯坏了")
    assert doc == title + classifier.segment("晚上很黑") and "路灯" in title


def test_train_cross_validates_and_fits_every_label(trained):
    assert set(trained.labels) == {LIGHT, NOISE, WATER, PARKING}
    assert trained.n == 80 and trained.cv_folds == 3
    assert set(trained.cv) >= {"macro_f1", "accuracy", "n", "per_class"}
    assert trained.cv["n"] == 80
    assert sum(c["support"] for c in trained.cv["per_class"].values()) == 80


def test_predictions_carry_probabilities_that_sum_below_one(trained):
    rng = random.Random(7)
    docs = [classifier.document(*reversed(message(label, rng))) for label in (LIGHT, NOISE, WATER, PARKING)]
    preds = classifier.predict(trained.model, docs)
    for p in preds:
        assert 0 <= p.confidence <= 1
        assert len(p.alternatives) == 2
        assert p.confidence >= p.alternatives[0][1] >= p.alternatives[1][1]
        assert p.confidence + sum(a[1] for a in p.alternatives) <= 1.0001


def test_the_model_survives_pickling(trained):
    again = pickle.loads(pickle.dumps(trained.model))  # noqa: S301 -- bytes made one line above
    doc = [classifier.document("晚上路灯全黑，请尽快处理")]
    assert classifier.predict(again, doc)[0] == classifier.predict(trained.model, doc)[0]


def test_labels_with_too_few_examples_are_left_out():
    docs, labels = labelled(12)
    docs.append(classifier.document("居住证办理进度"))
    labels.append("security.residence.hukou")
    result = classifier.train(docs, labels, folds=0, jobs=1)
    assert result.dropped == {"security.residence.hukou": 1}
    assert "security.residence.hukou" not in result.labels and result.cv is None


def test_one_label_is_refused():
    docs, labels = labelled(12)
    with pytest.raises(ValueError, match="two labels"):
        classifier.train(docs[:12], labels[:12], folds=0)


def test_scores_report_macro_f1_accuracy_and_per_class():
    s = classifier.scores(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert s["accuracy"] == 0.75 and s["n"] == 4
    assert s["per_class"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert s["macro_f1"] == round((0.6667 + 0.8) / 2, 4)


def test_words_unseen_in_training_are_dropped_so_raw_text_reads_like_token_text():
    known = classifier.KnownWords().fit([["路灯", "不亮"], ["停水"]])
    assert known.transform([["小区", "的", "路灯", "不亮", "了"]]) == [["路灯", "不亮"]]
