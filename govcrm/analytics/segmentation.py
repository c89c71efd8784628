"""Citizen segmentation: groups of citizens by how they use the hotline and the portal, named and
described from what their members do, stored as the warehouse's segment dimension.

Rules:
- Features per citizen (pseudonymous `citizen_key`), over the `WINDOW_DAYS` up to the latest
  activity in the warehouse (not the clock: the same data gives the same segments): contacts
  (cases, contacts without a case, applications), days since the last one, the share of phone
  and of online channels (portal, WeChat, e-mail, Open311, API, and every application), the number
  of first-level categories, the share of followed-up cases rated satisfied (the population's
  mean when none was asked), repeat complaints (complaints beyond the first in the same
  first-level category, plus reopened cases), and applications.
- Counts enter as log(1 + x); all features are standardised; KMeans (scikit-learn, `n_init=4`,
  `random_state=0`, one thread) for every k in `K_RANGE`, keeping the k with the best silhouette (on a sample
  of at most `SILHOUETTE_SAMPLE`). With more than `FIT_SAMPLE` citizens the model is fitted on a
  fixed sample and every citizen is assigned to its nearest centre. Rows are read in key order,
  so a re-run on the same data gives the same segments.
- A cluster is named by the archetype (`ARCHETYPES`) whose condition its members' means meet and
  whose score (its centre, standardised) is highest, else "occasional contacts". Its key is fixed
  by that name (archetype × 10 + rank among clusters of the same name by size), so a segment keeps
  its key across runs as long as it keeps its character. Descriptions are written from the means
  in Chinese and English.
- Key 0 holds the citizens with no activity in the window, and everyone while fewer than
  `MIN_CITIZENS` are active (too few to segment).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

WINDOW_DAYS = 365
K_RANGE = range(2, 7)
MIN_CITIZENS = 12
FIT_SAMPLE = 50_000
SILHOUETTE_SAMPLE = 5_000
N_INIT = 4
ONLINE = ("portal", "wechat", "email", "open311", "api")

FEATURES = ("contacts", "recency_days", "phone_share", "online_share", "categories", "satisfaction",
            "repeat_complaints", "applications")
LOGGED = frozenset({"contacts", "categories", "repeat_complaints", "applications"})

FEATURES_SQL = f"""
WITH bounds AS (
    SELECT max(t) AS as_of FROM (
        SELECT max(registered_at) AS t FROM fact_case UNION ALL SELECT max(created_at) FROM fact_interaction
        UNION ALL SELECT max(started_at) FROM fact_application)
), act AS (
    SELECT c.citizen_key, c.registered_at AS at, c.channel, 1 AS is_case, 0 AS is_app, c.category_key,
           c.case_type, c.reopen_count, c.satisfied
    FROM fact_case c WHERE c.citizen_key IS NOT NULL
    UNION ALL
    SELECT i.citizen_key, i.created_at, i.channel, 0, 0, NULL, NULL, 0, NULL
    FROM fact_interaction i WHERE i.citizen_key IS NOT NULL AND i.case_id IS NULL
    UNION ALL
    SELECT a.citizen_key, a.started_at, 'portal', 0, 1, NULL, NULL, 0, NULL
    FROM fact_application a WHERE a.citizen_key IS NOT NULL
), w AS (
    SELECT act.*, cat.l1_key FROM act CROSS JOIN bounds
    LEFT JOIN dim_category cat ON cat.category_key = act.category_key
    WHERE act.at > bounds.as_of - INTERVAL {WINDOW_DAYS} DAY
), complaints AS (
    SELECT citizen_key, sum(n - 1) AS repeats FROM (
        SELECT citizen_key, l1_key, count(*) AS n FROM w WHERE case_type = 'complaint' GROUP BY ALL)
    GROUP BY citizen_key
)
SELECT w.citizen_key,
       count(*) AS contacts,
       date_diff('day', max(w.at), any_value(b.as_of)) AS recency_days,
       avg(CASE WHEN w.channel = 'phone' THEN 1.0 ELSE 0.0 END) AS phone_share,
       avg(CASE WHEN w.channel IN ({", ".join(f"'{c}'" for c in ONLINE)}) THEN 1.0 ELSE 0.0 END) AS online_share,
       count(DISTINCT w.l1_key) AS categories,
       avg(CASE WHEN w.satisfied THEN 1.0 WHEN NOT w.satisfied THEN 0.0 END) AS satisfaction,
       coalesce(any_value(c.repeats), 0) + sum(w.reopen_count) AS repeat_complaints,
       sum(w.is_app) AS applications
