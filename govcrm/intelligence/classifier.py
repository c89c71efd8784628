"""The dispatch classifier: which category a citizen's message belongs to, with a calibrated confidence.

Rules:
- Text is segmented with jieba (Chinese) and lower-cased; English words stay whole. Text that is
  already segmented (tokens joined by spaces, stopwords removed, as in the Teddy Cup training
  split) goes through the same function and gives the same tokens, so one model takes both.
  Stopwords need no list: words the training texts never contain have no feature.
- Words never seen in training are dropped before the features are built (`KnownWords`).
- Features: TF-IDF of words and of character 2–4-grams over the whole message, plus the same for
  its first twelve words (the title, or the message's opening), at half weight — the opening
  says what the message is about (ADR 0011 has the measurements behind each choice).
- Model: a linear SVM, class-balanced, with sigmoid calibration by five-fold cross-validation,
  so that `confidence` reads as a probability and a per-category threshold means what it says.
- Pure functions and a picklable pipeline: no database here (see `store` and `actions`).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import jieba
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

jieba.setLogLevel(60)

HEAD_WORDS = 12
MAX_CHARS = 3000  # a message longer than this is classified by its first 3,000 characters
_WORD = re.compile(r"[\w\u3400-\u9fff]", re.UNICODE)


def segment(text: str) -> list[str]:
    """Words of a message: jieba's segmentation, lower-cased, without spaces and punctuation."""
    return [w for w in jieba.lcut((text or "")[:MAX_CHARS].lower()) if _WORD.search(w)]


def document(text: str, title: str = "") -> list[str]:
    """One message as the model reads it: the title's words, then the text's."""
    return segment(title) + segment(text) if title else segment(text)


# Named module functions, not lambdas: the pipeline is pickled with the model.
def _words(doc: list[str]) -> list[str]:
    return doc


def _head_words(doc: list[str]) -> list[str]:
    return doc[:HEAD_WORDS]


def _joined(doc: list[str]) -> str:
    return "".join(doc)


def _head_joined(doc: list[str]) -> str:
    return "".join(doc[:HEAD_WORDS])


def _words_tfidf(view) -> TfidfVectorizer:
    """TF-IDF over pre-segmented documents (lists of words), through a view of them."""
    return TfidfVectorizer(analyzer=view, sublinear_tf=True)


def _chars_tfidf(view, ngram_range: tuple[int, int], min_df: int) -> TfidfVectorizer:
    """TF-IDF of character n-grams of the document's words joined without spaces."""
    return TfidfVectorizer(analyzer="char", preprocessor=view, ngram_range=ngram_range, min_df=min_df,
                           sublinear_tf=True)


def _rare(n_docs: int) -> int:
    """Character n-grams seen in fewer documents than this are dropped: on thousands of messages
    five (as accurate as two in CV, and 40% of the vocabulary, so of the memory); on a few dozen
    one, so that a small centre's first model still has features."""
    return 5 if n_docs >= 2000 else 2 if n_docs >= 200 else 1


class KnownWords(BaseEstimator, TransformerMixin):
    """Keeps only the words seen in training.

    A model trained on text with its stopwords removed (the Teddy Cup split) then reads raw text
    the same way: the stopwords it never saw do not break up the character n-grams. Trained on
    raw text (the cases' history), every common word is known and nothing changes.
    """

    def fit(self, docs, y=None):
        self.vocabulary_ = frozenset(w for doc in docs for w in doc)
        return self

    def transform(self, docs):
        return [[w for w in doc if w in self.vocabulary_] for doc in docs]


def build_pipeline(*, n_docs: int = 10_000, seed: int = 0, calibrate: bool = True) -> Pipeline:
    features = FeatureUnion([
        ("words", _words_tfidf(_words)),
        ("chars", _chars_tfidf(_joined, (2, 4), _rare(n_docs))),
        ("head_words", _words_tfidf(_head_words)),
        ("head_chars", _chars_tfidf(_head_joined, (2, 3), min(_rare(n_docs), 2))),
    ], transformer_weights={"words": 1.0, "chars": 1.0, "head_words": 0.5, "head_chars": 0.5})
    svm = LinearSVC(C=0.5, class_weight="balanced", random_state=seed)
    model = CalibratedClassifierCV(svm, cv=5, method="sigmoid", ensemble=False) if calibrate else svm
    return Pipeline([("known", KnownWords()), ("features", features), ("model", model)])


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...]  # the next best labels with their probabilities


def predict(model: Pipeline, docs: Sequence[list[str]], *, top: int = 3) -> list[Prediction]:
    proba = model.predict_proba(list(docs))
    classes = model.classes_
    out = []
    for row in proba:
        order = np.argsort(row)[::-1][:top]
        ranked = tuple((str(classes[i]), round(float(row[i]), 4)) for i in order)
        out.append(Prediction(label=ranked[0][0], confidence=ranked[0][1], alternatives=ranked[1:]))
    return out


def scores(y_true: Sequence[str], y_pred: Sequence[str]) -> dict:
    """Macro-F1, accuracy, n and per-class precision / recall / F1 / support."""
    labels = sorted(set(y_true) | set(y_pred))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    seen = set(y_true)
    present = [lab for lab in labels if lab in seen]
    return {
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "n": len(y_true),
        "per_class": {
            lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                  "f1": round(float(f[i]), 4), "support": int(s[i])}
            for i, lab in enumerate(labels)
        },
    }


@dataclass(frozen=True)
class Trained:
    model: Pipeline
    labels: tuple[str, ...]
    n: int
    cv: dict | None  # cross-validated scores, None when skipped
    cv_folds: int
    seconds: float  # fitting the final model on all the data
    cv_seconds: float
    dropped: dict[str, int]  # labels with too few examples to learn, and their counts


MIN_PER_LABEL = 10


def train(docs: Sequence[list[str]], labels: Sequence[str], *, folds: int = 5, seed: int = 0,
          jobs: int = 2) -> Trained:
    """Cross-validate (stratified, shuffled with `seed`), then fit the final model on everything."""
    counts = Counter(labels)
    dropped = {lab: c for lab, c in counts.items() if c < MIN_PER_LABEL}
    keep = [i for i, lab in enumerate(labels) if lab not in dropped]
    x = [docs[i] for i in keep]
    y = np.array([labels[i] for i in keep])
    if len(set(y)) < 2:
        raise ValueError(f"need at least two labels with {MIN_PER_LABEL} or more examples each")
    cv = None
    t0 = time.perf_counter()
    if folds >= 2:
        splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
        # Scored without calibration: the sigmoid does not move the best class much and costs 6x.
        pipeline = build_pipeline(n_docs=len(y), seed=seed, calibrate=False)
        pred = cross_val_predict(pipeline, x, y, cv=splitter, n_jobs=jobs)
        cv = scores(list(y), list(pred))
    cv_seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    model = build_pipeline(n_docs=len(y), seed=seed).fit(x, y)
    return Trained(model=model, labels=tuple(str(c) for c in model.classes_), n=len(y), cv=cv,
                   cv_folds=folds if folds >= 2 else 0, seconds=time.perf_counter() - t1,
                   cv_seconds=cv_seconds, dropped=dropped)
