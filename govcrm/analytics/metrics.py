"""The rates 三率 and the other performance rates, by unit level, category, area, channel and month,
with Wilson confidence intervals, and the monthly rankings. Reads the warehouse only.

Rules (the definitions themselves, in words and formulas, are in docs/metrics.md; RATES below is
their one source in code):
- Every rate is a proportion k/n of cases (or of receipts by a unit, for the return rate) counted
  with SQL conditions over one fact table; `n` and `k` are always returned with the rate, so a
  reader sees how much a figure rests on.
- Cases merged into another (duplicates) and withdrawn cases are left out of every rate.
- Conditions that depend on a deadline having passed ("was the contact due yet?") are taken at
  `as_of` (default: now), so a figure for an open month can still change; a closed month's figure
  changes only through late moves of its cases.
- Confidence intervals are Wilson score intervals at 95 % (z = 1.96): unlike p ± z·√(p(1−p)/n)
  they stay inside [0, 1] and do not collapse to a point at 0 % or 100 %, so a unit with 3 of 3
  satisfied is not ranked above one with 980 of 1,000. Rankings give the plain rank by the rate
  and a cautious rank by the bound that is worse for the unit (lower bound for rates where higher
  is better, upper bound for the return and reopen rates).
- A case is placed in the month of its registration (local time); a receipt (return rate) in the
  month the unit received the case. Units: the case's current lead unit 主办, except
  first-dispatch accuracy, which belongs to the unit the case was first dispatched to. Unit
  levels roll up through the unit tree: a street office's case also counts for its district.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

Z95 = 1.959963984540054
COUNTED = "NOT f.merged AND f.close_reason <> 'withdrawn'"


@dataclass(frozen=True)
class Rate:
    code: str
    name_zh: str
    name_en: str
    table: str
    denominator: str  # SQL condition on the fact row `f`: the case (or receipt) counts in n
    numerator: str  # SQL condition, evaluated only where the denominator holds
    unit_column: str | None  # the unit a row belongs to; None: not a unit's figure
    month_column: str = "month_key"
    higher_is_better: bool = True


RATES: dict[str, Rate] = {r.code: r for r in [
    Rate("response", "响应率", "Response rate", "fact_case",
         f"{COUNTED} AND f.contact_due IS NOT NULL AND (f.round_contact_at IS NOT NULL OR f.contact_due <= $as_of)",
         "f.round_contact_at <= f.contact_due", "unit_key"),
    Rate("resolution", "解决率", "Resolution rate", "fact_case",
         f"{COUNTED} AND f.resolved IS NOT NULL", "f.resolved", "unit_key"),
    Rate("satisfaction", "满意率", "Satisfaction rate", "fact_case",
         f"{COUNTED} AND f.satisfied IS NOT NULL", "f.satisfied", "unit_key"),
    Rate("accept_on_time", "按时签收率", "On-time acceptance rate", "fact_case",
         f"{COUNTED} AND f.accept_due IS NOT NULL AND (f.accepted_at IS NOT NULL "
         "OR (f.status = 'dispatched' AND f.accept_due <= $as_of))",
         "f.accepted_at <= f.accept_due", "unit_key"),
    Rate("contact_on_time", "按时联系率", "On-time first contact rate", "fact_case",
         f"{COUNTED} AND f.contact_due IS NOT NULL AND (f.round_contact_at IS NOT NULL OR f.contact_due <= $as_of)",
         "f.round_contact_at <= f.contact_due", "unit_key"),
    Rate("reply_on_time", "按时办结率", "On-time reply rate", "fact_case",
         f"{COUNTED} AND f.reply_due IS NOT NULL AND (f.replied_at IS NOT NULL "
         "OR (f.closed_at IS NULL AND f.reply_due <= $as_of))",
         "f.replied_at <= f.reply_due", "unit_key"),
    Rate("first_dispatch_accuracy", "首派准确率", "First-dispatch accuracy", "fact_case",
         f"{COUNTED} AND f.first_dispatch_accurate IS NOT NULL", "f.first_dispatch_accurate", "first_unit_key"),
    Rate("return", "退单率", "Return rate", "fact_case_handling", "f.counted", "f.outcome = 'return'", "unit_key",
         higher_is_better=False),
    Rate("reopen", "重办率", "Reopen rate", "fact_case",
         f"{COUNTED} AND f.follow_up_count > 0", "f.reopen_count > 0", "unit_key", higher_is_better=False),
    Rate("first_contact_resolution", "直接办结率", "First-contact resolution rate", "fact_case",
         COUNTED, "f.close_reason = 'first_contact'", None),
]}
THREE_RATES = ("response", "resolution", "satisfaction")
STAGE_RATES = ("accept_on_time", "contact_on_time", "reply_on_time")


@dataclass(frozen=True)
class Dimension:
    """A way to group rows: the key expression, the join it needs, and the names."""

    key: str
    joins: tuple[str, ...]
    name_zh: str
    name_en: str


def _unit_dim(level_key: str | None) -> Dimension:
    if level_key is None:
        return Dimension("u.unit_key", ("JOIN dim_unit u ON u.unit_key = f.{unit}",), "u.name_zh", "u.name_en")
    return Dimension(f"u.{level_key}", ("JOIN dim_unit u ON u.unit_key = f.{unit}",
                                        f"LEFT JOIN dim_unit un ON un.unit_key = u.{level_key}"),
                     "un.name_zh", "un.name_en")


def _category_dim(level: int) -> Dimension:
    return Dimension(f"c.l{level}_key", ("JOIN dim_category c ON c.category_key = f.category_key",),
                     f"c.l{level}_name_zh", f"c.l{level}_name_en")


def _area_dim(level_key: str | None) -> Dimension:
    if level_key is None:
        return Dimension("a.area_key", ("JOIN dim_area a ON a.area_key = f.area_key",), "a.name_zh", "a.name_en")
    return Dimension(f"a.{level_key}", ("JOIN dim_area a ON a.area_key = f.area_key",
                                        f"LEFT JOIN dim_area an ON an.area_key = a.{level_key}"),
                     "an.name_zh", "an.name_en")


DIMENSIONS: dict[str, Dimension] = {
    "month": Dimension("f.{month}", (), "CAST(f.{month} AS VARCHAR)", "CAST(f.{month} AS VARCHAR)"),
    "unit": _unit_dim(None),
    "department": _unit_dim("department_key"),
    "district": _unit_dim("district_key"),
    "street": _unit_dim("street_key"),
    "category1": _category_dim(1),
    "category2": _category_dim(2),
    "category3": _category_dim(3),
    "area": _area_dim(None),
    "area_district": _area_dim("district_key"),
    "area_street": _area_dim("street_key"),
    "area_grid": _area_dim("grid_key"),
    "channel": Dimension("f.channel", ("JOIN dim_channel ch ON ch.channel_key = f.channel",),
                         "ch.name_zh", "ch.name_en"),
    "case_type": Dimension("f.case_type", ("JOIN dim_case_type ct ON ct.case_type_key = f.case_type",),
                           "ct.name_zh", "ct.name_en"),
}
UNIT_DIMENSIONS = frozenset({"unit", "department", "district", "street"})
UNIT_LEVELS = {"department": _("Department"), "district": _("District"), "street": _("Street / town"),
               "unit": _("Unit")}


class MetricsError(ValueError):
    pass


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | tuple[None, None]:
    """Wilson score interval of k successes in n trials (None, None when n = 0)."""
    if n <= 0:
        return None, None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _wilson_sql(k: str, n: str, sign: str) -> str:
    z2 = Z95 * Z95
    return (f"CASE WHEN {n} > 0 THEN greatest(0.0, least(1.0, "
            f"(({k})::DOUBLE / {n} + {z2} / (2.0 * {n})) / (1 + {z2} / {n}) {sign} "
            f"{Z95} * sqrt(({k})::DOUBLE / {n} * (1 - ({k})::DOUBLE / {n}) / {n} + {z2} / (4.0 * {n} * {n})) "
            f"/ (1 + {z2} / {n}))) END")


def _as_of(as_of: dt.datetime | None) -> dt.datetime:
    as_of = as_of or dt.datetime.now(dt.UTC)
    if as_of.tzinfo is None:
        raise MetricsError("as_of must be timezone-aware")
    return as_of


def rates_query(codes: list[str] | tuple[str, ...], by: list[str] | tuple[str, ...], *,
                months: tuple[int, int] | None = None, unit_path: str | None = None) -> str:
    """SQL computing the given rates (one fact table) grouped by `by`; parameter $as_of."""
    if not codes:
        raise MetricsError("no rate asked for")
    rates = []
    for code in codes:
        if code not in RATES:
            raise MetricsError(f"unknown rate: {code}")
        rates.append(RATES[code])
    first = rates[0]
    if any(r.table != first.table or r.month_column != first.month_column for r in rates):
        raise MetricsError("rates from different fact tables are computed separately")
    unit_cols = {r.unit_column for r in rates}
    needs_unit = bool(UNIT_DIMENSIONS & set(by)) or unit_path is not None
    if needs_unit and (len(unit_cols) != 1 or None in unit_cols):
        raise MetricsError("these rates do not belong to units in the same way: ask for them separately")
    unit_col = next(iter(unit_cols)) if needs_unit else None
    joins: list[str] = []
    keys, names = [], []
    for i, name in enumerate(by):
        if name not in DIMENSIONS:
            raise MetricsError(f"unknown dimension: {name}")
        dim = DIMENSIONS[name]
        fmt = {"unit": unit_col, "month": first.month_column}
        for join in dim.joins:
            join = join.format(**fmt)
            if join not in joins:
                joins.append(join)
        keys.append(f"{dim.key.format(**fmt)} AS k{i}")
        names.append(f"any_value({dim.name_zh.format(**fmt)}) AS name_zh{i}, "
                     f"any_value({dim.name_en.format(**fmt)}) AS name_en{i}")
    where = ["true"]
    if months:
        where.append(f"f.{first.month_column} BETWEEN {int(months[0])} AND {int(months[1])}")
    if unit_path is not None:
        if f"JOIN dim_unit u ON u.unit_key = f.{unit_col}" not in joins:
            joins.append(f"JOIN dim_unit u ON u.unit_key = f.{unit_col}")
        where.append("starts_with(u.path, $unit_path)")
    counts = []
    for r in rates:
        counts.append(f"count(*) FILTER (WHERE {r.denominator}) AS n_{r.code}")
        counts.append(f"count(*) FILTER (WHERE ({r.denominator}) AND ({r.numerator})) AS k_{r.code}")
    inner = (f"SELECT {', '.join(keys + names + counts)} FROM {first.table} f {' '.join(joins)} "
             f"WHERE {' AND '.join(where)} GROUP BY {', '.join(f'k{i}' for i in range(len(by))) or '()'}")
    outer = []
    for r in rates:
        n, k = f"n_{r.code}", f"k_{r.code}"
        outer.append(f"CASE WHEN {n} > 0 THEN {k}::DOUBLE / {n} END AS rate_{r.code}, "
                     f"{_wilson_sql(k, n, '-')} AS low_{r.code}, {_wilson_sql(k, n, '+')} AS high_{r.code}")
    order = ", ".join(f"k{i}" for i in range(len(by))) or "1"
    return f"SELECT *, {', '.join(outer)} FROM ({inner}) ORDER BY {order}"


def rates(con, codes, by, *, months=None, unit_path=None, as_of=None) -> list[dict]:
    """Rows of {k0.., name_zh0.., name_en0.., n_<rate>, k_<rate>, rate_<rate>, low_<rate>, high_<rate>}."""
    sql = rates_query(codes, by, months=months, unit_path=unit_path)
    params = {"as_of": _as_of(as_of)} if "$as_of" in sql else {}
    if unit_path is not None:
        params["unit_path"] = unit_path
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def ranking_query(code: str, level: str) -> str:
    rate = RATES[code]
    if level not in UNIT_DIMENSIONS:
        raise MetricsError(f"rankings are by unit level ({', '.join(sorted(UNIT_DIMENSIONS))}), not {level}")
    base = rates_query([code], [level], months=(0, 0))  # months replaced below by a parameter
    base = base.replace(f"f.{rate.month_column} BETWEEN 0 AND 0", f"f.{rate.month_column} = $month")
    direction = "DESC" if rate.higher_is_better else "ASC"
    cautious = f"low_{code} DESC" if rate.higher_is_better else f"high_{code} ASC"
    return (f"SELECT *, rank() OVER (ORDER BY rate_{code} {direction}) AS rank, "
            f"rank() OVER (ORDER BY {cautious}) AS cautious_rank "
            f"FROM ({base}) WHERE k0 IS NOT NULL AND n_{code} >= $min_n ORDER BY cautious_rank, rank, k0")


def ranking(con, code: str, level: str, month: int, *, min_n: int = 1, as_of=None) -> list[dict]:
    """One month's ranking of the units of a level by one rate, with its Wilson interval."""
    sql = ranking_query(code, level)
    params = {"month": int(month), "min_n": int(min_n)}
    if "$as_of" in sql:
        params["as_of"] = _as_of(as_of)
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def three_rate_ranking(con, month: int, level: str = "street", *, as_of=None) -> list[dict]:
    """The monthly assessment table: response, resolution and satisfaction per unit of a level,
    each with n, k, rate, interval and both ranks; ordered by the cautious rank of satisfaction."""
    rows = rates(con, THREE_RATES, [level], months=(month, month), as_of=as_of)
    rows = [r for r in rows if r["k0"] is not None]
    for code in THREE_RATES:
        ranked = [r for r in rows if r[f"n_{code}"]]
        _rank(ranked, f"rate_{code}", f"rank_{code}")
        _rank(ranked, f"low_{code}", f"cautious_rank_{code}")
    rows.sort(key=lambda r: (r.get("cautious_rank_satisfaction") or 10**9, r["k0"]))
    return rows


