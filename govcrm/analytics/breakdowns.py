"""Reads of the breakdown dashboards: categories (the three-level tree, drilled down), deadline
performance (on time per stage, by unit and category) and the channel mix. Like queries.py, each
returns {"tables": {name: Table}, "charts": {name: spec}} for the caller's scope and filters; the
tables hold the numbers exactly as the screen shows them and the exports write the same tables.

Rules:
- Drilling down: with no category filter the categories page lists the first level; with a
  category of level 1 or 2 it lists that category's children; with a leaf, the leaf alone. Every
  figure of a category counts the cases of its whole subtree (docs/metrics.md, "Grouping").
- Deadline performance per stage (accept, contact, reply): n deadlines due, on time, late (the
  step done after its deadline) and overdue (not done although due), n = on time + late +
  overdue; the on-time rate is metrics' `accept_on_time`, `contact_on_time` (= the response rate)
  and `reply_on_time`, with its Wilson interval.
- Rows whose unit has no ancestor of the chosen level (a department's case at street level) are
  kept, in a row named "(none at this level)", so the rows add up to the whole.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from . import metrics
from .queries import CI, Filters, Table, _name, _rate_names, month_label, pct

STAGES = tuple(metrics.STAGES)  # accept, contact, reply
DEADLINE_LEVELS = ("street", "district", "department")


def _stage_names() -> dict[str, str]:
    return {"accept": pgettext("deadline stage", "Acceptance"), "contact": pgettext("deadline stage", "First contact"),
            "reply": pgettext("deadline stage", "Reply")}


def _none_name() -> str:
    return _("(none at this level)")


def drill_level(f: Filters) -> int:
    """The category level listed under the category filter (1 without one, 3 at a leaf)."""
    return min(f.category["level"] + 1, 3) if f.category else 1


def category_chain(con, f: Filters) -> list[dict]:
    """The filter category and its ancestors, level 1 first: [{key, name, level}]."""
    if not f.category:
        return []
    row = con.execute("SELECT l1_key, l1_name_zh, l1_name_en, l2_key, l2_name_zh, l2_name_en, l3_key, l3_name_zh, "
                      "l3_name_en FROM dim_category WHERE category_key = $k", {"k": f.category["key"]}).fetchone()
    chain = []
    for level in range(3):
        key, zh, en = row[3 * level:3 * level + 3]
        if key is not None and level + 1 < f.category["level"]:
            chain.append({"key": key, "name": _name(zh, en), "level": level + 1})
    return chain


def _link(view: str, f: Filters, **changes) -> str:
    query = {**f.query(), **{k: str(v) for k, v in changes.items() if v is not None}}
    for k, v in changes.items():
        if v is None:
            query.pop(k, None)
    return f"{reverse(view)}?{urlencode(query)}"


def categories(con, scope: str | None, f: Filters, *, as_of: dt.datetime | None = None) -> dict:
    """Volumes and the three rates per category of the drill level, each a link one level down."""
    level = drill_level(f)
    rows = metrics.rates(con, metrics.THREE_RATES, [f"category{level}"], as_of=as_of,
                         extra={"counted": metrics.COUNTED, "closed": "f.closed_at IS NOT NULL"},
                         **f.narrowing(scope))
    rows = [r for r in rows if r["k0"] is not None]
    rows.sort(key=lambda r: (-r["counted"], -r["rows"], r["k0"]))
    names = _rate_names()
    total = sum(r["counted"] for r in rows)
    table = Table("categories", _("Cases and rates per category (level %(level)s)") % {"level": level},
                  [_("Category"), _("Registered"), _("Counted"), _("Closed"), _("Share (%%)") % {}]
                  + [f"{names[c]} (%)" for c in metrics.THREE_RATES]
                  + [f"{names[c]} n" for c in metrics.THREE_RATES], [], link_column=0 if level < 3 else None)
    for r in rows:
        table.rows.append([_name(r["name_zh0"], r["name_en0"]), r["rows"], r["counted"], r["closed"],
                           round(100 * r["counted"] / total, 1) if total else None]
                          + [pct(r[f"rate_{c}"]) for c in metrics.THREE_RATES]
                          + [r[f"n_{c}"] for c in metrics.THREE_RATES])
        table.links.append(_link("analytics:categories", f, category=r["k0"]) if level < 3 else None)
    shown = table.rows
    charts = {
        "volumes": {"kind": "hbars", "labels": [r[0] for r in shown],
                    "series": [{"name": _("Registered"), "data": [r[1] for r in shown]},
                               {"name": _("Closed"), "data": [r[3] for r in shown]}]},
        "rates": {"kind": "hbars", "unit": "%", "labels": [r[0] for r in shown],
                  "series": [{"name": names[c], "data": [r[5 + i] for r in shown]}
                             for i, c in enumerate(metrics.THREE_RATES)]},
    }
    return {"tables": {"categories": table}, "charts": charts, "level": level, "chain": category_chain(con, f)}


def _stage_columns() -> list[str]:
    cols = []
    for label in _stage_names().values():
        cols += [f"{label} n", _("%(stage)s on time (%%)") % {"stage": label},
                 _("%(stage)s overdue") % {"stage": label}]
    return cols


def _stage_cells(r: dict) -> list:
    return [v for stage in STAGES for v in (r[f"n_{stage}"], pct(r[f"rate_{stage}"]), r[f"overdue_{stage}"])]


def deadlines(con, scope: str | None, f: Filters, *, level: str = "street", as_of: dt.datetime | None = None) -> dict:
    """On time, late and overdue per stage; the same per unit of a level and per category."""
    if level not in DEADLINE_LEVELS:
        raise metrics.MetricsError("unknown unit level")
    narrowing = {**f.narrowing(scope), "as_of": as_of}
    whole = metrics.deadline_performance(con, [], **narrowing)[0]
    stages = Table("stages", _("On-time performance per stage"),
                   [_("Stage"), _("Deadlines due"), _("On time"), _("Late"), _("Overdue"), _("On time (%%)") % {},
                    _("%(level)s%% interval, low (%%)") % CI, _("%(level)s%% interval, high (%%)") % CI], [])
    for stage, label in _stage_names().items():
        stages.rows.append([label, whole[f"n_{stage}"], whole[f"on_time_{stage}"], whole[f"late_{stage}"],
                            whole[f"overdue_{stage}"], pct(whole[f"rate_{stage}"]), pct(whole[f"low_{stage}"]),
                            pct(whole[f"high_{stage}"])])
    units = Table("units", _("Deadlines per unit (%(level)s)") % {"level": metrics.UNIT_LEVELS[level]},
                  [_("Unit"), *_stage_columns()], [])
    by_unit = [r for r in metrics.deadline_performance(con, [level], **narrowing) if any(
        r[f"n_{s}"] for s in STAGES)]
    by_unit.sort(key=lambda r: (r["k0"] is None, _name(r["name_zh0"], r["name_en0"]), r["k0"] or 0))
    for r in by_unit:
        units.rows.append([_name(r["name_zh0"], r["name_en0"]) if r["k0"] is not None else _none_name(),
                           *_stage_cells(r)])
    cat_level = drill_level(f)
    cats = Table("categories", _("Deadlines per category (level %(level)s)") % {"level": cat_level},
                 [_("Category"), *_stage_columns()], [], link_column=0 if cat_level < 3 else None)
    by_cat = [r for r in metrics.deadline_performance(con, [f"category{cat_level}"], **narrowing)
              if r["k0"] is not None and any(r[f"n_{s}"] for s in STAGES)]
    by_cat.sort(key=lambda r: (-sum(r[f"overdue_{s}"] for s in STAGES), r["k0"]))
    for r in by_cat:
        cats.rows.append([_name(r["name_zh0"], r["name_en0"]), *_stage_cells(r)])
        cats.links.append(_link("analytics:deadlines", f, category=r["k0"]) if cat_level < 3 else None)
    names = _stage_names()

    def grouped(table: Table) -> dict:
        return {"kind": "hbars", "unit": "%", "labels": [r[0] for r in table.rows],
                "series": [{"name": names[s], "data": [r[2 + 3 * i] for r in table.rows]}
                           for i, s in enumerate(STAGES)]}

    charts = {
        "stages": {"kind": "stacked", "labels": [r[0] for r in stages.rows],
                   "series": [{"name": _("On time"), "data": [r[2] for r in stages.rows]},
                              {"name": _("Late"), "data": [r[3] for r in stages.rows]},
                              {"name": _("Overdue"), "data": [r[4] for r in stages.rows]}]},
        "units": grouped(units),
        "categories": grouped(cats),
    }
    return {"tables": {"stages": stages, "units": units, "categories": cats}, "charts": charts,
            "chain": category_chain(con, f)}


def channels(con, scope: str | None, f: Filters, *, as_of: dt.datetime | None = None) -> dict:
    """Per channel: volumes, share, the three rates and first-contact resolution; and per month."""
    narrowing = {**f.narrowing(scope), "as_of": as_of}
    codes = (*metrics.THREE_RATES, "first_contact_resolution")
    rows = metrics.rates(con, metrics.THREE_RATES, ["channel"], extra={"counted": metrics.COUNTED}, **narrowing)
    # First-contact resolution is the centre's figure, not a unit's (docs/metrics.md): shown only
    # to those who see the city, without a unit filter.
    fcr = {}
    if narrowing["unit_path"] is None:
        fcr = {r["k0"]: r for r in metrics.rates(con, ["first_contact_resolution"], ["channel"], **narrowing)}
    names = {**_rate_names(), "first_contact_resolution": _name(
        metrics.RATES["first_contact_resolution"].name_zh, metrics.RATES["first_contact_resolution"].name_en)}
    rows = [r for r in rows if r["rows"]]
    rows.sort(key=lambda r: (-r["counted"], str(r["k0"])))
    total = sum(r["counted"] for r in rows)
    table = Table("channels", _("Cases and rates per channel"),
                  [_("Channel"), _("Registered"), _("Counted"), _("Share (%%)") % {}]
                  + [f"{names[c]} (%)" for c in codes], [])
    for r in rows:
        other = fcr.get(r["k0"])
        table.rows.append([_name(r["name_zh0"], r["name_en0"]) or str(r["k0"]), r["rows"], r["counted"],
                           round(100 * r["counted"] / total, 1) if total else None]
                          + [pct(r[f"rate_{c}"]) for c in metrics.THREE_RATES]
                          + [pct(other["rate_first_contact_resolution"]) if other else None])
    order = [r["k0"] for r in rows]
    labels = {r["k0"]: t[0] for r, t in zip(rows, table.rows, strict=True)}
    per_month = metrics.rates(con, ["response"], ["month", "channel"], extra={"counted": metrics.COUNTED},
                              **narrowing)
    months = sorted({r["k0"] for r in per_month})
    counts = {(r["k0"], r["k1"]): r["counted"] for r in per_month}
    monthly = Table("months", _("Counted cases per month and channel"),
                    [_("Month"), *[labels[c] for c in order]], [])
    for m in months:
        monthly.rows.append([month_label(m), *[counts.get((m, c), 0) for c in order]])
    charts = {
        "share": {"kind": "pie", "series": [{"name": _("Channel mix (counted cases)"),
                                             "data": [{"name": r[0], "value": r[2]} for r in table.rows]}]},
        "months": {"kind": "stacked", "labels": [r[0] for r in monthly.rows],
                   "series": [{"name": labels[c], "data": [r[1 + i] for r in monthly.rows]}
                              for i, c in enumerate(order)]},
        "rates": {"kind": "bars", "unit": "%", "labels": [r[0] for r in table.rows],
                  "series": [{"name": names[c], "data": [r[4 + i] for r in table.rows]}
                             for i, c in enumerate(codes)]},
    }
    return {"tables": {"channels": table, "months": monthly}, "charts": charts}
