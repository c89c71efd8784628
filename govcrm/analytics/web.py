"""Reads of the portal web-mining and segment pages (/dashboards/web/, /dashboards/segments/), from
the warehouse only (the titles of articles and services from the operational database).

Rules:
- Who: supervisors, analysts and administrators (the portal and the citizens are the city's, not a
  unit's); everyone else is refused (403).
- The period is whole months (`from`, `to`: YYYY-MM), by default the three months up to the latest
  month with a page view or an application.
- A visit is a session's page views without a pause longer than `VISIT_GAP_MINUTES`; its first page
  is its entry page and its last its exit page; a one-page visit is a bounce.
- The online funnel counts applications by the month they were started: started (all), submitted
  (has a submission time), approved (status approved); the rates are submitted / started and
  approved / submitted.
- Tables are `queries.Table`: what the screen shows is what the CSV and XLSX exports write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from govcrm.common.errors import Forbidden
from govcrm.organization.models import Role

from .queries import Table, month_key, month_label, shift_month

WHO = frozenset({Role.SUPERVISOR, Role.ANALYST, Role.ADMIN})
DEFAULT_MONTHS = 3
TOP = 20
VISIT_GAP_MINUTES = 30


def check_access(actor) -> None:
    if actor.role not in WHO:
        raise Forbidden(_("The portal and segment reports are for supervisors, analysts and administrators."))


def _english() -> bool:
    return (get_language() or "").startswith("en")


@dataclass
class Period:
    months: list[int]
    start: int | None = None
    end: int | None = None
    errors: list[str] = field(default_factory=list)

    def query(self) -> dict[str, str]:
        return {"from": month_label(self.start), "to": month_label(self.end)} if self.start else {}


def period_parse(con, params) -> Period:
    months = [r[0] for r in con.execute(
        "SELECT DISTINCT m FROM (SELECT month_key AS m FROM fact_page_view UNION ALL "
        "SELECT month_key FROM fact_application UNION ALL SELECT month_key FROM fact_search) "
        "WHERE m IS NOT NULL ORDER BY 1").fetchall()]
    p = Period(months=months)
    for name in ("from", "to"):
        raw = params.get(name, "")
        key = month_key(raw) if raw else None
        if raw and key is None:
            p.errors.append(_("“%(value)s” is not a month (YYYY-MM).") % {"value": raw})
        setattr(p, "start" if name == "from" else "end", key)
    p.end = p.end or (months[-1] if months else None)
    if p.end and not p.start:
        p.start = shift_month(p.end, -(DEFAULT_MONTHS - 1))
    if p.start and p.end and p.start > p.end:
        p.errors.append(_("The period's start is after its end."))
        p.start, p.end = p.end, p.start
    return p


# --- names of what was viewed ------------------------------------------------------------------------

def object_names(refs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Titles of articles and names of services, in the page's language (missing ones left out)."""
    from django.apps import apps

    names: dict[tuple[str, str], str] = {}
    articles = [int(ref) for kind, ref in refs if kind == "article" and ref.isdigit()]
    if articles:
        from govcrm.knowledge.models import ArticleVersion

        lang = "en" if _english() else "zh-hans"
        rows = ArticleVersion.objects.filter(article_id__in=articles).order_by("article_id", "-number").values_list(
            "article_id", "language", "title")
        for article_id, language, title in rows:
            key = ("article", str(article_id))
            if key not in names or language == lang:
                names[key] = title
    codes = [ref for kind, ref in refs if kind == "service"]
    if codes and apps.is_installed("govcrm.services"):
        from govcrm.services.models import ServiceItem

        for code, zh, en in ServiceItem.objects.filter(code__in=codes).values_list("code", "name_zh", "name_en"):
            names[("service", code)] = (en or zh) if _english() else (zh or en)
    return names


def _kind_names() -> dict[str, str]:
    return {"article": _("Help article"), "service": _("Service"), "knowledge": _("Help articles"),
            "services": _("Service catalogue")}


# --- the web page -----------------------------------------------------------------------------------

VISITS_SQL = f"""
WITH v AS (
    SELECT session_key, view_id, viewed_at, path,
           CASE WHEN lag(viewed_at) OVER w IS NULL
                  OR viewed_at - lag(viewed_at) OVER w > INTERVAL {VISIT_GAP_MINUTES} MINUTE THEN 1 ELSE 0 END AS starts
    FROM fact_page_view WHERE month_key BETWEEN $start AND $end
    WINDOW w AS (PARTITION BY session_key ORDER BY viewed_at, view_id)
), n AS (
    SELECT *, sum(starts) OVER (PARTITION BY session_key ORDER BY viewed_at, view_id) AS visit FROM v
)
SELECT session_key, visit, arg_min(path, (viewed_at, view_id)) AS entry, arg_max(path, (viewed_at, view_id)) AS exit,
       count(*) AS pages
FROM n GROUP BY session_key, visit
"""


