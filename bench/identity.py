"""Identity resolution measured by hand (not a test): pairwise precision and recall against known truth.

    .venv/bin/python -m bench.identity [--records 100000] [--seed 7] [--threshold 0.95]

Generates `--records` resident records with `govcrm.identity.synthetic.population` (people with
valid resident IDs and mobile numbers; about a third of the records are extra copies of someone,
each formatted differently and with up to three fields wrong or missing: look-alike characters
in the name, swapped digits, a new phone, no ID, no birth date, another address; households
sharing surname, address and phone as hard negatives), then runs the production matching model
(`govcrm.identity.matching.find_pairs`: Splink 5 on an in-memory DuckDB, EM-trained) on them and
compares the proposed pairs with every true pair (all pairs of records of one person).

Prints precision, recall, F1, the time of the matching (generation excluded) with its stages,
and the load average before and after, since the machine is shared.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import django

    django.setup()


def _timed_stages() -> dict[str, float]:
    """Wrap Splink's training and prediction steps to time them (no change to what they do)."""
    from splink.internals.linker_components import inference, training

    stages: dict[str, float] = defaultdict(float)
    for cls, names in ((training.LinkerTraining, ("estimate_probability_two_random_records_match",
                                                  "estimate_u_using_random_sampling",
                                                  "estimate_parameters_using_expectation_maximisation")),
                       (inference.LinkerInference, ("predict",))):
        for name in names:
            original = getattr(cls, name)

            def wrapped(*args, _original=original, _name=name, **kwargs):
                started = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    stages[_name] += time.perf_counter() - started

            setattr(cls, name, wrapped)
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threshold", type=float, default=0.95)
    parser.add_argument("--examples", type=int, default=0, help="print this many missed and wrong pairs")
    parser.add_argument("--save-model", action="store_true",
                        help="train on the generated records and write govcrm/identity/model.json (the model "
                             "used below matching.MIN_TRAINING_RECORDS records), then stop")
    args = parser.parse_args()
    _setup()
    from govcrm.identity import matching, synthetic

    if args.save_model:
        records = synthetic.population(args.records, seed=args.seed)
        model = matching.train_model(matching.Candidate(key=f"r:{i}", **{f: r[f] for f in matching.FIELDS})
                                     for i, r in enumerate(records))
        matching.SHIPPED_MODEL.write_text(json.dumps(model, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"model trained on {len(records):,} records written to {matching.SHIPPED_MODEL}")
        return

    load_before = os.getloadavg()
    started = time.perf_counter()
    records = synthetic.population(args.records, seed=args.seed)
    generated = time.perf_counter() - started
    by_truth: dict[int, list[str]] = defaultdict(list)
    candidates = []
    for i, r in enumerate(records):
        key = f"r:{i}"
        by_truth[r["truth"]].append(key)
        candidates.append(matching.Candidate(key=key, **{f: r[f] for f in matching.FIELDS}))
    truth = {tuple(sorted(p)) for keys in by_truth.values() for p in itertools.combinations(keys, 2)}

    stages = _timed_stages()
    started = time.perf_counter()
    pairs = matching.find_pairs(candidates, threshold=args.threshold)
    seconds = time.perf_counter() - started
    load_after = os.getloadavg()

    found = {(p.left, p.right) for p in pairs}
    hits = len(found & truth)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"records {len(records):,} · people {len(by_truth):,} · true pairs {len(truth):,} "
          f"(generated in {generated:.1f} s)")
    print(f"threshold {args.threshold} · proposed pairs {len(found):,} · correct {hits:,}")
    print(f"precision {precision:.4f} · recall {recall:.4f} · F1 {f1:.4f}")
    other = seconds - sum(stages.values())
    print(f"matching time {seconds:.1f} s (" + ", ".join(f"{k.removeprefix('estimate_')} {v:.1f} s"
                                                         for k, v in stages.items()) +
          f", frame and pairs {other:.1f} s)")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} · "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} · {os.cpu_count()} cores")
    if args.examples:
        record = {f"r:{i}": r for i, r in enumerate(records)}
        for a, b in sorted(truth - found)[: args.examples]:
            print("missed:", record[a], "|", record[b])
        for p in [p for p in pairs if (p.left, p.right) not in truth][: args.examples]:
            print("wrong:", p.match_weight, p.levels, record[p.left], "|", record[p.right])


if __name__ == "__main__":
    main()