def _rank(rows: list[dict], key: str, out: str) -> None:
    """Standard competition ranking (1, 2, 2, 4) by `key`, highest first."""
    ordered = sorted(rows, key=lambda r: -r[key])
    previous, rank = None, 0
    for i, row in enumerate(ordered, start=1):
        if row[key] != previous:
            rank, previous = i, row[key]
        row[out] = rank


def overview(con, months: tuple[int, int], *, as_of=None) -> list[dict]:
    """Per month: cases registered, counted, closed, and the case-based rates."""
    case_rates = [c for c, r in RATES.items() if r.table == "fact_case"]
    rows = {r["k0"]: r for r in rates(con, case_rates, ["month"], months=months, as_of=as_of)}
    volumes = con.execute(f"""
        SELECT month_key, count(*) AS registered, count(*) FILTER (WHERE {COUNTED}) AS counted,
               count(*) FILTER (WHERE f.closed_at IS NOT NULL) AS closed
        FROM fact_case f WHERE month_key BETWEEN ? AND ? GROUP BY month_key
    """, [int(months[0]), int(months[1])]).fetchall()
    for month, registered, counted, closed in volumes:
        rows.setdefault(month, {"k0": month}).update(registered=registered, counted=counted, closed=closed)
    return [rows[m] for m in sorted(rows)]