def web_report(con, period: Period) -> dict:
    kinds = _kind_names()
    p = {"start": period.start or 0, "end": period.end or 0}
    totals = con.execute("SELECT count(*), count(DISTINCT session_key), median(duration_ms) FROM fact_page_view "
                         "WHERE month_key BETWEEN $start AND $end", p).fetchone()
    pages = Table("pages", _("Most viewed portal pages"),
                  [_("Page"), _("Page name"), _("Views"), _("Sessions"), _("Median duration (ms)"), _("Errors")], [])
    for row in con.execute("""
        SELECT path, route, count(*), count(DISTINCT session_key), median(duration_ms)::INTEGER,
               count(*) FILTER (WHERE status >= 400)
        FROM fact_page_view WHERE month_key BETWEEN $start AND $end
        GROUP BY path, route ORDER BY 3 DESC, 1 LIMIT $top""", {**p, "top": TOP}).fetchall():
        pages.rows.append(list(row))
    used = con.execute("""
        SELECT object_kind, object_ref, count(*) AS views, count(DISTINCT session_key),
               count(*) FILTER (WHERE search_query <> '')
        FROM fact_page_view WHERE month_key BETWEEN $start AND $end AND object_kind <> ''
        GROUP BY ALL ORDER BY views DESC, object_kind, object_ref LIMIT $top""", {**p, "top": 2 * TOP}).fetchall()
    names = object_names([(r[0], r[1]) for r in used])
    objects = Table("objects", _("Most used services and articles"),
                    [_("Kind"), _("Reference"), _("Title"), _("Views"), _("Sessions"), _("Opened from a search")], [])
    for kind, ref, views, sessions, from_search in used:
        objects.rows.append([kinds.get(kind, kind), ref, names.get((kind, ref), "—"), views, sessions, from_search])
    nothing = Table("nothing_found", _("Searches that found nothing"),
                    [_("Search"), _("Query"), _("Searches"), _("Sessions"), _("Last searched")], [])
    for kind, query, n, sessions, last in con.execute("""
        SELECT kind, query, count(*), count(DISTINCT session_key), max(date_key)
        FROM fact_search WHERE month_key BETWEEN $start AND $end AND results = 0
        GROUP BY ALL ORDER BY 3 DESC, 2 LIMIT $top""", {**p, "top": 2 * TOP}).fetchall():
        nothing.rows.append([kinds.get(kind, kind), query, n, sessions,
                             f"{last // 10000:04d}-{last // 100 % 100:02d}-{last % 100:02d}"])
    searches = Table("searches", _("Most frequent searches"),
                     [_("Search"), _("Query"), _("Searches"), _("Found something (%)"), _("Led to a click (%)")], [])
    for kind, query, n, found, clicked in con.execute("""
        SELECT kind, query, count(*), round(100.0 * count(*) FILTER (WHERE results > 0) / count(*), 1),
               round(100.0 * count(clicked_ref) / count(*), 1)
        FROM fact_search WHERE month_key BETWEEN $start AND $end
        GROUP BY ALL ORDER BY 3 DESC, 2 LIMIT $top""", {**p, "top": TOP}).fetchall():
        searches.rows.append([kinds.get(kind, kind), query, n, float(found), float(clicked)])
    funnel = Table("funnel", _("Online applications: started, submitted, approved"),
                   [_("Month"), _("Started"), _("Submitted"), _("Approved"), _("Submitted of started (%)"),
                    _("Approved of submitted (%)")], [])
    for month, started, submitted, approved in con.execute("""
        SELECT month_key, count(*), count(submitted_at), count(*) FILTER (WHERE approved)
        FROM fact_application WHERE month_key BETWEEN $start AND $end GROUP BY 1 ORDER BY 1""", p).fetchall():
        funnel.rows.append([month_label(month), started, submitted, approved,
                            round(100 * submitted / started, 1) if started else None,
                            round(100 * approved / submitted, 1) if submitted else None])
    visits = f"({VISITS_SQL})"
    entries = Table("entries", _("Entry pages"), [_("Page"), _("Visits"), _("One-page visits (%)")], [])
    for path, n, bounce in con.execute(f"""
        SELECT entry, count(*), round(100.0 * count(*) FILTER (WHERE pages = 1) / count(*), 1)
        FROM {visits} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $top""", {**p, "top": TOP}).fetchall():
        entries.rows.append([path, n, float(bounce)])
    exits = Table("exits", _("Exit pages"), [_("Page"), _("Visits ended here"), _("Of the page's views (%)")], [])
    for path, n, share in con.execute(f"""
        WITH x AS (SELECT exit AS path, count(*) AS n FROM {visits} GROUP BY 1),
             a AS (SELECT path, count(*) AS views FROM fact_page_view
                   WHERE month_key BETWEEN $start AND $end GROUP BY 1)
        SELECT x.path, x.n, round(100.0 * x.n / a.views, 1) FROM x JOIN a USING (path)
        ORDER BY 2 DESC, 1 LIMIT $top""", {**p, "top": TOP}).fetchall():
        exits.rows.append([path, n, float(share)])
    visit_count = con.execute(f"SELECT count(*) FROM {visits}", p).fetchone()[0]
    charts = {
        "funnel": {"kind": "bars", "labels": [r[0] for r in funnel.rows],
                   "series": [{"name": funnel.columns[i], "data": [r[i] for r in funnel.rows]} for i in (1, 2, 3)]},
        "objects": {"kind": "bars", "labels": [str(r[2] if r[2] != "—" else r[1]) for r in objects.rows[:10]],
                    "series": [{"name": _("Views"), "data": [r[3] for r in objects.rows[:10]]}]},
    }
    tables = {t.name: t for t in (objects, pages, searches, nothing, funnel, entries, exits)}
    return {"tables": tables, "charts": charts,
            "totals": {"views": totals[0], "sessions": totals[1], "visits": visit_count,
                       "median_ms": int(totals[2]) if totals[2] is not None else None}}