FROM w CROSS JOIN bounds b LEFT JOIN complaints c USING (citizen_key)
GROUP BY w.citizen_key
ORDER BY w.citizen_key
"""


@dataclass(frozen=True)
class Archetype:
    code: str
    base: int  # keys base*10 + 1, +2, … (0 is "not segmented")
    name: str  # gettext_noop: translated when stored, in both languages
    trait: str


def _archetypes() -> list[tuple[Archetype, Callable[[dict, dict], bool], Callable[[dict], float]]]:
    """(archetype, condition on the members' means and the population's, score on the standardised centre)."""
    return [
        (Archetype("repeat_complainants", 1, gettext_noop("Repeat complainants"),
                   gettext_noop("complain again and again about the same kind of problem, or have cases reopened")),
         lambda m, o: m["repeat_complaints"] >= 0.5, lambda z: z["repeat_complaints"]),
        (Archetype("frequent_callers", 2, gettext_noop("Frequent callers"),
                   gettext_noop("contact the hotline far more often than others, mostly by phone")),
         lambda m, o: m["contacts"] >= max(2 * o["contacts"], 3) and m["phone_share"] >= 0.5,
         lambda z: z["contacts"]),
        (Archetype("online_self_servers", 3, gettext_noop("Online self-servers"),
                   gettext_noop("use the portal, WeChat and online applications rather than the phone")),
         lambda m, o: m["online_share"] >= 0.5, lambda z: z["online_share"] + z["applications"]),
        (Archetype("phone_only", 4, gettext_noop("Phone-only citizens"),
                   gettext_noop("reach the city by phone only, now and then; keep the phone line and call them back")),
         lambda m, o: m["phone_share"] >= 0.8, lambda z: z["phone_share"]),
        (Archetype("dissatisfied", 5, gettext_noop("Dissatisfied citizens"),
                   gettext_noop("were mostly not satisfied when asked after their case")),
         lambda m, o: m["satisfaction"] <= 0.5, lambda z: -z["satisfaction"]),
        (Archetype("lapsed", 6, gettext_noop("Lapsed contacts"),
                   gettext_noop("have not been in touch for a long time")),
         lambda m, o: m["recency_days"] >= 180, lambda z: z["recency_days"]),
    ]


OCCASIONAL = Archetype("occasional", 7, gettext_noop("Occasional contacts"),
                       gettext_noop("get in touch now and then, through more than one channel"))
INACTIVE = Archetype("not_segmented", 0, gettext_noop("Not segmented"),
                     gettext_noop("had no contact in the last year, or too few citizens were active to segment"))


def _bilingual(text: str, **values) -> tuple[str, str]:
    out = []
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            out.append(_(text) % values if values else _(text))
    return out[0], out[1]


def _description(arche: Archetype, means: dict | None, size: int) -> tuple[str, str]:
    zh_trait, en_trait = _bilingual(arche.trait)
    if means is None:
        zh, en = _bilingual(gettext_noop("%(n)s citizens who %(trait)s."), n=size, trait="{trait}")
        return zh.replace("{trait}", zh_trait), en.replace("{trait}", en_trait)
    values = {"n": size, "contacts": f"{means['contacts']:.1f}", "recency": f"{means['recency_days']:.0f}",
              "phone": f"{100 * means['phone_share']:.0f}", "online": f"{100 * means['online_share']:.0f}",
              "satisfaction": f"{100 * means['satisfaction']:.0f}",
              "repeats": f"{means['repeat_complaints']:.1f}", "applications": f"{means['applications']:.1f}",
              "trait": "{trait}"}
    zh, en = _bilingual(gettext_noop(
        "%(n)s citizens who %(trait)s. In a year: %(contacts)s contacts on average, the last one %(recency)s "
        "days ago; %(phone)s%% by phone, %(online)s%% online; %(satisfaction)s%% satisfied when asked; "
        "%(repeats)s repeat complaints and %(applications)s applications per citizen."), **values)
    return zh.replace("{trait}", zh_trait), en.replace("{trait}", en_trait)


@dataclass
class Segment:
    key: int
    code: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    citizens: int
    profile: dict  # the members' means per feature (raw units)


@dataclass
class Result:
    segments: list[Segment]
    assignment: dict[str, int]  # citizen_key -> segment key (active citizens only)
    k: int | None
    silhouette: float | None


def _matrix(rows: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """(raw features, model input): satisfaction imputed with the mean, counts logged."""
    raw = np.array([[np.nan if v is None else float(v) for v in r[1:]] for r in rows], dtype=float)
    sat = FEATURES.index("satisfaction")
    col = raw[:, sat]
    mean = np.nanmean(col) if np.isfinite(col).any() else 0.5
    raw[np.isnan(col), sat] = mean
    x = raw.copy()
    for i, name in enumerate(FEATURES):
        if name in LOGGED:
            x[:, i] = np.log1p(x[:, i])
    return raw, x


def cluster(x: np.ndarray, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int, float]:
    """(labels, standardised centres, k, silhouette) of the best KMeans over K_RANGE."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # one thread: the worker shares the machine with the web processes
        return _cluster(x, seed, KMeans, silhouette_score, StandardScaler)