def _poisson_interval(count: int) -> tuple[float, float]:
    """Exact (Garwood) 95 % interval of a Poisson count."""
    from scipy.stats import chi2

    low = 0.0 if count == 0 else chi2.ppf(0.025, 2 * count) / 2
    high = chi2.ppf(0.975, 2 * count + 2) / 2
    return float(low), float(high)


AREA_LEVELS = {"district": "district_key", "street": "street_key", "grid": "grid_key"}


def requests_per_10k(con, level: str = "street", months: tuple[int, int] | None = None) -> list[dict]:
    """Cases (merged and withdrawn left out) per 10,000 residents of each area of a level, per month,
    with an exact Poisson interval; areas with no recorded population get no rate."""
    if level not in AREA_LEVELS:
        raise MetricsError(f"unknown area level: {level}")
    key = AREA_LEVELS[level]
    where = f"AND f.month_key BETWEEN {int(months[0])} AND {int(months[1])}" if months else ""
    cur = con.execute(f"""
        SELECT a.{key} AS area_key, an.code, an.name_zh, an.name_en, f.month_key, count(*) AS cases,
               any_value(an.population_effective) AS population
        FROM fact_case f JOIN dim_area a ON a.area_key = f.area_key
        JOIN dim_area an ON an.area_key = a.{key}
        WHERE {COUNTED} {where}
        GROUP BY a.{key}, an.code, an.name_zh, an.name_en, f.month_key ORDER BY f.month_key, an.code
    """)
    cols = [d[0] for d in cur.description]
    out = []
    for row in cur.fetchall():
        item = dict(zip(cols, row, strict=True))
        pop = item["population"] or 0
        if pop > 0:
            low, high = _poisson_interval(item["cases"])
            item.update(per_10k=item["cases"] * 10_000 / pop, low=low * 10_000 / pop, high=high * 10_000 / pop)
        else:
            item.update(per_10k=None, low=None, high=None)
        out.append(item)
    return out
