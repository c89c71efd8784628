"""CPU and wall time of the citizen segmentation's clustering (bench/RESULTS.md, "Portal web mining").

    .venv/bin/python bench/segmentation.py

Four planted behaviours (frequent callers, online self-servers, repeat complainants, phone-only)
with noise, for 20,000 and 1,000,000 citizens: `segmentation.segment` (standardise, KMeans for
k = 2…6 on a sample of at most 50,000, silhouette on 5,000, assign everyone, name). The features'
SQL and the dim_citizen UPDATE are part of the warehouse refresh's own figures.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from govcrm.analytics import segmentation

    rng = np.random.RandomState(1)
    centres = np.array([[10, 20, 1, 0, 3, .8, 0, 0], [2, 40, 0, .9, 1, .9, 0, 3], [5, 30, .6, .3, 1, .1, 4, 0],
                        [1, 60, 1, 0, 1, .7, 0, 0]])
    for n in (20_000, 1_000_000):
        labels = rng.randint(0, 4, n)
        raw = np.abs(centres[labels] + rng.normal(0, [1, 10, .1, .1, .5, .1, .5, .5], (n, 8)))
        rows = [(f"k{i}", *r) for i, r in enumerate(raw.tolist())]
        cpu, wall = time.process_time(), time.time()
        result = segmentation.segment(rows, total_citizens=n)
        print(f"{n:>9,} citizens: CPU {time.process_time() - cpu:.1f} s, wall {time.time() - wall:.1f} s, "
              f"k={result.k}, silhouette {result.silhouette:.2f}: {[s.code for s in result.segments]}")


if __name__ == "__main__":
    main()