# --- segments -------------------------------------------------------------------------------------------

PROFILE = ("contacts", "recency_days", "phone_share", "online_share", "satisfaction", "repeat_complaints",
           "applications")


def segments_report(con) -> dict:
    english = _english()
    table = Table("segments", _("Citizen segments"),
                  [_("Key"), _("Segment"), _("Description"), _("Citizens"), _("Share (%%)") % {},
                   _("Contacts a year"), _("Days since the last"), _("By phone (%%)") % {}, _("Online (%%)") % {},
                   _("Satisfied (%%)") % {}, _("Repeat complaints"), _("Applications")], [])
    rows = con.execute("SELECT segment_key, code, name_zh, name_en, description_zh, description_en, citizens, profile "
                       "FROM dim_segment ORDER BY segment_key").fetchall()
    total = sum(r[6] or 0 for r in rows)
    for key, _code, zh, en, dzh, den, n, profile in rows:
        prof = json.loads(profile or "{}")

        def val(name, scale=1.0, digits=1, prof=prof):
            return round(scale * prof[name], digits) if name in prof else None

        table.rows.append([key, en if english else zh, den if english else dzh, n or 0,
                           round(100 * (n or 0) / total, 1) if total else None,
                           val("contacts"), val("recency_days", digits=0), val("phone_share", 100),
                           val("online_share", 100), val("satisfaction", 100), val("repeat_complaints"),
                           val("applications")])
    chart = {"kind": "pie", "series": [{"name": table.title, "data": [{"name": r[1], "value": r[3]}
                                                                       for r in table.rows if r[3]]}]}
    return {"tables": {"segments": table}, "charts": {"segments": chart}, "keys": [r[0] for r in rows]}


def segment_members(con, key: int) -> set[str]:
    """The pseudonymous keys of a segment's citizens who may be contacted (consent, not merged)."""
    return {r[0] for r in con.execute(
        "SELECT citizen_key FROM dim_citizen WHERE segment_key = ? AND consent_contact AND merged_into_key IS NULL",
        [key]).fetchall()}


def outreach(con, key: int, actor) -> Table:
    """The outreach list of a segment: its citizens who may be contacted, with their contact data as
    the reader's role may see it (`citizens.queries.citizen_view`): in clear for supervisors and
    administrators, each clear read of a phone number audited as in the console; masked for analysts."""
    from govcrm.analytics.warehouse.source import citizen_key
    from govcrm.citizens.models import Citizen
    from govcrm.citizens.queries import citizen_view

    row = con.execute("SELECT name_zh, name_en FROM dim_segment WHERE segment_key = ?", [key]).fetchone()
    if row is None:
        from govcrm.common.errors import NotFound

        raise NotFound(_("No such segment."))
    wanted = segment_members(con, key)
    ids = [pk for pk in Citizen.objects.filter(consent_contact=True, merged_into=None).order_by("pk")
           .values_list("pk", flat=True).iterator(chunk_size=5000) if citizen_key(pk) in wanted]
    table = Table("outreach", _("Outreach list: %(segment)s") % {"segment": row[1] if _english() else row[0]},
                  [_("Reference"), _("Name"), _("Phone"), _("E-mail"), _("Preferred channel"), _("Language")], [])
    channels = dict(Citizen.Channel.choices)
    for start in range(0, len(ids), 500):
        for citizen in Citizen.objects.filter(pk__in=ids[start:start + 500]).prefetch_related("identities") \
                .order_by("pk"):
            v = citizen_view(citizen, actor)  # masked or clear by role; a clear read is audited
            table.rows.append([citizen_key(citizen.pk)[:12], v.name, v.identities.get("phone", ""),
                               v.identities.get("email", ""), str(channels.get(v.preferred_channel, "")),
                               v.language])
    return table
