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
# `counted`, `contact_done` and the `*_ok` flags are computed at load (warehouse/refresh.py):
# counted = not merged and not withdrawn; contact_done = the latest round has a first contact;
# contact_ok / accept_ok / reply_ok = that step happened at or before its deadline.
COUNTED = "f.counted"


@dataclass(frozen=True)
class Rate:
    code: str
    name_zh: str
    name_en: str
    table: str
    denominator: str  # SQL condition on the fact row `f`: the case (or receipt) counts in n
    numerator: str  # SQL condition that implies the denominator (tested): the row counts in k
    unit_column: str | None  # the unit a row belongs to; None: not a unit's figure
    month_column: str = "month_key"
    higher_is_better: bool = True


RATES: dict[str, Rate] = {r.code: r for r in [
    Rate("response", "响应率", "Response rate", "fact_case",
         f"{COUNTED} AND f.contact_due IS NOT NULL AND (f.contact_done OR f.contact_due <= $as_of)",
         f"{COUNTED} AND f.contact_ok", "unit_key"),
    Rate("resolution", "解决率", "Resolution rate", "fact_case",
         f"{COUNTED} AND f.resolved IS NOT NULL", f"{COUNTED} AND f.resolved", "unit_key"),
    Rate("satisfaction", "满意率", "Satisfaction rate", "fact_case",
         f"{COUNTED} AND f.satisfied IS NOT NULL", f"{COUNTED} AND f.satisfied", "unit_key"),
    Rate("accept_on_time", "按时签收率", "On-time acceptance rate", "fact_case",
         f"{COUNTED} AND f.accept_due IS NOT NULL AND (f.accepted_at IS NOT NULL "
         "OR (f.status = 'dispatched' AND f.accept_due <= $as_of))",
         f"{COUNTED} AND f.accept_ok", "unit_key"),
    Rate("contact_on_time", "按时联系率", "On-time first contact rate", "fact_case",
         f"{COUNTED} AND f.contact_due IS NOT NULL AND (f.contact_done OR f.contact_due <= $as_of)",
         f"{COUNTED} AND f.contact_ok", "unit_key"),
    Rate("reply_on_time", "按时办结率", "On-time reply rate", "fact_case",
         f"{COUNTED} AND f.reply_due IS NOT NULL AND (f.replied_at IS NOT NULL "
         "OR (f.closed_at IS NULL AND f.reply_due <= $as_of))",
         f"{COUNTED} AND f.reply_ok", "unit_key"),
    Rate("first_dispatch_accuracy", "首派准确率", "First-dispatch accuracy", "fact_case",
         f"{COUNTED} AND f.first_dispatch_accurate IS NOT NULL", f"{COUNTED} AND f.first_dispatch_accurate",
         "first_unit_key"),
    Rate("return", "退单率", "Return rate", "fact_case_handling", "f.counted", "f.counted AND f.outcome = 'return'",
         "unit_key",
         higher_is_better=False),
    Rate("reopen", "重办率", "Reopen rate", "fact_case",
         f"{COUNTED} AND f.follow_up_count > 0", f"{COUNTED} AND f.follow_up_count > 0 AND f.reopen_count > 0",
         "unit_key", higher_is_better=False),
    Rate("first_contact_resolution", "直接办结率", "First-contact resolution rate", "fact_case",
         COUNTED, f"{COUNTED} AND f.close_reason = 'first_contact'", None),
]}
THREE_RATES = ("response", "resolution", "satisfaction")
STAGE_RATES = ("accept_on_time", "contact_on_time", "reply_on_time")


@dataclass(frozen=True)
class Dimension:
    """A way to group rows: the key expression and the joins it needs (evaluated per row), and
    where its names are looked up (once per group, after aggregation)."""

    key: str
    joins: tuple[str, ...]
    names: tuple[str, str] | None  # (dimension table, its key column); None: the key is its own name


_UNIT_JOIN = "JOIN dim_unit u ON u.unit_key = f.{unit}"
_CATEGORY_JOIN = "JOIN dim_category c ON c.category_key = f.category_key"
_AREA_JOIN = "JOIN dim_area a ON a.area_key = f.area_key"

