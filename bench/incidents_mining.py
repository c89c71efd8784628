"""Duplicate-incident proposals and process mining, measured by hand (not a test).

    .venv/bin/python -m bench.incidents_mining [--candidates 2000] [--traces 20000]

1. Proposals (`incidents.similarity.propose`) on the Teddy Cup 2020 problem C 附件3 messages:
   each of the 174 messages one competition team grouped into its top-5 hot issues is taken as a
   new report, compared with all 4,326 messages by text alone (the messages carry no place; the
   time window is opened to the whole period). Reported: how often the best proposal is a message
   of the same team cluster (precision@1), how often at least one of the five is (hit@5), and how
   often nothing is proposed. A team's output, not a gold standard (see the data's SOURCE.md).
2. The time of one proposal against N candidates (what the intake's HTMX request pays for scoring).
3. Process mining on a synthetic log of N traces (dispatch, returns, transfers, send-backs):
   discover (pm4py DFG + times), variants (pm4py), loops, XES export (pm4py) — CPU seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import django

    django.setup()


def proposals_quality(candidates: int) -> None:
    from bench.topics import _time, load_messages, load_team
    from govcrm.cases.search import search_text
    from govcrm.incidents.similarity import Params, Report, propose

    messages, team = load_messages(), load_team()
    reports = []
    for m in messages:
        at = _time(m["留言时间"].strip()) or dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
        reports.append(Report(key=m["留言编号"].strip(), words=search_text(m["留言主题"], m["留言详情"]),
                              at=at.replace(tzinfo=dt.UTC)))
    by_key = {r.key: r for r in reports}
    p = Params(window_days=10_000)
    top1 = hit5 = none = 0
    labelled = [k for k in team if k in by_key]
    for key in labelled:
        found = propose(by_key[key], reports, p)
        if not found:
            none += 1
            continue
        same = [team.get(x.key) == team[key] for x in found]
        top1 += same[0]
        hit5 += any(same)
    n = len(labelled)
    print(f"proposals on {n} labelled messages against {len(reports)}: precision@1 {top1 / n:.3f}, "
          f"hit@5 {hit5 / n:.3f}, nothing proposed {none / n:.3f}")
    rng = random.Random(1)
    pool = rng.sample(reports, min(candidates, len(reports)))
    new = by_key[labelled[0]]
    started = time.process_time()
    for _ in range(20):
        propose(new, pool, p)
    print(f"one proposal against {len(pool)} candidates: {(time.process_time() - started) / 20 * 1000:.0f} ms CPU")


def synthetic_log(n: int):
    from govcrm.mining.analysis import Event, Trace

    rng = random.Random(7)
    units = [f"street-{i}" for i in range(20)] + ["water", "power", "urban"]
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    traces = []
    for i in range(n):
        at = t0 + dt.timedelta(minutes=rng.randrange(300 * 24 * 60))
        unit = rng.choice(units)
        events = [Event("register", at, "")]

        def step(activity, hours, u, events=events):
            nonlocal at
            at = at + dt.timedelta(hours=rng.expovariate(1 / hours))
            events.append(Event(activity, at, u))

        step("dispatch", 1, unit)
        if rng.random() < 0.15:
            step("return", 5, unit)
            unit2 = unit if rng.random() < 0.4 else rng.choice(units)
            step("arbitrate" if unit2 == unit else "dispatch", 3, unit2)
            unit = unit2
        if rng.random() < 0.1:
            other = rng.choice(units)
            step("transfer", 10, other)
            if rng.random() < 0.3:
                step("transfer", 10, unit)
            else:
                unit = other
        step("accept", 4, unit)
        step("reply", 60, unit)
        while rng.random() < 0.12:
            step("send_back", 8, unit)
            step("reply", 24, unit)
        step("review", 6, unit)
        step("follow_up", 30, unit)
        traces.append(Trace(f"c{i}", tuple(events), rng.choice(["urban", "water", "traffic", "env"]),
                            at.strftime("%Y-%m")))
    return traces


def mining(n: int) -> None:
    from govcrm.mining import analysis

    started = time.process_time()
    analysis.pm4py()
    print(f"pm4py import: {time.process_time() - started:.2f} s CPU")
    traces = synthetic_log(n)
    events = sum(len(t.events) for t in traces)
    for name, fn in [("discover (DFG + times)", analysis.discover), ("variants", analysis.variants),
                     ("loops", analysis.loops)]:
        started = time.process_time()
        result = fn(traces)
        print(f"{name} on {n} traces / {events} events: {time.process_time() - started:.2f} s CPU"
              + (f" ({len(result)} variants)" if name == "variants" else ""))
    with tempfile.TemporaryDirectory() as d:
        started = time.process_time()
        analysis.write_xes(traces, f"{d}/log.xes")
        size = os.path.getsize(f"{d}/log.xes")
        print(f"XES export: {time.process_time() - started:.2f} s CPU, {size / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--traces", type=int, default=20000)
    args = parser.parse_args()
    _setup()
    proposals_quality(args.candidates)
    mining(args.traces)


if __name__ == "__main__":
    main()
