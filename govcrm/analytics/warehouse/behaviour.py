"""Loaders of the citizens' behaviour facts: applications for catalogue services, portal page views
and searches (called by `refresh.refresh` in its transaction, after cases and interactions).

Rules:
- Applications (govcrm/services) are picked by `updated_at` like cases (re-read from the
  watermark minus the overlap, replaced whole); the citizen becomes `citizen_key`; form data,
  reasons and the workflow state are never read. Without the services app, or without any
  application, the table stays empty and nothing fails.
- Page views and searches are append-only in the source (govcrm/webmining) and read by id (from
  the watermark minus the id slack, skipping ids already loaded). They hold no address and no
  citizen: a session is a salted hash that changes every day.
- Old page views are pruned from the source (`GOVCRM_WEB_MINING_RETENTION_DAYS`,
  webmining/actions.py); the warehouse keeps their facts, a full rebuild too: it empties
  `fact_page_view` only from the oldest id the source still holds (`page_views_clear`).
- A search's click (`clicked_*`) is the first article or service page opened from its result list
  (the page view's `search_query` equals the search's query, same kind) in the same session within
  `CLICK_WINDOW` after it. It is recomputed for every session a run touches, so a click loaded
  after its search gives the same row as a full rebuild.
"""

from __future__ import annotations

import datetime as dt

from . import source

CLICK_WINDOW_MINUTES = 30


def _max_ts(con, table: str, column: str) -> str | None:
    row = con.execute(f"SELECT strftime(max({column}), '%Y-%m-%dT%H:%M:%S.%f') FROM {table}").fetchone()
    return row[0] if row else None


def load_applications(con, since: dt.datetime | None, *, stage, pseudonymise, bar) -> int:
    qs = source.applications_changed(since)
    if qs is None:
        return 0
    columns = [("citizen_key", "VARCHAR") if n == "citizen_id" else (n, t) for n, t in source.APPLICATION_COLUMNS]
    progress = bar("applications", source.count(qs))
    n = stage(con, "stage_application", columns, source.stream(qs), progress, transform=pseudonymise(2))
    if progress:
        progress.close()
    con.execute("DELETE FROM fact_application WHERE application_id IN (SELECT application_id FROM stage_application)")
    con.execute("""
        INSERT INTO fact_application
        SELECT application_id, service_code, citizen_key, unit_key, status, language, started_at, submitted_at,
               decided_at, status = 'approved', date_key(started_at), month_key(started_at), source_updated_at
        FROM (SELECT DISTINCT ON (application_id) * FROM stage_application
              ORDER BY application_id, source_updated_at DESC)
    """)
    return n


CLICKS_SQL = f"""
UPDATE fact_search s SET clicked_kind = c.kind, clicked_ref = c.ref, clicked_at = c.at
FROM (
    SELECT s.search_id, arg_min(p.object_kind, (p.viewed_at, p.view_id)) AS kind,
           arg_min(p.object_ref, (p.viewed_at, p.view_id)) AS ref, min(p.viewed_at) AS at
    FROM fact_search s JOIN fact_page_view p
      ON p.session_key = s.session_key AND p.search_query = s.query
     AND p.viewed_at >= s.searched_at AND p.viewed_at < s.searched_at + INTERVAL {CLICK_WINDOW_MINUTES} MINUTE
     AND ((s.kind = 'knowledge' AND p.object_kind = 'article') OR (s.kind = 'services' AND p.object_kind = 'service'))
    WHERE s.session_key IN (SELECT session_key FROM touched_sessions)
    GROUP BY s.search_id
) c
WHERE s.search_id = c.search_id
"""


def page_views_clear(con) -> None:
    """Empty `fact_page_view` for a full rebuild of the same source, but for the views pruned from it
    (ids below the oldest it holds; every one when it holds none): their facts cannot be reloaded."""
    oldest = source.oldest_page_view_id()
    if oldest is not None:
        con.execute("DELETE FROM fact_page_view WHERE view_id >= ?", [oldest])


def load_web(con, view_after: int | None, search_after: int | None, *, stage, bar) -> tuple[int, int]:
    qs = source.page_views(view_after)
    progress = bar("page views", source.count(qs))
    stage(con, "stage_page_view", source.PAGE_VIEW_COLUMNS, source.stream(qs), progress)
    if progress:
        progress.close()
    qs = source.searches(search_after)
    progress = bar("searches", source.count(qs))
    stage(con, "stage_search", source.SEARCH_COLUMNS, source.stream(qs), progress)
    if progress:
        progress.close()
    before_views = con.execute("SELECT count(*) FROM fact_page_view").fetchone()[0]
    before_searches = con.execute("SELECT count(*) FROM fact_search").fetchone()[0]
    con.execute("""
        CREATE OR REPLACE TEMP TABLE new_page_view AS
        SELECT * FROM (SELECT DISTINCT ON (view_id) * FROM stage_page_view) s
        WHERE NOT EXISTS (SELECT 1 FROM fact_page_view f WHERE f.view_id = s.view_id)
    """)
    con.execute("""
        INSERT INTO fact_page_view
        SELECT view_id, session_key, route, path, object_kind, object_ref, referrer_path, referrer_site,
               search_query, language, status, duration_ms, viewed_at, date_key(viewed_at), month_key(viewed_at)
        FROM new_page_view
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE new_search AS
        SELECT * FROM (SELECT DISTINCT ON (search_id) * FROM stage_search) s
        WHERE NOT EXISTS (SELECT 1 FROM fact_search f WHERE f.search_id = s.search_id)
    """)
    con.execute("""
        INSERT INTO fact_search
        SELECT search_id, session_key, kind, query, results, language, searched_at, date_key(searched_at),
               month_key(searched_at), NULL, NULL, NULL
        FROM new_search
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE touched_sessions AS SELECT DISTINCT session_key FROM "
                "(SELECT session_key FROM new_page_view UNION ALL SELECT session_key FROM new_search)")
    con.execute(CLICKS_SQL)
    return (con.execute("SELECT count(*) FROM fact_page_view").fetchone()[0] - before_views,
            con.execute("SELECT count(*) FROM fact_search").fetchone()[0] - before_searches)


def load(con, state: dict[str, str], *, overlap: dt.timedelta, id_slack: int, stage, pseudonymise, bar,
         parse_wm) -> dict[str, int | str | None]:
    """Load applications, page views and searches; returns their counts and new watermarks."""
    app_wm = parse_wm(state.get("application_wm"))
    n_apps = load_applications(con, app_wm - overlap if app_wm else None, stage=stage, pseudonymise=pseudonymise,
                               bar=bar)
    view_wm = int(state["page_view_wm"]) if "page_view_wm" in state else None
    search_wm = int(state["search_wm"]) if "search_wm" in state else None
    n_views, n_searches = load_web(con, max(view_wm - id_slack, 0) if view_wm is not None else None,
                                   max(search_wm - id_slack, 0) if search_wm is not None else None,
                                   stage=stage, bar=bar)
    return {
        "applications": n_apps, "page_views": n_views, "searches": n_searches,
        "application_wm": _max_ts(con, "fact_application", "source_updated_at"),
        "page_view_wm": con.execute("SELECT max(view_id) FROM fact_page_view").fetchone()[0],
        "search_wm": con.execute("SELECT max(search_id) FROM fact_search").fetchone()[0],
    }