DIMENSIONS: dict[str, Dimension] = {
    "month": Dimension("f.{month}", (), None),
    "unit": Dimension("f.{unit}", (), ("dim_unit", "unit_key")),
    "department": Dimension("u.department_key", (_UNIT_JOIN,), ("dim_unit", "unit_key")),
    "district": Dimension("u.district_key", (_UNIT_JOIN,), ("dim_unit", "unit_key")),
    "street": Dimension("u.street_key", (_UNIT_JOIN,), ("dim_unit", "unit_key")),
    "category1": Dimension("c.l1_key", (_CATEGORY_JOIN,), ("dim_category", "category_key")),
    "category2": Dimension("c.l2_key", (_CATEGORY_JOIN,), ("dim_category", "category_key")),
    "category3": Dimension("f.category_key", (), ("dim_category", "category_key")),
    "area": Dimension("f.area_key", (), ("dim_area", "area_key")),
    "area_district": Dimension("a.district_key", (_AREA_JOIN,), ("dim_area", "area_key")),
    "area_street": Dimension("a.street_key", (_AREA_JOIN,), ("dim_area", "area_key")),
    "area_grid": Dimension("a.grid_key", (_AREA_JOIN,), ("dim_area", "area_key")),
    "channel": Dimension("f.channel", (), ("dim_channel", "channel_key")),
    "case_type": Dimension("f.case_type", (), ("dim_case_type", "case_type_key")),
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


def _as_of(as_of: dt.datetime | None) -> dt.datetime:
    as_of = as_of or dt.datetime.now(dt.UTC)
    if as_of.tzinfo is None:
        raise MetricsError("as_of must be timezone-aware")
    return as_of


def rates_query(codes: list[str] | tuple[str, ...], by: list[str] | tuple[str, ...], *,
                months: tuple[int, int] | None = None, unit_path: str | None = None,
                category_key: int | None = None, area_path: str | None = None,
                extra: dict[str, str] | None = None, dates: tuple[int, int] | None = None) -> str:
    """SQL computing the given rates (one fact table) grouped by `by`; parameter $as_of.

    One scan of the fact table counting, per group, the rows meeting each denominator and
    numerator; names are looked up per group afterwards and the Wilson bounds computed. `extra`
    adds counts of other row conditions ({name: SQL condition}). `unit_path` keeps the rows of a
    unit's subtree (parameter $unit_path), `category_key` those of a category at any of its three
    levels (parameter $category_key), `area_path` those located in an area's subtree (parameter
    $area_path; cases with no area are left out). `dates` (yyyymmdd, both included) keeps the rows
    of those local days (`date_key`: a case's registration day, a receipt's day), for periods that
    are not months (the weekly report).
    """
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
    fmt = {"unit": next(iter(unit_cols)) if needs_unit else None, "month": first.month_column}
    joins: list[str] = []
    inner: list[str] = []
    names: list[str] = []
    name_joins: list[str] = []
    for i, name in enumerate(by):
        if name not in DIMENSIONS:
            raise MetricsError(f"unknown dimension: {name}")
        dim = DIMENSIONS[name]
        for join in dim.joins:
            join = join.format(**fmt)
            if join not in joins:
                joins.append(join)
        inner.append(f"{dim.key.format(**fmt)} AS k{i}")
        if dim.names is None:
            names.append(f"CAST(g.k{i} AS VARCHAR) AS name_zh{i}, CAST(g.k{i} AS VARCHAR) AS name_en{i}")
        else:
            table, key = dim.names
            names.append(f"n{i}.name_zh AS name_zh{i}, n{i}.name_en AS name_en{i}")
            name_joins.append(f"LEFT JOIN {table} n{i} ON n{i}.{key} = g.k{i}")
    where = ["true"]
    if months:
        where.append(f"f.{first.month_column} BETWEEN {int(months[0])} AND {int(months[1])}")
    if dates:
        where.append(f"f.date_key BETWEEN {int(dates[0])} AND {int(dates[1])}")
    if unit_path is not None:
        join = _UNIT_JOIN.format(**fmt)
        if join not in joins:
            joins.append(join)
        where.append("starts_with(u.path, $unit_path)")
    if category_key is not None:
        join = _CATEGORY_JOIN
        if join not in joins:
            joins.append(join)
        where.append("(c.l1_key = $category_key OR c.l2_key = $category_key OR c.category_key = $category_key)")
    if area_path is not None:
        if _AREA_JOIN not in joins:
            joins.append(_AREA_JOIN)
        where.append("starts_with(a.path, $area_path)")
    counts = ["count(*) AS rows"]
    for r in rates:
        # count_if is about twice as fast as count(*) FILTER (WHERE …) in DuckDB 2.0; a numerator
        # implies its denominator, so it is counted alone (bench/warehouse.py).
        counts.append(f"count_if({r.denominator}) AS n_{r.code}, count_if({r.numerator}) AS k_{r.code}")
    for name, condition in (extra or {}).items():
        counts.append(f"count_if({condition}) AS {name}")
    keys = [f"k{i}" for i in range(len(by))]
    grouped = (f"SELECT {', '.join(inner + counts)} FROM {first.table} f {' '.join(joins)} "
               f"WHERE {' AND '.join(where)} GROUP BY {', '.join(keys) or '()'}")
    order = ", ".join(f"g.k{i}" for i in range(len(by))) or "1"
    return f"SELECT g.*, {', '.join(names) or '1 AS one'} FROM ({grouped}) g {' '.join(name_joins)} ORDER BY {order}"


def rates(con, codes, by, *, months=None, unit_path=None, category_key=None, area_path=None, extra=None,
          as_of=None, dates=None) -> list[dict]:
    """Rows of {k0.., name_zh0.., name_en0.., rows, n_<rate>, k_<rate>, rate_<rate>, low_<rate>,
    high_<rate>, and each count of `extra`}."""
    sql = rates_query(codes, by, months=months, unit_path=unit_path, category_key=category_key,
                      area_path=area_path, extra=extra, dates=dates)
    params = {"as_of": _as_of(as_of)} if "$as_of" in sql else {}
    if unit_path is not None:
        params["unit_path"] = unit_path
    if category_key is not None:
        params["category_key"] = int(category_key)
    if area_path is not None:
        params["area_path"] = area_path
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return _with_intervals([dict(zip(cols, row, strict=True)) for row in cur.fetchall()], codes)


def _with_intervals(rows: list[dict], codes) -> list[dict]:
    """Rate and Wilson bounds of each group, computed here rather than in SQL: for a few hundred
    groups the long interval expressions cost DuckDB more planning time than the whole scan."""
    for row in rows:
        for code in codes:
            # count_if over no rows is NULL (an ungrouped query of an empty period): no cases
            k, n = row[f"k_{code}"] or 0, row[f"n_{code}"] or 0
            row[f"k_{code}"], row[f"n_{code}"] = k, n
            row[f"rate_{code}"] = k / n if n else None
            row[f"low_{code}"], row[f"high_{code}"] = wilson(k, n)
    return rows


def ranking(con, code: str, level: str, month: int | None, *, min_n: int = 1, unit_path: str | None = None,
            category_key: int | None = None, area_path: str | None = None, as_of=None,
            dates: tuple[int, int] | None = None) -> list[dict]:
    """One month's ranking of the units of a level by one rate, with its Wilson interval:
    `rank` by the rate, `cautious_rank` by the bound worse for the unit; listed by cautious rank.
    `unit_path`, `category_key` and `area_path` narrow the cases as in `rates`; `dates` (with `month`
    None) ranks another period, a week (the weekly report)."""
    if code not in RATES:
        raise MetricsError(f"unknown rate: {code}")
    if level not in UNIT_DIMENSIONS:
        raise MetricsError(f"rankings are by unit level ({', '.join(sorted(UNIT_DIMENSIONS))}), not {level}")
    rate = RATES[code]
    if (month is None) == (dates is None):
        raise MetricsError("a ranking is of one month or of a range of dates")
    rows = [r for r in rates(con, [code], [level], months=(month, month) if month else None, dates=dates,
                             unit_path=unit_path, category_key=category_key, area_path=area_path, as_of=as_of)
            if r["k0"] is not None and r[f"n_{code}"] >= max(min_n, 1)]
    sign = 1 if rate.higher_is_better else -1
    _rank(rows, lambda r: sign * r[f"rate_{code}"], "rank")
    cautious = f"low_{code}" if rate.higher_is_better else f"high_{code}"
    _rank(rows, lambda r: sign * r[cautious], "cautious_rank")
    rows.sort(key=lambda r: (r["cautious_rank"], r["rank"], r["k0"]))
    return rows


def three_rate_ranking(con, month: int, level: str = "street", *, as_of=None) -> list[dict]:
    """The monthly assessment table: response, resolution and satisfaction per unit of a level,
    each with n, k, rate, interval and both ranks; ordered by the cautious rank of satisfaction."""
    rows = rates(con, THREE_RATES, [level], months=(month, month), as_of=as_of)
    rows = [r for r in rows if r["k0"] is not None]
    for code in THREE_RATES:
        ranked = [r for r in rows if r[f"n_{code}"]]
        _rank(ranked, lambda r, c=code: r[f"rate_{c}"], f"rank_{code}")
        _rank(ranked, lambda r, c=code: r[f"low_{c}"], f"cautious_rank_{code}")
    rows.sort(key=lambda r: (r.get("cautious_rank_satisfaction") or 10**9, r["k0"]))
    return rows


def _rank(rows: list[dict], key, out: str) -> None:
    """Standard competition ranking (1, 2, 2, 4) by key(row), highest first."""
    ordered = sorted(rows, key=lambda r: -key(r))
    previous, rank = None, 0
    for i, row in enumerate(ordered, start=1):
        value = key(row)
        if value != previous:
            rank, previous = i, value
        row[out] = rank


def overview(con, months: tuple[int, int], *, as_of=None) -> list[dict]:
    """Per month: cases registered (`rows`), counted, closed, and every case-based rate; one scan."""
    case_rates = [c for c, r in RATES.items() if r.table == "fact_case"]
    sql = rates_query(case_rates, ["month"], months=months,
                      extra={"counted": COUNTED, "closed": "f.closed_at IS NOT NULL"})
    cur = con.execute(sql, {"as_of": _as_of(as_of)})
    cols = [d[0] for d in cur.description]
    rows = _with_intervals([dict(zip(cols, row, strict=True)) for row in cur.fetchall()], case_rates)
    for row in rows:
        row["registered"] = row["rows"]
    return rows


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


def _filter_sql(*, months=None, unit_path=None, category_key=None, area_path=None,
                unit_column: str = "unit_key") -> tuple[str, str, dict]:
    """(joins, where, params) narrowing fact_case rows `f` as `rates` does."""
    joins, where, params = [], [COUNTED], {}
    if months:
        where.append(f"f.month_key BETWEEN {int(months[0])} AND {int(months[1])}")
    if unit_path is not None:
        joins.append(f"JOIN dim_unit u ON u.unit_key = f.{unit_column}")
        where.append("starts_with(u.path, $unit_path)")
        params["unit_path"] = unit_path
    if category_key is not None:
        joins.append(_CATEGORY_JOIN)
        where.append("(c.l1_key = $category_key OR c.l2_key = $category_key OR c.category_key = $category_key)")
        params["category_key"] = int(category_key)
    if area_path is not None:
        joins.append(_AREA_JOIN)
        where.append("starts_with(a.path, $area_path)")
        params["area_path"] = area_path
    return " ".join(joins), " AND ".join(where), params


def requests_per_10k_by_area(con, level: str, *, months=None, unit_path=None, category_key=None,
                             area_path=None) -> list[dict]:
    """Every area of a level (inside `area_path` if given) with its counted cases over the whole
    period, narrowed like `rates`, and the cases per 10,000 residents with an exact Poisson
    interval; an area without cases is listed with 0, one without population gets no rate.
    Rows: {area_key, code, name_zh, name_en, population, cases, per_10k, low, high}, by code."""
    if level not in AREA_LEVELS:
        raise MetricsError(f"unknown area level: {level}")
    joins, where, params = _filter_sql(months=months, unit_path=unit_path, category_key=category_key)
    # the area join of the filter is the one that gives the level's key
    joins = f"{joins} {_AREA_JOIN}"
    params["level"] = level
    params["area_path"] = area_path or "/"
    cur = con.execute(f"""
        WITH n AS (
            SELECT a.{AREA_LEVELS[level]} AS area_key, count(*) AS cases
            FROM fact_case f {joins} WHERE {where} GROUP BY 1
        )
        SELECT d.area_key, d.code, d.name_zh, d.name_en, d.population_effective AS population,
               coalesce(n.cases, 0) AS cases
        FROM dim_area d LEFT JOIN n USING (area_key)
        WHERE d.level = $level AND starts_with(d.path, $area_path) ORDER BY d.code
    """, params)
    cols = [c[0] for c in cur.description]
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


# Deadline performance per stage: the on-time rate (RATES[...]), the cases that did the step
# after its deadline ("late"), and the rest of the denominator: the step not done although due
# ("overdue"; for an open case, overdue now). n = on time + late + overdue.
STAGES = {
    "accept": ("accept_on_time",
               f"{COUNTED} AND f.accept_due IS NOT NULL AND f.accepted_at IS NOT NULL AND NOT f.accept_ok"),
    "contact": ("contact_on_time",
                f"{COUNTED} AND f.contact_due IS NOT NULL AND f.contact_done AND NOT f.contact_ok"),
    "reply": ("reply_on_time",
              f"{COUNTED} AND f.reply_due IS NOT NULL AND f.replied_at IS NOT NULL AND NOT f.reply_ok"),
}


def deadline_performance(con, by, *, months=None, unit_path=None, category_key=None, area_path=None,
                         as_of=None, dates=None) -> list[dict]:
    """Per group of `by`: for each stage (accept, contact, reply) n, on_time, late, overdue and the
    on-time rate with its Wilson interval, as `<field>_<stage>` (e.g. `overdue_reply`)."""
    codes = [code for code, _late in STAGES.values()]
    rows = rates(con, codes, by, months=months, unit_path=unit_path, category_key=category_key,
                 area_path=area_path, as_of=as_of, dates=dates,
                 extra={f"late_{stage}": late for stage, (_code, late) in STAGES.items()})
    for row in rows:
        for stage, (code, _late) in STAGES.items():
            n, k, late = row[f"n_{code}"], row[f"k_{code}"], row[f"late_{stage}"] or 0
            row.update({f"n_{stage}": n, f"on_time_{stage}": k, f"late_{stage}": late, f"overdue_{stage}": n - k - late,
                        f"rate_{stage}": row[f"rate_{code}"], f"low_{stage}": row[f"low_{code}"],
                        f"high_{stage}": row[f"high_{code}"]})
    return rows
