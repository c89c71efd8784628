"""The dispatch classifier, measured by hand (not a test).

    .venv/bin/python bench/classifier.py [--cv-folds 10] [--latency 300] [--jobs 2]

Data: the Teddy Cup 2020 problem C 附件2 training file (attachment2_tokenized_train.csv, 7,367
jieba-tokenized messages, 7 first-level labels; see the data's SOURCE.md). The encrypted
held-out split is never read. Fixed splits:

- hold-out: a stratified 80/20 split of that file (`train_test_split(stratify=labels,
  random_state=2020)`), 5,893 / 1,474 rows;
- cross-validation: `StratifiedKFold(10, shuffle=True, random_state=0)` over all 7,367 rows.

Measures, for the production pipeline (`classifier.build_pipeline()`) against a baseline
(plain TF-IDF of jieba words + LinearSVC(C=1)):
1. hold-out macro-F1, accuracy and per-class F1 (production calibrated, fitted directly, no CV);
2. 10-fold CV macro-F1 (production uncalibrated, as `train()` scores it; and the baseline);
3. training time on the whole file: segmentation + calibrated fit (`--folds 0`), and with 5-fold CV;
4. latency of one message at a time (`document()` + `predict()` on one doc), and batch throughput;
5. calibration of the confidence on the hold-out (ECE over 10 bins, accuracy at confidence ≥ 0.9);
6. raw text vs token text: the hold-out tokens joined without spaces, re-segmented by `document()`.
The machine may be shared: the load average is printed with every timing.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import pickle
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from the checkout

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from govcrm.intelligence import classifier  # noqa: E402

DATA = Path(os.environ.get("GOVCRM_TEDDY_DATA", "/work/shared/data/teddycup2020-c-smart-gov"))
FILE = DATA / "train" / "attachment2_tokenized_train.csv"
SPLIT_SEED = 2020
CV_SEED = 0
HIGH = 0.9


def load() -> tuple[list[str], list[str]]:
    with FILE.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    texts = [(r["tokens"] or "").strip() for r in rows]
    labels = [(r["一级标签"] or "").strip() for r in rows]
    keep = [i for i, (t, lab) in enumerate(zip(texts, labels, strict=True)) if t and lab]
    return [texts[i] for i in keep], [labels[i] for i in keep]


def _identity(doc: list[str]) -> list[str]:
    return doc


def baseline() -> Pipeline:
    """Plain TF-IDF of the jieba words (the same `document()` tokens) + LinearSVC(C=1)."""
    return Pipeline([("tfidf", TfidfVectorizer(analyzer=_identity)),
                     ("svm", LinearSVC(C=1.0, random_state=0))])


def load_avg() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def ece(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> tuple[float, list[tuple]]:
    """Expected calibration error over equal-width confidence bins, and the bins' rows."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    total, rows = 0.0, []
    for i in range(bins):
        lo, hi = edges[i], edges[i + 1]
        mask = (confidence > lo) & (confidence <= hi) if i else (confidence >= lo) & (confidence <= hi)
        n = int(mask.sum())
        if not n:
            rows.append((lo, hi, 0, None, None))
            continue
        conf, acc = float(confidence[mask].mean()), float(correct[mask].mean())
        total += n / len(confidence) * abs(acc - conf)
        rows.append((lo, hi, n, conf, acc))
    return total, rows


def print_scores(name: str, result: dict) -> None:
    print(f"  {name}: macro-F1 {result['macro_f1']:.4f}  accuracy {result['accuracy']:.4f}  n {result['n']}")


