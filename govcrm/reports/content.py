"""What a weekly or monthly report says, computed from the warehouse by `analytics.metrics` (the
rates are never computed here in another way) and shaped into tables for the PDF and the XLSX.

Rules:
- Every figure is for the report's period (local days, `Period.dates`) and its scope: the whole
  city, or a unit's subtree for a unit manager (by the case's current lead unit, as on the
  dashboards). The change is against the period before, in percentage points for rates.
- Rates are shown in per cent rounded to one decimal (`analytics.queries.pct`, as the dashboards),
  always with n; "—" (None) where n = 0. The on-time first-contact rate is the response rate
  (docs/metrics.md), so it is listed once. First-contact resolution is a centre figure with no
  unit: it is in city reports only.
- Rankings: the units of each level (street, district, department) inside the scope, by each of
  the three rates with the 95 % Wilson interval and the cautious rank (`metrics.ranking`).
- Top issues: the categories with the most counted cases; rising categories are those with at
  least RISING_MIN cases and at least RISING_FACTOR times the previous period's count (a category
  new in the period counts as rising), by the increase. Hot topics (`topics`) from the detection
  run that covers the period's end, in city reports only (topics are not scoped by unit).
- Deadline performance per stage (`metrics.deadline_performance`): on time, late, and overdue
  (not done although due at `as_of`), for the period's cases, and per unit of each level.
- Names and headers come out in the active language: build inside `translation.override`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from govcrm.analytics import metrics
from govcrm.analytics.queries import Table, _name, pct

from .periods import Period

SUMMARY_RATES = ("response", "resolution", "satisfaction", "accept_on_time", "reply_on_time",
                 "first_dispatch_accuracy", "return", "reopen", "first_contact_resolution")
UNIT_CASE_RATES = ("response", "resolution", "satisfaction", "accept_on_time", "reply_on_time", "reopen")
LEVELS = ("street", "district", "department")
TREND_PERIODS = 12
TOP_CATEGORIES = 10
RISING_MIN = 3
RISING_FACTOR = 1.5
HOT_TOPICS = 10


@dataclass
class Chart:
    """A chart the PDF draws: labels along x, named series of numbers (None: no figure)."""

    title: str
    kind: str  # "lines" (rates, %) or "bars" (counts)
    labels: list[str]
    series: list[tuple[str, list[float | None]]]


@dataclass
class Section:
    key: str
    title: str
    tables: list[Table]
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ReportContent:
    period: Period
    scope_path: str | None
    scope_name: str
    language: str
    as_of: dt.datetime
    title: str
    subtitle: str
    headline: dict  # {rate code: {"name", "rate", "previous", "n"}} for the three rates
    sections: list[Section]

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


def rate_name(code: str) -> str:
    return _name(metrics.RATES[code].name_zh, metrics.RATES[code].name_en)


def change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else round(now - before, 1)


def _one(rows: list[dict]) -> dict:
    """The single row of an ungrouped `metrics.rates` (by = [])."""
    return rows[0]


def totals(con, period: Period, scope: str | None, as_of: dt.datetime) -> dict:
    """{code: (k, n, rate)} of every summary rate, and the case counts, for a period and scope."""
    common = {"dates": period.dates, "unit_path": scope, "as_of": as_of}
    out: dict = {}
    row = _one(metrics.rates(con, UNIT_CASE_RATES, [], **common,
                             extra={"counted": metrics.COUNTED, "closed": "f.counted AND f.closed_at IS NOT NULL"}))
    out["registered"], out["counted"], out["closed"] = row["rows"], row["counted"] or 0, row["closed"] or 0
    for code in UNIT_CASE_RATES:
        out[code] = (row[f"k_{code}"], row[f"n_{code}"], row[f"rate_{code}"])
    for code in ("first_dispatch_accuracy", "return"):
        row = _one(metrics.rates(con, [code], [], **common))
        out[code] = (row[f"k_{code}"], row[f"n_{code}"], row[f"rate_{code}"])
    if scope is None:  # a centre figure, not a unit's
        row = _one(metrics.rates(con, ["first_contact_resolution"], [], dates=period.dates, as_of=as_of))
        out["first_contact_resolution"] = (row["k_first_contact_resolution"], row["n_first_contact_resolution"],
                                           row["rate_first_contact_resolution"])
    return out


def _summary(now: dict, before: dict, period: Period) -> Section:
    cases = Table("cases", _("Cases"), [_("Figure"), period.short_label(), period.previous().short_label(),
                                        pgettext("report", "Change")], [])
    for key, label in (("registered", _("Registered")), ("counted", _("Counted (not merged or withdrawn)")),
                       ("closed", pgettext("report", "Closed"))):
        cases.rows.append([label, now[key], before[key], now[key] - before[key]])
    rates = Table("rates", _("Rates"), [_("Rate"), "k", "n", f"{period.short_label()} (%)",
                                        f"{period.previous().short_label()} (%)", _("Change (points)"),
                                        _("95% interval, low (%)"), _("95% interval, high (%)")], [])
    for code in SUMMARY_RATES:
        if code not in now:
            continue
        k, n, rate = now[code]
        low, high = metrics.wilson(k, n)
        rates.rows.append([rate_name(code), k, n, pct(rate), pct(before[code][2]),
                           change(pct(rate), pct(before[code][2])), pct(low), pct(high)])
    notes = [_("The on-time first-contact rate is the response rate (docs/metrics.md); the return rate counts "
               "receipts by units, the others counted cases. Lower is better for the return and reopen rates.")]
    return Section("summary", _("Summary"), [rates, cases], notes=notes)


def _rankings(con, period: Period, scope: str | None, as_of: dt.datetime) -> Section:
    names = {c: rate_name(c) for c in metrics.THREE_RATES}
    tables = []
    for level in LEVELS:
        units: dict = {}
        for code in metrics.THREE_RATES:
            for r in metrics.ranking(con, code, level, None, dates=period.dates, unit_path=scope, as_of=as_of):
                unit = units.setdefault(r["k0"], {"name": _name(r["name_zh0"], r["name_en0"])})
                unit[code] = r
        columns = [_("Unit")]
        for code in metrics.THREE_RATES:
            columns += [f"{names[code]} (%)", f"{names[code]} k", f"{names[code]} n", _("95% interval, low (%)"),
                        _("95% interval, high (%)"), _("Rank"), _("Cautious rank")]
        title = _("Ranking by %(level)s") % {"level": str(metrics.UNIT_LEVELS[level]).lower()}
        table = Table(f"ranking_{level}", title, columns, [])

        def order(item):
            sat = item.get("satisfaction")
            return (sat["cautious_rank"] if sat else 10**9, item["name"])

        for unit in sorted(units.values(), key=order):
            row = [unit["name"]]
            for code in metrics.THREE_RATES:
                r = unit.get(code)
                row += ([pct(r[f"rate_{code}"]), r[f"k_{code}"], r[f"n_{code}"], pct(r[f"low_{code}"]),
                         pct(r[f"high_{code}"]), r["rank"], r["cautious_rank"]] if r else [None, 0, 0] + [None] * 4)
            table.rows.append(row)
        tables.append(table)
    notes = [_("Units are ordered by their cautious rank in satisfaction: the rank by the lower bound of the "
               "95% Wilson interval, so that a unit with few cases is not over-read.")]
    return Section("rankings", _("Unit rankings"), tables, notes=notes)


def _trend(con, period: Period, scope: str | None, as_of: dt.datetime) -> Section:
    periods = period.back(TREND_PERIODS)
    extra = {"counted": metrics.COUNTED, "closed": "f.counted AND f.closed_at IS NOT NULL"}
    if period.kind == "monthly":
        by_month = {r["k0"]: r for r in metrics.rates(
            con, metrics.THREE_RATES, ["month"], months=(periods[0].month_key, period.month_key),
            unit_path=scope, as_of=as_of, extra=extra)}
        rows = [by_month.get(p.month_key) for p in periods]
    else:
        rows = [_one(metrics.rates(con, metrics.THREE_RATES, [], dates=p.dates, unit_path=scope, as_of=as_of,
                                   extra=extra)) for p in periods]
        for r in rows:  # count_if over no rows is NULL
            r["counted"], r["closed"] = r["counted"] or 0, r["closed"] or 0
    names = [rate_name(c) for c in metrics.THREE_RATES]
    closed = pgettext("report", "Closed")
    table = Table("trend", _("Trend"), [_("Period"), _("From"), _("To"), _("Registered"), _("Counted"), closed]
                  + [f"{n} (%)" for n in names] + [f"{n} n" for n in names], [])
    for p, r in zip(periods, rows, strict=True):
        r = r or {"rows": 0, "counted": 0, "closed": 0, **{f"rate_{c}": None for c in metrics.THREE_RATES},
                  **{f"n_{c}": 0 for c in metrics.THREE_RATES}}
        table.rows.append([p.short_label(), p.start.isoformat(), p.end.isoformat(), r["rows"], r["counted"],
                           r["closed"]] + [pct(r[f"rate_{c}"]) for c in metrics.THREE_RATES]
                          + [r[f"n_{c}"] for c in metrics.THREE_RATES])
    labels = [row[0] for row in table.rows]
    charts = [
        Chart(_("The three rates (%)"), "lines", labels,
              [(n, [row[6 + i] for row in table.rows]) for i, n in enumerate(names)]),
        Chart(_("Cases registered and closed"), "bars", labels,
              [(_("Registered"), [row[3] for row in table.rows]), (closed, [row[5] for row in table.rows])]),
    ]
    return Section("trend", _("Trend"), [table], charts=charts)


def _categories(con, period: Period, scope: str | None, as_of: dt.datetime) -> list[dict]:
    def counts(p: Period) -> dict:
        return {r["k0"]: r for r in metrics.rates(con, ["satisfaction"], ["category3"], dates=p.dates,
                                                   unit_path=scope, as_of=as_of, extra={"counted": metrics.COUNTED})
                if r["k0"] is not None}

    now, before = counts(period), counts(period.previous())
    out = []
    for key, r in now.items():
        prev = before.get(key, {}).get("counted", 0)
        out.append({"key": key, "name": _name(r["name_zh0"], r["name_en0"]), "cases": r["counted"],
                    "previous": prev, "satisfaction": pct(r["rate_satisfaction"]), "n_satisfaction":
                    r["n_satisfaction"]})
    return [c for c in out if c["cases"]]


def _top_issues(con, period: Period, scope: str | None, as_of: dt.datetime) -> Section:
    cats = _categories(con, period, scope, as_of)
    total = sum(c["cases"] for c in cats)
    top = Table("top_categories", _("Top categories"),
                [_("Rank"), _("Category"), _("Cases"), _("Share (%)"), _("Previous period"),
                 pgettext("report", "Change"), _("Satisfaction rate (%)"), _("Satisfaction n")], [])
    for i, c in enumerate(sorted(cats, key=lambda c: (-c["cases"], c["name"]))[:TOP_CATEGORIES], start=1):
        top.rows.append([i, c["name"], c["cases"], round(100 * c["cases"] / total, 1) if total else None,
                         c["previous"], c["cases"] - c["previous"], c["satisfaction"], c["n_satisfaction"]])
    rising = [c for c in cats if c["cases"] >= RISING_MIN and c["cases"] >= RISING_FACTOR * c["previous"]
              and c["cases"] > c["previous"]]
    rise = Table("rising_categories", _("Rising categories"),
                 [_("Category"), _("Cases"), _("Previous period"), pgettext("report", "Change"), _("Change (%)")], [])
    for c in sorted(rising, key=lambda c: (-(c["cases"] - c["previous"]), c["name"]))[:TOP_CATEGORIES]:
        rise.rows.append([c["name"], c["cases"], c["previous"], c["cases"] - c["previous"],
                          round(100 * (c["cases"] - c["previous"]) / c["previous"], 1) if c["previous"] else None])
    tables = [top, rise]
    notes = [_("Rising: at least %(min)d cases and at least %(factor)s times the previous period's count "
               "(new categories included).") % {"min": RISING_MIN, "factor": RISING_FACTOR}]
    if scope is None:
        topics = hot_topics(period)
        if topics is not None:
            tables.append(topics)
        else:
            notes.append(_("No hot-topic detection covers the end of this period."))
    return Section("issues", _("Top issues"), tables, notes=notes)


def hot_topics(period: Period) -> Table | None:
    """The hot topics of the detection run that covers the period's end (None: no such run)."""
    from govcrm.organization.queries import SYSTEM
    from govcrm.topics.queries import topic_list, topic_runs

    end = period.ends_at()
    run = next((r for r in topic_runs(SYSTEM, limit=50)
                if r.period_start < end <= r.period_end + dt.timedelta(days=1)), None)
    if run is None:
        return None
    table = Table("hot_topics", _("Hot topics"), [_("Rank"), _("Topic"), _("Cases"), _("Area"), _("First seen"),
                                                  _("Last seen")], [])
    start = dt.datetime.combine(period.start, dt.time(), end.tzinfo)
    for topic in topic_list(SYSTEM, run):
        if topic.last_seen < start:
            continue
        area = _name(topic.area.name_zh, topic.area.name_en) if topic.area else None
        table.rows.append([topic.rank, " ".join(topic.terms), topic.size, area,
                           timezone.localtime(topic.first_seen).date().isoformat(),
                           timezone.localtime(topic.last_seen).date().isoformat()])
        if len(table.rows) >= HOT_TOPICS:
            break
    return table


