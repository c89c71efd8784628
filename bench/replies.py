"""Reply quality against one team's manual labels of the Teddy Cup 2020 replies (附件4, 可解释性).

    .venv/bin/python bench/replies.py [--data DIR] [--write-idf]

`--write-idf` first rebuilds the shipped IDF table (govcrm/intelligence/replies/data/idf.tsv)
from the messages of attachment 3 and the messages and replies of attachment 4 (texts only,
no labels). Then scores every reply of the annotated attachment 4 (no deadline in the data:
timeliness is against the lag since the message) and prints ROC AUC against 可解释性
(1 = interpretable / adequate) of each sub-score, of the overall score, and of a logistic
regression on the score's features, fitted on a fixed 70% (rows sorted by 留言编号, shuffled
with seed 2020) and reported on the other 30%. The hand-set overall score is fitted on nothing,
but its rules were written after looking at the 70% only. Also times one scoring call.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path("/work/shared/data/teddycup2020-c-smart-gov")
SEED = 2020
TZ = dt.timezone(dt.timedelta(hours=8))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return [{k: (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(f)]


def _time(value: str) -> dt.datetime | None:
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(value, fmt).replace(tzinfo=TZ)
        except ValueError:
            continue
    return None


def write_idf(data: Path) -> None:
    from govcrm.intelligence.replies import relevance

    texts = [f"{r['留言主题']} {r['留言详情']}" for r in _rows(data / "full" / "attachment3_messages_with_votes.csv")]
    for r in _rows(data / "full" / "attachment4_messages_with_replies.csv"):
        texts += [f"{r['留言主题']} {r['留言详情']}", r["答复意见"]]
    table = relevance.idf_table_build(texts)
    relevance.idf_table_write(table)
    print(f"IDF table: {table.documents} documents, {len(table.df)} words (df >= 2) -> {relevance.IDF_PATH}")


def split(rows: list[dict[str, str]]) -> tuple[list, list]:
    rows = sorted(rows, key=lambda r: r["留言编号"])
    random.Random(SEED).shuffle(rows)
    cut = int(len(rows) * 0.7)
    return rows[:cut], rows[cut:]


def features(score, parts) -> list[float]:
    return [score.relevance, score.completeness, score.timeliness if score.timeliness is not None else 1.0,
            parts.length, float(parts.boilerplate), float(parts.forwarded_only),
            *(float(p in parts.found) for p in ("greeting", "facts", "action", "basis", "contact", "closing"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--write-idf", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from govcrm.intelligence.replies import completeness, reply_score

    if args.write_idf:
        write_idf(args.data)
    rows = _rows(args.data / "derived" / "attachment4_interpretability_manual_annotation.csv")
    train, test = split(rows)
    scored = {}
    timings = []
    first = time.perf_counter()
    reply_score(message="和平街路灯不亮", reply="您好，已修复。", received_at=None, replied_at=None)
    first = time.perf_counter() - first
    for r in rows:
        t0 = time.perf_counter()
        s = reply_score(message=r["留言详情"], title=r["留言主题"], reply=r["答复意见"],
                        received_at=_time(r["留言时间"]), replied_at=_time(r["答复时间"]), due_at=None)
        timings.append(time.perf_counter() - t0)
        parts = completeness.parts_of(r["答复意见"], f"{r['留言主题']}\n{r['留言详情']}", "zh-hans")
        scored[r["留言编号"]] = (s, parts)
    print(f"rows {len(rows)} (train {len(train)}, test {len(test)}); labels 1 = "
          f"{sum(r['可解释性'] == '1' for r in rows)}, 0 = {sum(r['可解释性'] == '0' for r in rows)}")
    timings.sort()
    ms = [1000 * t for t in timings]
    print(f"scoring one reply (reply_score only): mean {statistics.mean(ms):.1f} ms, p50 {ms[len(ms) // 2]:.1f} ms,"
          f" p95 {ms[int(len(ms) * 0.95)]:.1f} ms, max {ms[-1]:.1f} ms;"
          f" the first call, which loads jieba and the IDF table, {1000 * first:.0f} ms")

    def auc(subset, pick) -> float:
        y = [int(r["可解释性"]) for r in subset]
        return roc_auc_score(y, [pick(scored[r["留言编号"]][0]) for r in subset])

    print("\nROC AUC against 可解释性     all     train(70%)  test(30%)")
    for name, pick in [("relevance", lambda s: s.relevance), ("completeness", lambda s: s.completeness),
                       ("timeliness", lambda s: s.timeliness if s.timeliness is not None else 1.0),
                       ("overall (hand weights)", lambda s: s.overall),
                       ("verdict (good 2, weak 1, poor 0)", lambda s: {"good": 2, "weak": 1, "poor": 0}[s.verdict])]:
        print(f"  {name:34s} {auc(rows, pick):.3f}   {auc(train, pick):.3f}       {auc(test, pick):.3f}")
    x_train = [features(*scored[r["留言编号"]]) for r in train]
    x_test = [features(*scored[r["留言编号"]]) for r in test]
    y_train = [int(r["可解释性"]) for r in train]
    y_test = [int(r["可解释性"]) for r in test]
    model = LogisticRegression(max_iter=1000, C=1.0).fit(x_train, y_train)
    fit_auc = roc_auc_score(y_train, model.predict_proba(x_train)[:, 1])
    test_auc = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
    print(f"  {'logistic regression on features':34s}   —     {fit_auc:.3f}       {test_auc:.3f}")
    lengths = [completeness.length_units(r["答复意见"], "zh") for r in test]
    print(f"  {'baseline: reply length alone':34s}   —       —         {roc_auc_score(y_test, lengths):.3f}")

    print("\nverdict × label (all rows)")
    for verdict in ("good", "weak", "poor"):
        ones = sum(1 for r in rows if scored[r["留言编号"]][0].verdict == verdict and r["可解释性"] == "1")
        zeros = sum(1 for r in rows if scored[r["留言编号"]][0].verdict == verdict and r["可解释性"] == "0")
        print(f"  {verdict:5s} label 1: {ones:5d}  label 0: {zeros:4d}")
    print("\nmedians (all rows): " + ", ".join(
        f"{k} {statistics.median(getattr(s, k) for s, _ in scored.values()):.2f}"
        for k in ("relevance", "completeness", "overall")))


if __name__ == "__main__":
    main()
