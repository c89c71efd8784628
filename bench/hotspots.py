"""Hotspot clustering benchmark: DBSCAN (haversine, weighted spots) as the map dashboard runs it.

    .venv/bin/python bench/hotspots.py [--spots 10000 50000] [--eps 250] [--min-samples 5] [--repeat 3]

Generates spots in the demo city's box (0.4° × 0.6°, about 44 × 57 km): 60 % spread evenly, 40 %
within ±0.0012° of 500 fixed places (the demo's compounds), each spot weighing 1–3 cases, and times
`govcrm.analytics.hotspots.dbscan_labels` (median of --repeat). 50,000 is the map's cap
(hotspots.MAX_POINTS). Prints the load average too: on a shared machine the figures move with it.
Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from govcrm.analytics.hotspots import dbscan_labels


def spots(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    even = int(n * 0.6)
    lat = np.empty(n)
    lon = np.empty(n)
    lat[:even] = 30.4 + 0.4 * rng.random(even)
    lon[:even] = 114.0 + 0.6 * rng.random(even)
    centres = np.column_stack([30.42 + 0.36 * rng.random(500), 114.02 + 0.56 * rng.random(500)])
    pick = centres[rng.integers(0, 500, n - even)]
    lat[even:] = pick[:, 0] + (rng.random(n - even) - 0.5) * 0.0024
    lon[even:] = pick[:, 1] + (rng.random(n - even) - 0.5) * 0.0024
    return np.round(lat, 4), np.round(lon, 4), rng.integers(1, 4, n).astype(float)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spots", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--eps", type=float, default=250)
    parser.add_argument("--min-samples", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(6)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for n in args.spots:
        lat, lon, weight = spots(n, rng)
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            labels = dbscan_labels(lat, lon, weight, eps_m=args.eps, min_samples=args.min_samples)
            times.append(time.perf_counter() - t)
        clusters = len(set(labels.tolist()) - {-1})
        print(f"{n:>7,} spots, eps {args.eps:.0f} m, min {args.min_samples}: median {statistics.median(times):.2f} s "
              f"(min {min(times):.2f} s), {clusters} clusters, {int((labels == -1).sum()):,} noise spots")


if __name__ == "__main__":
    main()