def _deadlines(con, period: Period, scope: str | None, as_of: dt.datetime) -> Section:
    stages = {"accept": _("Acceptance"), "contact": _("First contact"), "reply": _("Reply")}
    row = _one(metrics.deadline_performance(con, [], dates=period.dates, unit_path=scope, as_of=as_of))
    by_stage = Table("deadlines", _("Deadline performance by stage"),
                     [_("Stage"), "n", _("On time"), _("Late"), _("Overdue"), _("On-time rate (%)")], [])
    for stage, label in stages.items():
        by_stage.rows.append([label, row[f"n_{stage}"], row[f"on_time_{stage}"], row[f"late_{stage}"],
                              row[f"overdue_{stage}"], pct(row[f"rate_{stage}"])])
    by_unit = Table("deadlines_by_unit", _("Replies by unit"),
                    [_("Level"), _("Unit"), "n", _("On time"), _("Late"), _("Overdue"), _("On-time rate (%)")], [])
    for level in LEVELS:
        rows = [r for r in metrics.deadline_performance(con, [level], dates=period.dates, unit_path=scope, as_of=as_of)
                if r["k0"] is not None and r["n_reply"]]
        for r in sorted(rows, key=lambda r: (-(r["late_reply"] + r["overdue_reply"]), r["k0"])):
            by_unit.rows.append([str(metrics.UNIT_LEVELS[level]), _name(r["name_zh0"], r["name_en0"]), r["n_reply"],
                                 r["on_time_reply"], r["late_reply"], r["overdue_reply"], pct(r["rate_reply"])])
    notes = [_("Late: done after the deadline. Overdue: not done although due, as of %(as_of)s.")
             % {"as_of": timezone.localtime(as_of).strftime("%Y-%m-%d %H:%M")}]
    return Section("deadlines", _("Deadline performance"), [by_stage, by_unit], notes=notes)


def build(con, period: Period, *, scope_path: str | None, scope_name: str, language: str,
          as_of: dt.datetime) -> ReportContent:
    """The report's content in the active language (the caller sets it to `language`)."""
    now = totals(con, period, scope_path, as_of)
    before = totals(con, period.previous(), scope_path, as_of)
    headline = {c: {"name": rate_name(c), "rate": pct(now[c][2]), "previous": pct(before[c][2]), "n": now[c][1]}
                for c in metrics.THREE_RATES}
    title = (_("Weekly report") if period.kind == "weekly" else _("Monthly report")) + " · " + period.label()
    subtitle = _("%(scope)s · figures as of %(as_of)s") % {
        "scope": scope_name, "as_of": timezone.localtime(as_of).strftime("%Y-%m-%d %H:%M")}
    sections = [_summary(now, before, period), _rankings(con, period, scope_path, as_of),
                _trend(con, period, scope_path, as_of), _top_issues(con, period, scope_path, as_of),
                _deadlines(con, period, scope_path, as_of)]
    return ReportContent(period, scope_path, scope_name, language, as_of, title, subtitle, headline, sections)
