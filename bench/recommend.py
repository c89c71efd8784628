"""Offline measurement of the service recommendations: hit rate @5 and @10 on held-out applications.

    .venv/bin/python bench/recommend.py                    # the demo data of $GOVCRM_HOME (after `govcrm demo`)
    .venv/bin/python bench/recommend.py --synthetic 20000  # a population drawn in memory by the demo generator

For every citizen with at least two applications, the last one (by creation time) is held out and
the recommender sees the rest. The models are fitted on everybody's histories *without* the held-out
applications (no leakage). A hit @k: the held-out service is among the first k recommendations.
When the held-out service is already in the citizen's earlier history (a renewal, a repeat), it is
not something to recommend — reminding of it is the notices' job — so it is counted apart and left
out of the hit rates.

Methods, all from `govcrm.personal` (the code the portal runs):
- popularity: the most used services the citizen has not used (the baseline);
- co-occurrence: `recommend.Cooccurrence` (cosine with shrinkage λ=5, pairs seen by ≥2 citizens),
  filled with popularity when it finds fewer than k;
- co-occurrence + profile: the same with the profile's eligibility and boosts (`profile.py`: age
  from the resident ID number, enterprise or person, categories of the citizen's cases) — what
  the portal shows.
Coverage: the share of the catalogue that appears in someone's top 5.
The parameters are fixed in the code, not chosen on this split.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(settings_module: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()


def from_database():
    """(histories: citizen -> [(created, code)], profiles: citizen -> Profile, tags, min_age)."""
    from django.utils import timezone

    from govcrm.citizens.models import Citizen
    from govcrm.personal import queries
    from govcrm.services.models import Application

    histories = defaultdict(list)
    for citizen_id, created, code in Application.objects.values_list("citizen_id", "created_at", "service__code"):
        histories[citizen_id].append((created, code))
    m = queries.model()
    today = timezone.localdate()
    profiles = {c.pk: queries.profile_for(c, today=today)
                for c in Citizen.objects.filter(pk__in=[k for k, v in histories.items() if len(v) >= 2])}
    return histories, profiles, {c: s.tags for c, s in m.services.items()}, m.min_age


def synthetic(n: int, seed: int):
    from django.utils import timezone

    from govcrm.demo import applications as gen
    from govcrm.demo import service_catalogue as cat
    from govcrm.personal.profile import Profile

    rng = random.Random(seed)
    prefixes = [p for _n, (_w, ps, _a) in gen.PERSONAS.items() for p in ps]
    people = []
    for cid in range(1, n + 1):
        cats = tuple(sorted(rng.choice(prefixes) + ".x" for _ in range(rng.choice((0, 0, 1, 1, 2, 3)))))
        people.append(gen.Person(cid, enterprise=rng.random() < 0.03, categories=cats))
    tags = {row[0]: tuple(row[4]) for row in cat.ITEMS}
    tags.update({"business-licence-change": ("business",), "residence-permit": ("residence", "housing"),
                 "senior-allowance": ("elderly", "allowance")})
    now = timezone.now()
    plans = gen.plan_histories(people, codes=tags, now=now, seed=seed)
    today = timezone.localdate()
    by_id = {p.citizen_id: p for p in people}
    histories, profiles = {}, {}
    for plan in plans:
        if plan.applications:
            histories[plan.citizen_id] = [(a.created, a.code) for a in plan.applications]
            person = by_id[plan.citizen_id]
            profiles[plan.citizen_id] = Profile.build(citizen_id=plan.citizen_id, enterprise=person.enterprise,
                                                      born=plan.born, categories=person.categories, today=today)
    min_age = {r[1]: r[4] for r in cat.PROACTIVE_RULES if r[0] == "age"}
    return histories, profiles, tags, min_age


def evaluate(histories, profiles, tags, min_age, *, shrinkage: float, min_support: int) -> dict:
    from govcrm.personal.profile import boosts, eligible
    from govcrm.personal.recommend import Cooccurrence, Popularity

    train, held = {}, {}
    for cid, apps in histories.items():
        apps = sorted(apps)
        if len(apps) >= 2:
            held[cid] = apps[-1][1]
            train[cid] = {code for _t, code in apps[:-1]}
        else:
            train[cid] = {code for _t, code in apps}
    started = time.perf_counter()
    cooc = Cooccurrence(train.values(), shrinkage=shrinkage, min_support=min_support)
    pop = Popularity(train.values())
    fit_seconds = time.perf_counter() - started
    methods = ("popularity", "co-occurrence", "co-occurrence + profile")
    hits = {m: {5: 0, 10: 0} for m in methods}
    shown = {m: set() for m in methods}
    repeats = evaluated = 0
    started = time.perf_counter()
    for cid, target in held.items():
        history = train[cid]
        if target in history:
            repeats += 1
            continue
        evaluated += 1
        profile = profiles.get(cid)

        def ok(code, profile=profile):
            return profile is None or eligible(profile, tags.get(code, ()), min_age.get(code))

        lists = {
            "popularity": pop.recommend(history, k=10),
            "co-occurrence": cooc.recommend(history, k=10),
            "co-occurrence + profile": cooc.recommend(history, k=10, eligible=ok,
                                                      boost=boosts(profile, tags) if profile else None),
        }
        for m, recs in lists.items():
            items = [r.item for r in recs]
            shown[m].update(items[:5])
            for k in (5, 10):
                hits[m][k] += target in items[:k]
    seconds = time.perf_counter() - started
    catalogue = len(tags)
    return {
        "citizens": len(histories), "held_out": len(held), "repeats": repeats, "evaluated": evaluated,
        "catalogue": catalogue, "fit_seconds": fit_seconds,
        "per_citizen_ms": 1000 * seconds / max(evaluated, 1) / len(methods),
        "rows": [(m, hits[m][5] / max(evaluated, 1), hits[m][10] / max(evaluated, 1), len(shown[m]) / catalogue)
                 for m in methods],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=0, help="draw this many citizens in memory instead")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic population (default 7)")
    parser.add_argument("--shrinkage", type=float, default=5.0)
    parser.add_argument("--min-support", type=int, default=2)
    parser.add_argument("--settings", default="config.settings.local")
    args = parser.parse_args()
    setup("config.settings.test" if args.synthetic else args.settings)
    if args.synthetic:
        source = f"synthetic population of {args.synthetic:,} citizens (seed {args.seed})"
        data = synthetic(args.synthetic, args.seed)
    else:
        from django.conf import settings

        source = f"demo database {settings.DATABASES['default']['NAME']}"
        data = from_database()
    r = evaluate(*data, shrinkage=args.shrinkage, min_support=args.min_support)
    print(f"{source}: {r['citizens']:,} citizens with applications, {r['held_out']:,} with ≥2 "
          f"({r['repeats']:,} held-out repeats/renewals left out, {r['evaluated']:,} evaluated); "
          f"catalogue {r['catalogue']} services")
    print(f"fit {r['fit_seconds'] * 1000:.0f} ms; {r['per_citizen_ms']:.2f} ms per recommendation list")
    print(f"{'method':<26} {'HR@5':>7} {'HR@10':>7} {'coverage@5':>11}")
    for name, h5, h10, cov in r["rows"]:
        print(f"{name:<26} {h5:7.3f} {h10:7.3f} {cov:11.2f}")
    print(f"({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)")


if __name__ == "__main__":
    main()
