"""Reads of the dashboards (/dashboards/): who may see them, the filters, and the tables and charts
of each page, from the warehouse only (metrics.py computes; this module scopes and shapes).

Rules:
- Supervisors, analysts and administrators see the whole city; a unit manager sees the cases of
  its unit and its subtree (by the case's current lead unit, as every rate counts them); everyone
  else is refused (403). A unit filter outside the caller's subtree is refused, not widened.
- A dashboard table (`Table`) holds the numbers exactly as the screen shows them (rates in per
  cent rounded to one decimal, counts as integers); the CSV and XLSX exports write the same
  `Table`, every row, so an export always equals the screen.
- The warehouse is opened read-only. While a refresh holds DuckDB's file lock the open is
  retried for about a second, then `WarehouseBusy` goes up to the view (a clear page, not a 500).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from govcrm.common.errors import Forbidden
from govcrm.organization.models import Role

from . import metrics
from .warehouse import WarehouseBusy, connect

ALL_CITY = frozenset({Role.SUPERVISOR, Role.ANALYST, Role.ADMIN})
SUBTREE = frozenset({Role.MANAGER})
RANKING_RATES = metrics.THREE_RATES
RANKING_LEVELS = ("street", "district", "department")
CI = {"level": 95}  # the confidence level of the intervals shown (metrics.Z95)
OVERVIEW_MONTHS = 12  # the default period: the twelve months up to the latest one loaded


def dashboard_scope(actor) -> str | None:
    """The unit path the actor's dashboards are limited to (None: the whole city); Forbidden if none."""
    if actor.role in ALL_CITY:
        return None
    if actor.role in SUBTREE and actor.unit_path:
        return actor.unit_path
    raise Forbidden(_("Dashboards are for supervisors, analysts, administrators and unit managers."))


def open_warehouse(*, attempts: int = 5, pause: float = 0.2):
    """A read-only connection, retried briefly while a refresh holds the file lock."""
    for attempt in range(attempts):
        try:
            return connect(read_only=True)
        except WarehouseBusy:
            if attempt == attempts - 1:
                raise
            time.sleep(pause)
    raise AssertionError("unreachable")


# --- filters --------------------------------------------------------------------------------------

def month_key(value: str) -> int | None:
    """'2026-03' (an <input type=month>) or '202603' → 202603; None when not a month."""
    digits = value.replace("-", "").strip()
    if len(digits) != 6 or not digits.isdigit() or not 1 <= int(digits[4:]) <= 12:
        return None
    return int(digits)


def month_label(key: int) -> str:
    return f"{key // 100:04d}-{key % 100:02d}"