def per_class_table(labels: list[str], results: dict[str, dict]) -> None:
    names = list(results)
    print("  " + f"{'label':<14}" + "".join(f"{n:>22}" for n in names) + f"{'support':>9}")
    for lab in labels:
        cells = "".join(f"{results[n]['per_class'][lab]['f1']:>22.4f}" for n in names)
        print(f"  {lab:<14}{cells}{results[names[0]]['per_class'][lab]['support']:>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv-folds", type=int, default=10)
    parser.add_argument("--latency", type=int, default=300, help="hold-out messages timed one by one")
    parser.add_argument("--jobs", type=int, default=2, help="processes for cross-validation")
    args = parser.parse_args()
    summary: list[tuple[str, str]] = []

    print(f"date {dt.datetime.now(dt.UTC).date().isoformat()}  cores {os.cpu_count()}  {load_avg()}")
    texts, labels = load()
    print(f"{FILE.name}: {len(texts)} rows; labels " + ", ".join(f"{k} {v}" for k, v in Counter(labels).most_common()))
    classifier.document("预热")  # load jieba's dictionary outside any timing

    # 3a. Training time on the whole file, as `govcrm classifier train --folds 0` does it.
    print(f"\n3. Training time on all {len(texts)} rows  ({load_avg()})")
    t0 = time.perf_counter()
    docs = [classifier.document(t) for t in texts]
    seg_s = time.perf_counter() - t0
    trained = classifier.train(docs, labels, folds=0)
    print(f"  segmentation {seg_s:.1f} s + calibrated fit {trained.seconds:.1f} s = "
          f"{seg_s + trained.seconds:.1f} s  ({load_avg()})")
    t1 = time.perf_counter()
    trained5 = classifier.train(docs, labels, folds=5, jobs=args.jobs)
    t5 = time.perf_counter() - t1
    print(f"  with default 5-fold CV (n_jobs {args.jobs}): CV {trained5.cv_seconds:.1f} s + "
          f"fit {trained5.seconds:.1f} s; "
          f"total incl. segmentation {seg_s + t5:.1f} s; CV macro-F1 {trained5.cv['macro_f1']:.4f}  ({load_avg()})")
    summary += [("train: segmentation + calibrated fit (--folds 0)", f"{seg_s:.1f} + {trained.seconds:.1f} = "
                 f"{seg_s + trained.seconds:.1f} s"),
                ("train: total with 5-fold CV", f"{seg_s + t5:.1f} s")]
    del trained, trained5

    # 1. Hold-out.
    idx = np.arange(len(texts))
    tr, te = train_test_split(idx, test_size=0.2, stratify=labels, random_state=SPLIT_SEED)
    x_tr, y_tr = [docs[i] for i in tr], [labels[i] for i in tr]
    x_te, y_te = [docs[i] for i in te], [labels[i] for i in te]
    print(f"\n1. Hold-out: stratified 80/20 split, random_state={SPLIT_SEED}: train {len(tr)}, test {len(te)}")
    t0 = time.perf_counter()
    prod = classifier.build_pipeline().fit(x_tr, y_tr)
    prod_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    preds = classifier.predict(prod, x_te)
    batch_s = time.perf_counter() - t0
    prod_scores = classifier.scores(y_te, [p.label for p in preds])
    t0 = time.perf_counter()
    base = baseline().fit(x_tr, y_tr)
    base_fit = time.perf_counter() - t0
    base_scores = classifier.scores(y_te, list(base.predict(x_te)))
    size = len(pickle.dumps(prod)) / 1e6
    print_scores(f"production (calibrated, fit {prod_fit:.1f} s, pickled {size:.1f} MB)", prod_scores)
    print_scores(f"baseline TF-IDF words + LinearSVC(C=1) (fit {base_fit:.1f} s)", base_scores)
    classes = sorted(set(labels))
    per_class_table(classes, {"production F1": prod_scores, "baseline F1": base_scores})
    summary += [("hold-out macro-F1 production / baseline",
                 f"{prod_scores['macro_f1']:.4f} / {base_scores['macro_f1']:.4f}"),
                ("hold-out accuracy production / baseline",
                 f"{prod_scores['accuracy']:.4f} / {base_scores['accuracy']:.4f}")]

    # 5. Calibration on the hold-out.
    conf = np.array([p.confidence for p in preds])
    correct = np.array([p.label == y for p, y in zip(preds, y_te, strict=True)], dtype=float)
    e, rows = ece(conf, correct)
    high = conf >= HIGH
    print(f"\n5. Calibration of the confidence on the hold-out ({len(conf)} messages)")
    print(f"  ECE (10 equal-width bins) {e:.4f}; mean confidence {conf.mean():.4f} vs accuracy {correct.mean():.4f}")
    print(f"  confidence ≥ {HIGH}: {int(high.sum())} messages ({high.mean():.1%}), accuracy "
          f"{correct[high].mean():.4f}; below: {int((~high).sum())}, accuracy {correct[~high].mean():.4f}")
    for lo, hi, n, c, a in rows:
        if n:
            print(f"  ({lo:.1f}, {hi:.1f}]  n {n:>5}  mean confidence {c:.3f}  accuracy {a:.3f}")
    summary += [("hold-out ECE (10 bins)", f"{e:.4f}"),
                (f"confidence ≥ {HIGH}: share / accuracy", f"{high.mean():.1%} / {correct[high].mean():.4f}")]

    # 6. Raw text vs token text.
    raw_te = ["".join(texts[i].split()) for i in te]
    raw_docs = [classifier.document(t) for t in raw_te]
    raw_preds = classifier.predict(prod, raw_docs)
    raw_scores = classifier.scores(y_te, [p.label for p in raw_preds])
    raw_base = classifier.scores(y_te, list(base.predict(raw_docs)))
    same = sum(a.label == b.label for a, b in zip(preds, raw_preds, strict=True)) / len(preds)
    raw_conf = np.array([p.confidence for p in raw_preds])
    raw_correct = np.array([p.label == y for p, y in zip(raw_preds, y_te, strict=True)], dtype=float)
    raw_e, _ = ece(raw_conf, raw_correct)
    print("\n6. Raw text (hold-out tokens joined without spaces, re-segmented) vs token text, same models")
    print(f"  production: tokens macro-F1 {prod_scores['macro_f1']:.4f}, raw macro-F1 {raw_scores['macro_f1']:.4f} "
          f"(accuracy {raw_scores['accuracy']:.4f}, ECE {raw_e:.4f}); same label for {same:.1%} of messages")
    print(f"  baseline:   tokens macro-F1 {base_scores['macro_f1']:.4f}, raw macro-F1 {raw_base['macro_f1']:.4f}")
    summary += [("hold-out macro-F1 tokens / raw (production)",
                 f"{prod_scores['macro_f1']:.4f} / {raw_scores['macro_f1']:.4f}"),
                ("hold-out macro-F1 tokens / raw (baseline)",
                 f"{base_scores['macro_f1']:.4f} / {raw_base['macro_f1']:.4f}")]

    # 4. Latency, one message at a time, and batch throughput.
    n_lat = min(args.latency, len(te))
    for name, sample in (("raw text", raw_te[:n_lat]), ("token text", [texts[i] for i in te[:n_lat]])):
        classifier.predict(prod, [classifier.document(sample[0])])  # warm
        times = []
        for text in sample:
            t0 = time.perf_counter()
            classifier.predict(prod, [classifier.document(text)])
            times.append((time.perf_counter() - t0) * 1000)
        print(f"\n4. Latency of one message ({name}; document() + predict() on one doc), first {n_lat} of the "
              f"hold-out: p50 {pct(times, 50):.1f} ms  p95 {pct(times, 95):.1f} ms  max {max(times):.1f} ms  "
              f"mean {statistics.fmean(times):.1f} ms  ({load_avg()})")
        slow = sample[int(np.argmax(times))]
        again = []
        for _ in range(20):
            t0 = time.perf_counter()
            classifier.predict(prod, [classifier.document(slow)])
            again.append((time.perf_counter() - t0) * 1000)
        print(f"  the slowest message ({len(slow)} characters) re-timed 20 times: "
              f"median {statistics.median(again):.1f} ms, "
              f"max {max(again):.1f} ms")
        summary.append((f"latency one message, {name}: p50 / p95 / max",
                        f"{pct(times, 50):.1f} / {pct(times, 95):.1f} / {max(times):.1f} ms"))
    t0 = time.perf_counter()
    batch_docs = [classifier.document(t) for t in raw_te]
    seg_batch = time.perf_counter() - t0
    t0 = time.perf_counter()
    classifier.predict(prod, batch_docs)
    pred_batch = time.perf_counter() - t0
    rate = len(raw_te) / (seg_batch + pred_batch)
    print(f"  batch of {len(raw_te)} raw messages: segmentation {seg_batch:.2f} s + predict {pred_batch:.2f} s "
          f"= {rate:.0f} messages/s (predict alone on token docs earlier: {len(x_te) / batch_s:.0f}/s)  ({load_avg()})")
    summary.append(("batch throughput (raw text, segmentation + predict)", f"{rate:.0f} messages/s"))
    del prod, base

    # 2. Cross-validation over the whole file.
    y = np.array(labels)
    splitter = StratifiedKFold(args.cv_folds, shuffle=True, random_state=CV_SEED)
    print(f"\n2. {args.cv_folds}-fold stratified CV (shuffle, random_state={CV_SEED}) over all {len(docs)} rows "
          f"(n_jobs {args.jobs})")
    for name, make in (("production (uncalibrated)", lambda: classifier.build_pipeline(calibrate=False)),
                       ("baseline", baseline)):
        t0 = time.perf_counter()
        pred = cross_val_predict(make(), docs, y, cv=splitter, n_jobs=args.jobs)
        took = time.perf_counter() - t0
        pooled = classifier.scores(labels, list(pred))
        folds = [classifier.scores(list(y[f]), list(pred[f]))["macro_f1"] for _, f in splitter.split(docs, y)]
        print(f"  {name}: pooled macro-F1 {pooled['macro_f1']:.4f}, accuracy {pooled['accuracy']:.4f}; per fold "
              f"mean {statistics.fmean(folds):.4f} ± {statistics.stdev(folds):.4f} (min {min(folds):.4f}, "
              f"max {max(folds):.4f})  {took:.0f} s  ({load_avg()})")
        summary.append((f"{args.cv_folds}-fold CV macro-F1 {name} (pooled; fold mean ± sd)",
                        f"{pooled['macro_f1']:.4f}; {statistics.fmean(folds):.4f} ± {statistics.stdev(folds):.4f}"))

    print(f"\nSummary  ({load_avg()})")
    width = max(len(k) for k, _ in summary)
    for k, v in summary:
        print(f"  {k:<{width}}  {v}")


if __name__ == "__main__":
    main()
