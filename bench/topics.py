"""Hot topics and early warning, measured by hand (not a test).

    .venv/bin/python -m bench.topics [--threshold 0.35 0.45 …] [--gap-days D] [--series 20000]

1. Clusters the 4,326 messages of the Teddy Cup 2020 problem C 附件3 with `topics.clustering`
   (title + details, segmented as case search text is; no place is known, so only text and
   time gate) and compares the topics with one competition team's top-5 hot-issue clusters
   (174 messages; a team's output, not a gold standard; see the data's SOURCE.md):
   - recovery: for each team cluster, the share of its messages that land in the one topic of
     ours holding most of them;
   - purity: over the team's messages that we put in a topic, the share that sits with the
     majority team cluster of its topic;
   - adjusted Rand index over the 174 messages (a message outside our topics is its own cluster).
2. The false-alarm rate of the burst test on simulated stationary Poisson series.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sys
import time
from collections import Counter
from pathlib import Path

DATA = Path(os.environ.get("GOVCRM_TEDDY_DATA", "/work/shared/data/teddycup2020-c-smart-gov"))


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import django

    django.setup()


def _time(text: str) -> dt.datetime | None:
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(text.strip(), fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


def load_messages() -> list[dict]:
    with (DATA / "full" / "attachment3_messages_with_votes.csv").open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def load_team() -> dict[str, int]:
    with (DATA / "derived" / "team_output_hot_issue_detail.csv").open(encoding="utf-8-sig") as f:
        return {row["留言编号"].strip(): int(row["问题ID"]) for row in csv.DictReader(f)}


def agreement(topic_of: dict[str, int], team: dict[str, int]) -> dict:
    from sklearn.metrics import adjusted_rand_score

    ids = sorted(team)
    ours = [topic_of.get(i, -1 - k) for k, i in enumerate(ids)]  # outside our topics: a singleton each
    ari = adjusted_rand_score([team[i] for i in ids], ours)
    recovery = {}
    for tc in sorted(set(team.values())):
        msgs = [i for i in ids if team[i] == tc]
        counts = Counter(topic_of[i] for i in msgs if i in topic_of)
        best = counts.most_common(1)[0][1] if counts else 0
        recovery[tc] = (best, len(msgs))
    clustered = [i for i in ids if i in topic_of]
    by_topic: dict[int, Counter] = {}
    for i in clustered:
        by_topic.setdefault(topic_of[i], Counter())[team[i]] += 1
    pure = sum(c.most_common(1)[0][1] for c in by_topic.values())
    return {"ari": ari, "recovery": recovery, "purity": pure / max(len(clustered), 1),
            "clustered": len(clustered), "team_total": len(ids), "topics_touching": len(by_topic)}


def run_clustering(threshold: float, gap_days: float | None) -> None:
    from govcrm.topics.clustering import Doc, Params, cluster, words_of

    rows = load_messages()
    team = load_team()
    t0 = time.perf_counter()
    docs = [Doc(key=r["留言编号"].strip(), words=words_of(r["留言主题"], r["留言详情"].strip()),
                title=words_of(r["留言主题"]),
                at=_time(r["留言时间"])) for r in rows]
    t1 = time.perf_counter()
    params = Params(threshold=threshold, max_gap_days=gap_days)
    topics = cluster(docs, params)
    t2 = time.perf_counter()
    topic_of = {docs[m].key: k for k, c in enumerate(topics) for m in c.members}
    a = agreement(topic_of, team)
    sizes = [len(c.members) for c in topics]
    print(f"threshold {threshold}, max gap {gap_days} days: {len(docs)} messages, segmentation {t1 - t0:.1f} s, "
          f"clustering {t2 - t1:.2f} s; {len(topics)} topics of ≥{params.min_size} "
          f"({sum(sizes)} messages; largest {sizes[:5]})")
    rec = ", ".join(f"#{k} {b}/{n} ({b / n:.0%})" for k, (b, n) in a["recovery"].items())
    print(f"  team clusters recovered (share in our best topic): {rec}")
    print(f"  team messages in our topics {a['clustered']}/{a['team_total']}, spread over {a['topics_touching']} "
          f"topics; purity {a['purity']:.3f}; adjusted Rand {a['ari']:.3f}")
    for c in topics[:5]:
        rep = rows[c.representative]  # docs are in the order of rows
        print(f"  topic of {len(c.members)}: {' '.join(c.terms)} | {rep['留言主题'][:40]}")


def run_false_alarms(series: int, seed: int) -> None:
    import numpy as np

    from govcrm.topics.burst import Rule, burst_test

    rng = np.random.default_rng(seed)
    for rule in (Rule(alpha=0.01, min_count=1, baseline_windows=8), Rule()):
        for lam in (0.5, 2.0, 5.0, 20.0, 100.0):
            counts = rng.poisson(lam, size=(series, rule.baseline_windows + 1))
            alarms = sum(burst_test(list(row[:-1]), int(row[-1]), rule).alarm for row in counts)
            print(f"  alpha {rule.alpha}, min count {rule.min_count}, {rule.baseline_windows} baseline windows, "
                  f"λ={lam}/window: {alarms}/{series} alarms = {alarms / series:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threshold", type=float, nargs="*", default=[0.35])
    parser.add_argument("--gap-days", type=float, default=None, help="time gate (default: none)")
    parser.add_argument("--series", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-clustering", action="store_true")
    args = parser.parse_args()
    _setup()
    if not args.skip_clustering:
        for t in args.threshold:
            run_clustering(t, args.gap_days)
    print(f"False alarms of the burst test on stationary Poisson series (seed {args.seed}):")
    run_false_alarms(args.series, args.seed)


if __name__ == "__main__":
    main()