def shift_month(key: int, months: int) -> int:
    index = (key // 100) * 12 + key % 100 - 1 + months
    return (index // 12) * 100 + index % 12 + 1


@dataclass
class Options:
    """What the filter forms offer: loaded months, units in scope, categories (three levels), areas."""

    months: list[int]
    units: list[dict]  # {key, path, name, depth}
    categories: list[dict]  # {key, name, level}
    areas: list[dict] = field(default_factory=list)  # {key, code, path, name, depth, level}


def _name(row_zh: str | None, row_en: str | None) -> str:
    english = (get_language() or "").startswith("en")
    return (row_en or row_zh or "") if english else (row_zh or row_en or "")


def options(con, scope: str | None) -> Options:
    months = [r[0] for r in con.execute(
        "SELECT DISTINCT month_key FROM fact_case WHERE month_key IS NOT NULL ORDER BY 1").fetchall()]
    units = [{"key": k, "path": p, "name": _name(zh, en), "depth": d} for k, p, zh, en, d in con.execute(
        "SELECT unit_key, path, name_zh, name_en, depth FROM dim_unit WHERE starts_with(path, $p) ORDER BY path",
        {"p": scope or "/"}).fetchall()]
    categories = [{"key": k, "name": _name(zh, en), "level": lv} for k, zh, en, lv in con.execute(
        "SELECT category_key, name_zh, name_en, level FROM dim_category ORDER BY code").fetchall()]
    areas = [{"key": k, "code": code, "path": p, "name": _name(zh, en), "depth": p.count("/") - 1, "level": lv}
             for k, code, p, zh, en, lv in con.execute(
                 "SELECT area_key, code, path, name_zh, name_en, level FROM dim_area ORDER BY path").fetchall()]
    return Options(months=months, units=units, categories=categories, areas=areas)


@dataclass
class Filters:
    start: int | None = None
    end: int | None = None
    unit: dict | None = None
    category: dict | None = None
    area: dict | None = None
    errors: list[str] = field(default_factory=list)

    def unit_path(self, scope: str | None) -> str | None:
        return self.unit["path"] if self.unit else scope

    @property
    def area_path(self) -> str | None:
        """The area filter as a subtree: the area and every area under it."""
        return self.area["path"] if self.area else None

    def narrowing(self, scope: str | None) -> dict:
        """The filters as keyword arguments of metrics.rates (and of the other metrics readers)."""
        return {"months": (self.start, self.end) if self.start else None, "unit_path": self.unit_path(scope),
                "category_key": self.category["key"] if self.category else None, "area_path": self.area_path}

    def query(self) -> dict[str, str]:
        q = {}
        if self.start:
            q["from"] = month_label(self.start)
        if self.end:
            q["to"] = month_label(self.end)
        if self.unit:
            q["unit"] = str(self.unit["key"])
        if self.category:
            q["category"] = str(self.category["key"])
        if self.area:
            q["area"] = str(self.area["key"])
        return q


def filters_parse(params, opts: Options, *, single_month: bool) -> Filters:
    """The filters of a request (GET parameters), checked against the options; errors are listed
    (in the user's language) and the offending filter is not applied."""
    f = Filters()
    latest = opts.months[-1] if opts.months else None
    if single_month:
        raw = params.get("month", "")
        f.start = f.end = month_key(raw) if raw else latest
        if raw and f.start is None:
            f.errors.append(_("“%(value)s” is not a month (YYYY-MM).") % {"value": raw})
            f.start = f.end = latest
    else:
        for name in ("from", "to"):
            raw = params.get(name, "")
            key = month_key(raw) if raw else None
            if raw and key is None:
                f.errors.append(_("“%(value)s” is not a month (YYYY-MM).") % {"value": raw})
            setattr(f, "start" if name == "from" else "end", key)
        f.end = f.end or latest
        if f.end and not f.start:
            f.start = shift_month(f.end, -(OVERVIEW_MONTHS - 1))
        if f.start and f.end and f.start > f.end:
            f.errors.append(_("The period's start is after its end."))
            f.start, f.end = f.end, f.start
    raw = params.get("unit", "")
    if raw:
        f.unit = next((u for u in opts.units if str(u["key"]) == raw), None)
        if f.unit is None:
            raise Forbidden(_("No such unit, or not one whose figures you may see."))
    raw = params.get("category", "")
    if raw:
        f.category = next((c for c in opts.categories if str(c["key"]) == raw), None)
        if f.category is None:
            f.errors.append(_("No such category."))
    raw = params.get("area", "")
    if raw:
        f.area = next((a for a in opts.areas if str(a["key"]) == raw), None)
        if f.area is None:
            f.errors.append(_("No such area."))
    return f


# --- tables ---------------------------------------------------------------------------------------

@dataclass
class Table:
    """A dashboard table as shown: column headers and rows of str/int/float cells (None: no figure)."""

    name: str
    title: str
    columns: list[str]
    rows: list[list]
    # Optional links on the screen (not in the exports): the cell of column `link_column` of row i
    # links to links[i] (None: no link).
    link_column: int | None = None
    links: list[str | None] = field(default_factory=list)

    def shown(self) -> list[tuple[list, str | None]]:
        """(row, link) pairs for the template."""
        links = self.links if self.link_column is not None else []
        return [(row, links[i] if i < len(links) else None) for i, row in enumerate(self.rows)]


def pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _rate_names() -> dict[str, str]:
    english = (get_language() or "").startswith("en")
    return {c: (metrics.RATES[c].name_en if english else metrics.RATES[c].name_zh) for c in metrics.THREE_RATES}


def overview(con, scope: str | None, f: Filters, *, as_of: dt.datetime | None = None) -> dict:
    """Per month: registered, counted and closed cases and the three rates; and the channel mix."""
    common = {**f.narrowing(scope), "as_of": as_of}
    months = metrics.rates(con, metrics.THREE_RATES, ["month"],
                           extra={"counted": metrics.COUNTED, "closed": "f.closed_at IS NOT NULL"}, **common)
    channels = metrics.rates(con, ["response"], ["channel"], extra={"counted": metrics.COUNTED}, **common)
    names = _rate_names()
    month_table = Table("months", _("Cases and rates per month"),
                        [_("Month"), _("Registered"), _("Counted"), _("Closed")]
                        + [f"{names[c]} (%)" for c in metrics.THREE_RATES]
                        + [f"{names[c]} n" for c in metrics.THREE_RATES], [])
    for r in months:
        month_table.rows.append([month_label(r["k0"]), r["rows"], r["counted"], r["closed"]]
                                + [pct(r[f"rate_{c}"]) for c in metrics.THREE_RATES]
                                + [r[f"n_{c}"] for c in metrics.THREE_RATES])
    total = sum(r["counted"] for r in channels)
    channel_table = Table("channels", _("Channel mix (counted cases)"),
                          [_("Channel"), _("Cases"), _("Share (%%)") % {}], [])
    for r in sorted(channels, key=lambda r: (-r["counted"], str(r["k0"]))):
        if r["counted"]:
            channel_table.rows.append([_name(r["name_zh0"], r["name_en0"]) or str(r["k0"]), r["counted"],
                                       round(100 * r["counted"] / total, 1)])
    rows = month_table.rows
    charts = {
        "volumes": {"kind": "bars", "labels": [r[0] for r in rows],
                    "series": [{"name": _("Registered"), "data": [r[1] for r in rows]},
                               {"name": _("Closed"), "data": [r[3] for r in rows]}]},
        "rates": {"kind": "lines", "labels": [r[0] for r in rows], "unit": "%",
                  "series": [{"name": names[c], "data": [r[4 + i] for r in rows]}
                             for i, c in enumerate(metrics.THREE_RATES)]},
        "channels": {"kind": "pie", "series": [{"name": _("Channel mix (counted cases)"),
                                                "data": [{"name": r[0], "value": r[1]}
                                                         for r in channel_table.rows]}]},
    }
    return {"tables": {"months": month_table, "channels": channel_table}, "charts": charts}


def ranking(con, scope: str | None, f: Filters, *, rate: str, level: str,
            as_of: dt.datetime | None = None) -> dict:
    """One month's ranking of the units of a level by one rate, with 95 % Wilson intervals; within
    the caller's scope (and the unit filter), and the category filter."""
    if rate not in RANKING_RATES or level not in RANKING_LEVELS:
        raise metrics.MetricsError("unknown rate or level")
    if not f.start:
        rows = []
    else:
        rows = metrics.ranking(con, rate, level, f.start, unit_path=f.unit_path(scope),
                               category_key=f.category["key"] if f.category else None, area_path=f.area_path,
                               as_of=as_of)
    name = _rate_names()[rate]
    table = Table("ranking", _("%(rate)s by unit, %(month)s") % {"rate": name, "month": month_label(f.start)
                                                                  if f.start else "—"},
                  [_("Cautious rank"), _("Rank"), _("Unit"), "k", "n", f"{name} (%)",
                   _("%(level)s%% interval, low (%%)") % CI, _("%(level)s%% interval, high (%%)") % CI], [])
    for r in rows:
        table.rows.append([r["cautious_rank"], r["rank"], _name(r["name_zh0"], r["name_en0"]), r[f"k_{rate}"],
                           r[f"n_{rate}"], pct(r[f"rate_{rate}"]), pct(r[f"low_{rate}"]), pct(r[f"high_{rate}"])])
    chart = {"kind": "interval", "unit": "%", "labels": [r[2] for r in table.rows],
             "series": [{"name": name, "data": [r[5] for r in table.rows]},
                        {"name": _("%(level)s%% interval") % CI, "low": [r[6] for r in table.rows],
                         "high": [r[7] for r in table.rows]}]}
    return {"tables": {"ranking": table}, "charts": {"ranking": chart}}