def _cluster(x, seed, KMeans, silhouette_score, StandardScaler):  # noqa: N803 - the classes, passed in
    scaler = StandardScaler().fit(x)
    z = scaler.transform(x)
    rng = np.random.RandomState(seed)
    fit_rows = z if len(z) <= FIT_SAMPLE else z[np.sort(rng.choice(len(z), FIT_SAMPLE, replace=False))]
    best = None
    distinct = len(np.unique(fit_rows.round(9), axis=0))
    for k in K_RANGE:
        if k >= len(fit_rows) or k > distinct:  # no more groups than different citizens
            break
        model = KMeans(n_clusters=k, n_init=N_INIT, random_state=seed).fit(fit_rows)
        if len(set(model.labels_)) < 2:
            continue
        score = silhouette_score(fit_rows, model.labels_, sample_size=min(len(fit_rows), SILHOUETTE_SAMPLE),
                                 random_state=seed)
        if best is None or score > best[0] + 1e-9:
            best = (score, k, model)
    if best is None:
        return np.zeros(len(z), dtype=int), z.mean(axis=0, keepdims=True), 1, 0.0
    score, k, model = best
    return model.predict(z), model.cluster_centers_, k, float(score)


def segment(rows: list[tuple], *, total_citizens: int) -> Result:
    """Segments of the active citizens (rows of FEATURES_SQL: key, then FEATURES)."""
    if len(rows) < MIN_CITIZENS:
        zh, en = _bilingual(INACTIVE.name)
        dzh, den = _description(INACTIVE, None, total_citizens)
        return Result([Segment(0, INACTIVE.code, zh, en, dzh, den, total_citizens, {})], {}, None, None)
    raw, x = _matrix(rows)
    labels, centres, k, silhouette = cluster(x)
    overall = dict(zip(FEATURES, raw.mean(axis=0), strict=True))
    named = []
    for label in range(len(centres)):
        members = labels == label
        if not members.any():
            continue
        means = dict(zip(FEATURES, raw[members].mean(axis=0), strict=True))
        z = dict(zip(FEATURES, centres[label], strict=True))
        fitting = [(score(z), i, arche) for i, (arche, fits, score) in enumerate(_archetypes()) if fits(means, overall)]
        arche = max(fitting, key=lambda t: (t[0], -t[1]))[2] if fitting else OCCASIONAL
        named.append((arche, int(members.sum()), label, means))
    segments, key_of_label = [], {}
    for arche in {a.code: a for a, *_r in named}.values():
        same = sorted((t for t in named if t[0].code == arche.code), key=lambda t: (-t[1], t[2]))
        for rank, (_a, size, label, means) in enumerate(same, start=1):
            key = arche.base * 10 + rank
            zh, en = _bilingual(arche.name)
            if rank > 1:
                zh, en = f"{zh} {rank}", f"{en} {rank}"
            dzh, den = _description(arche, means, size)
            segments.append(Segment(key, arche.code if rank == 1 else f"{arche.code}_{rank}", zh, en, dzh, den, size,
                                    {f: round(float(v), 3) for f, v in means.items()}))
            key_of_label[label] = key
    inactive = total_citizens - len(rows)
    zh, en = _bilingual(INACTIVE.name)
    dzh, den = _description(INACTIVE, None, max(inactive, 0))
    segments.append(Segment(0, INACTIVE.code, zh, en, dzh, den, max(inactive, 0), {}))
    segments.sort(key=lambda s: s.key)
    assignment = {r[0]: key_of_label[int(label)] for r, label in zip(rows, labels, strict=True)}
    return Result(segments, assignment, k, silhouette)


def assign(con) -> Result:
    """Recompute the segments from the warehouse's facts and store them: dim_segment replaced,
    dim_citizen.segment_key set for every citizen (0 for the inactive). Runs in the caller's
    transaction (the refresh's)."""
    rows = con.execute(FEATURES_SQL).fetchall()
    total = con.execute("SELECT count(*) FROM dim_citizen").fetchone()[0]
    result = segment(rows, total_citizens=max(total, len(rows)))
    con.execute("DELETE FROM dim_segment")
    con.executemany("INSERT INTO dim_segment VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
        (s.key, s.code, s.name_zh, s.name_en, s.description_zh, s.description_en, s.citizens,
         json.dumps(s.profile, sort_keys=True)) for s in result.segments])
    con.execute("UPDATE dim_citizen SET segment_key = 0 WHERE segment_key IS DISTINCT FROM 0")
    if result.assignment:
        keys = {"k": np.array(list(result.assignment), dtype=object),  # noqa: F841 - scanned by DuckDB
                "s": np.array(list(result.assignment.values()), dtype=np.int16)}
        con.execute("CREATE OR REPLACE TEMP TABLE segment_assignment AS SELECT CAST(k AS VARCHAR) AS citizen_key, "
                    "CAST(s AS SMALLINT) AS segment_key FROM keys")
        con.execute("UPDATE dim_citizen d SET segment_key = a.segment_key FROM segment_assignment a "
                    "WHERE d.citizen_key = a.citizen_key")
    return result
