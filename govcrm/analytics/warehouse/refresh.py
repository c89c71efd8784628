"""`govcrm warehouse refresh`: load what changed in the operational database since the last run.

Rules:
- Cases are picked by `updated_at`: every move saves the case (and appends its events) in one
  transaction, so a late status change, a re-categorisation or a merge of an old case bumps its
  `updated_at` and brings it back. Each run re-reads from `watermark - OVERLAP` and replaces
  those cases whole (delete, then insert): re-reading is harmless, and a transaction that
  committed a little after a later one is not missed. A transaction that commits more than
  OVERLAP after it stamped `updated_at` would be; `--full` rebuilds from scratch.
- Events are append-only: new ones are read by id (from `watermark - ID_SLACK`, skipping ids
  already loaded). A case's `version` counts its events, so a changed case with fewer events in
  the warehouse than its version has its events read again by case id (the repair path): an event
  whose id was allocated early but committed late is never lost.
- Derived columns of a case (first dispatched unit, first-dispatch accuracy, contact of the
  current round…) and its handling rows are recomputed from its events whenever the case is
  reloaded. Their definitions are in docs/metrics.md.
- Citizens are picked by `updated_at` like cases; interactions (insert-only in the source) by
  id, and those of every reloaded case again (retention unlinks their citizen). An interaction
  linked to another case after it was loaded keeps its old link until `--full`.
- Dimensions are small and replaced whole at every run; the date dimension spans the data.
- Applications, portal page views and searches are loaded by `behaviour.py` (its rules there; a
  full rebuild of the same source keeps the facts of page views pruned from it);
  the citizen segments are recomputed from the facts (`analytics/segmentation.py`) at a full
  rebuild and when the last segmentation is older than `SEGMENT_EVERY`; between two, a reloaded
  citizen keeps its segment and a new one is in segment 0.
- The operational database is read through the read replica when one is configured
  (`common.replica.replica_reads()`, docs/deploy.md).
- A warehouse loaded from another database (a restored older backup, another DATABASE_URL) is
  noticed by its last event not matching the source, and rebuilt whole: the warehouse is derived
  data, so backups leave it out (docs/backup.md).
- Everything in one DuckDB transaction: a failed run leaves the previous warehouse as it was,
  and a reader never sees half a refresh. An incremental run gives the same tables as a full
  rebuild (tested in tests/test_refresh.py).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils import translation
from tqdm import tqdm

from govcrm.cases.deadlines import calendar_from_db
from govcrm.cases.models import CaseEvent, CaseType, Category, Channel
from govcrm.common.replica import replica_reads
from govcrm.organization.models import Area, Unit

from . import behaviour, connect, schema, source

OVERLAP = dt.timedelta(minutes=10)
ID_SLACK = 1000
REPAIR_CHUNK = 500
SEGMENT_EVERY = dt.timedelta(hours=6)

# Moves that hand the case to a unit as lead 主办, and moves that end a unit's holding of it.
RECEIPTS = ("dispatch", "subdispatch", "transfer", "arbitrate", "reopen")
ENDINGS = ("return", "transfer", "subdispatch", "reply", "withdraw", "merge")


@dataclass(frozen=True)
class RefreshResult:
    full: bool
    cases: int
    events: int
    repaired_cases: int
    citizens: int
    interactions: int
    seconds: float
    applications: int = 0
    page_views: int = 0
    searches: int = 0
    segments: int | None = None  # segments stored by this run; None: segmentation was not due


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _macros(con) -> None:
    tz = settings.TIME_ZONE.replace("'", "")
    con.execute(f"CREATE OR REPLACE TEMP MACRO local_ts(ts) AS timezone('{tz}', ts)")
    con.execute("CREATE OR REPLACE TEMP MACRO date_key(ts) AS "
                "(year(local_ts(ts)) * 10000 + month(local_ts(ts)) * 100 + day(local_ts(ts)))")
    con.execute("CREATE OR REPLACE TEMP MACRO month_key(ts) AS (year(local_ts(ts)) * 100 + month(local_ts(ts)))")


# --- state ------------------------------------------------------------------------------------------

def _state(con) -> dict[str, str]:
    return dict(con.execute("SELECT name, value FROM etl_state").fetchall())


def _set_state(con, **values: str | int | None) -> None:
    for name, value in values.items():
        con.execute("DELETE FROM etl_state WHERE name = ?", [name])
        if value is not None:
            con.execute("INSERT INTO etl_state VALUES (?, ?)", [name, str(value)])


def _parse_wm(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def _max_ts(con, table: str, column: str) -> str | None:
    row = con.execute(f"SELECT strftime(max({column}), '%Y-%m-%dT%H:%M:%S.%f') FROM {table}").fetchone()
    return row[0] if row else None


def _source_replaced(con) -> bool:
    """True when the operational database is not the one the warehouse was loaded from (a restore
    of an older backup, another DATABASE_URL): the last loaded event is missing or different there.
    Such a warehouse holds rows the source no longer has, so the run becomes a full rebuild."""
    row = con.execute("SELECT event_id, case_id, seq, action FROM fact_case_event "
                      "ORDER BY event_id DESC LIMIT 1").fetchone()
    if row is None:
        return False
    there = CaseEvent.objects.filter(pk=row[0]).values_list("case_id", "seq", "action").first()
    return there != tuple(row[1:])


# --- staging: batches of raw source rows into a typed temp table --------------------------------------

def _stage(con, table: str, columns: list[tuple[str, str]], batches: Iterable[list[tuple]],
           bar: tqdm | None, transform: Callable[[list[list]], None] | None = None) -> int:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({', '.join(f'{n} {t}' for n, t in columns)})")
    select = ", ".join(f"CAST(c{i} AS {t})" for i, (_n, t) in enumerate(columns))
    total = 0
    for rows in batches:
        cols = [list(c) for c in zip(*rows, strict=True)]
        if transform:
            transform(cols)
        batch = {f"c{i}": np.array(c, dtype=object) for i, c in enumerate(cols)}  # noqa: F841 - scanned by DuckDB
        con.execute(f"INSERT INTO {table} SELECT {select} FROM batch")
        total += len(rows)
        if bar is not None:
            bar.update(len(rows))
    return total


def _pseudonymise(index: int) -> Callable[[list[list]], None]:
    cache: dict[int, str | None] = {}

    def transform(cols: list[list]) -> None:
        col = cols[index]
        for i, value in enumerate(col):
            if value is not None:
                key = cache.get(value)
                if key is None:
                    key = cache[value] = source.citizen_key(int(value))
                col[i] = key
    return transform


def _bar(progress: bool, desc: str, total: int | None) -> tqdm | None:
    if not progress:
        return None
    return tqdm(total=total, desc=desc, unit=" rows", unit_scale=True, leave=True)


# --- dimensions -------------------------------------------------------------------------------------

def _names(choices) -> list[tuple[str, str, str]]:
    with translation.override("zh-hans"):
        zh = {c.value: str(c.label) for c in choices}
    with translation.override("en"):
        en = {c.value: str(c.label) for c in choices}
    return [(v, zh[v], en[v]) for v in choices.values]


def _ancestor(node_id, parents: dict, kinds: dict, wanted: tuple[str, ...]):
    seen = 0
    while node_id is not None and seen < 64:
        if kinds[node_id] in wanted:
            return node_id
        node_id = parents.get(node_id)
        seen += 1
    return None


def _insert(con, table: str, rows: list[tuple]) -> None:
    con.execute(f"DELETE FROM {table}")
    if not rows:
        return
    cols = [list(c) for c in zip(*rows, strict=True)]
    batch = {f"c{i}": np.array(c, dtype=object) for i, c in enumerate(cols)}  # noqa: F841 - scanned by DuckDB
    types = [r[1] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    select = ", ".join(f"CAST(c{i} AS {t})" for i, t in enumerate(types))
    con.execute(f"INSERT INTO {table} SELECT {select} FROM batch")


def _load_dimensions(con) -> None:
    units = list(Unit.objects.values_list("id", "code", "name_zh", "name_en", "kind", "path", "parent_id",
                                          "area_id", "active"))
    parents = {u[0]: u[6] for u in units}
    kinds = {u[0]: u[4] for u in units}
    _insert(con, "dim_unit", [
        (u[0], u[1], u[2], u[3], u[4], u[5], u[5].count("/") - 1, u[6],
         _ancestor(u[0], parents, kinds, (Unit.Kind.DEPARTMENT, Unit.Kind.AGENCY)),
         _ancestor(u[0], parents, kinds, (Unit.Kind.DISTRICT,)),
         _ancestor(u[0], parents, kinds, (Unit.Kind.STREET,)), u[7], u[8])
        for u in units
    ])
    areas = list(Area.objects.values_list("id", "code", "name_zh", "name_en", "level", "path", "parent_id",
                                          "population"))
    parents = {a[0]: a[6] for a in areas}
    levels = {a[0]: a[4] for a in areas}
    children: dict[int, list[int]] = {}
    for a in areas:
        if a[6] is not None:
            children.setdefault(a[6], []).append(a[0])
    own = {a[0]: a[7] or 0 for a in areas}

    def effective(area_id: int, depth: int = 0) -> int:
        # An area without its own figure counts the residents of its sub-areas.
        if own[area_id] or depth > 16:
            return own[area_id]
        return sum(effective(c, depth + 1) for c in children.get(area_id, []))

    _insert(con, "dim_area", [
        (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], effective(a[0]),
         _ancestor(a[0], parents, levels, (Area.Level.DISTRICT,)),
         _ancestor(a[0], parents, levels, (Area.Level.STREET,)),
         _ancestor(a[0], parents, levels, (Area.Level.GRID,)))
        for a in areas
    ])
    cats = {c[0]: c for c in Category.objects.values_list("id", "code", "name_zh", "name_en", "level",
                                                          "parent_id", "active")}
    rows = []
    for c in cats.values():
        chain = [c]
        while chain[-1][5] is not None and len(chain) < 3:
            chain.append(cats[chain[-1][5]])
        chain.reverse()  # level 1 first
        levels_ = [(x[0], x[1], x[2], x[3]) for x in chain] + [(None,) * 4] * (3 - len(chain))
        rows.append((c[0], c[1], c[2], c[3], c[4], *[v for lv in levels_ for v in lv], c[6]))
    _insert(con, "dim_category", rows)
    _insert(con, "dim_channel", _names(Channel))
    _insert(con, "dim_case_type", _names(CaseType))


def _load_dates(con) -> None:
    row = con.execute("""
        SELECT min(d), max(d) FROM (
            SELECT min(date_key) AS d FROM fact_case UNION ALL SELECT max(date_key) FROM fact_case
            UNION ALL SELECT max(date_key(reply_due)) FROM fact_case
            UNION ALL SELECT min(date_key) FROM fact_interaction UNION ALL SELECT max(date_key) FROM fact_interaction
            UNION ALL SELECT max(date_key) FROM fact_case_event)
    """).fetchone()
    today = dt.datetime.now(dt.UTC).astimezone(calendar_from_db().tz).date()

    def as_date(key: int | None, default: dt.date) -> dt.date:
        return dt.date(key // 10000, key // 100 % 100, key % 100) if key else default

    first = as_date(row[0], today).replace(month=1, day=1)
    last = max(as_date(row[1], today), today).replace(month=12, day=31)
    existing = con.execute("SELECT min(date), max(date) FROM dim_date").fetchone()
    if existing and existing[0] == first and existing[1] == last:
        return
    cal = calendar_from_db()
    rows = []
    day = first
    while day <= last:
        iso = day.isocalendar()
        rows.append((day.year * 10000 + day.month * 100 + day.day, day, day.year, (day.month - 1) // 3 + 1,
                     day.month, day.year * 100 + day.month, day.day, iso.week, iso.weekday, cal.is_workday(day)))
        day += dt.timedelta(days=1)
    _insert(con, "dim_date", rows)


def _load_citizens(con, since: dt.datetime | None, progress: bool) -> int:
    qs = source.citizens_changed(since)
    bar = _bar(progress, "citizens", source.count(qs) if progress else None)
    n = _stage(con, "stage_citizen", source.CITIZEN_COLUMNS, source.stream(qs), bar)
    if bar:
        bar.close()
    # Keys are computed after staging (ids of the citizen and of the one it was merged into).
    ids = [r[0] for r in con.execute(
        "SELECT DISTINCT id FROM (SELECT citizen_id AS id FROM stage_citizen UNION ALL "
        "SELECT merged_into_id FROM stage_citizen) WHERE id IS NOT NULL").fetchall()]
    keys = {"id": np.array(ids, dtype=object), "k": np.array([source.citizen_key(i) for i in ids], dtype=object)}  # noqa: F841
    con.execute("CREATE OR REPLACE TEMP TABLE citizen_keys AS SELECT CAST(id AS BIGINT) AS id, "
                "CAST(k AS VARCHAR) AS k FROM keys")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE new_citizen AS
        SELECT k1.k AS citizen_key, s.kind, s.preferred_channel, s.language, s.consent_contact,
               k2.k AS merged_into_key, coalesce(d.segment_key, CAST(0 AS SMALLINT)) AS segment_key,
               s.source_updated_at
        FROM stage_citizen s JOIN citizen_keys k1 ON k1.id = s.citizen_id
        LEFT JOIN citizen_keys k2 ON k2.id = s.merged_into_id
        LEFT JOIN dim_citizen d ON d.citizen_key = k1.k
    """)
    con.execute("DELETE FROM dim_citizen WHERE citizen_key IN (SELECT citizen_key FROM new_citizen)")
    con.execute("INSERT INTO dim_citizen SELECT * FROM new_citizen")
    return n


# --- facts ------------------------------------------------------------------------------------------

STAGE_CASE_COLUMNS = [("citizen_key", "VARCHAR") if n == "citizen_id" else (n, t) for n, t in source.CASE_COLUMNS]
STAGE_INTERACTION_COLUMNS = [("citizen_key", "VARCHAR") if n == "citizen_id" else (n, t)
                             for n, t in source.INTERACTION_COLUMNS]
CITIZEN_INDEX = [n for n, _t in source.CASE_COLUMNS].index("citizen_id")

INSERT_EVENTS_SQL = """
INSERT INTO fact_case_event
SELECT s.event_id, s.case_id, s.seq, s.action, s.actor_role, s.actor_unit_key, s.event_at, date_key(s.event_at),
       month_key(s.event_at), s.from_status, s.to_status, s.reason_code, u.unit_key,
       CASE lower(s.resolved) WHEN 'true' THEN true WHEN '1' THEN true WHEN 'false' THEN false
            WHEN '0' THEN false END,
       CASE lower(s.satisfied) WHEN 'true' THEN true WHEN '1' THEN true WHEN 'false' THEN false
            WHEN '0' THEN false END,
       TRY_CAST(s.rating AS TINYINT)
FROM (SELECT DISTINCT ON (event_id) * FROM {stage}) s
LEFT JOIN dim_unit u ON u.code = s.unit_code
WHERE NOT EXISTS (SELECT 1 FROM fact_case_event f WHERE f.event_id = s.event_id)
"""

# Per-case figures read from the case's events; see docs/metrics.md for what each one means.
DERIVE_SQL = f"""
CREATE OR REPLACE TEMP TABLE derived AS
WITH ev AS (
    SELECT e.* FROM fact_case_event e WHERE e.case_id IN (SELECT case_id FROM stage_case)
), r AS (
    SELECT case_id,
           coalesce(max(seq) FILTER (WHERE action IN ('register', 'reopen')), 0) AS round_seq,
           min(seq) FILTER (WHERE action = 'reply') AS first_reply_seq,
           count(*) FILTER (WHERE action = 'transfer') AS transfer_count,
           count(*) FILTER (WHERE action = 'arbitrate') AS arbitrate_count,
           count(*) FILTER (WHERE action = 'follow_up') AS follow_up_count
    FROM ev GROUP BY case_id
), d AS (
    SELECT e.case_id,
           min(e.event_at) FILTER (WHERE e.action = 'register') AS registered_at,
           arg_min(e.unit_key, e.seq) FILTER (WHERE e.action = 'dispatch') AS first_unit_key,
           min(e.event_at) FILTER (WHERE e.action = 'dispatch') AS first_dispatched_at,
           arg_max(e.unit_key, e.seq) FILTER (WHERE e.action IN ({_sql_list(RECEIPTS)})
                                              AND e.seq < r.first_reply_seq) AS first_reply_unit_key,
           min(e.event_at) FILTER (WHERE e.action IN ('contact', 'reply') AND e.seq > r.round_seq) AS round_contact_at,
           any_value(r.first_reply_seq) AS first_reply_seq,
           any_value(r.transfer_count) AS transfer_count,
           any_value(r.arbitrate_count) AS arbitrate_count,
           any_value(r.follow_up_count) AS follow_up_count
    FROM ev e JOIN r USING (case_id) GROUP BY e.case_id
)
SELECT d.case_id, d.registered_at, d.first_unit_key, d.first_dispatched_at, d.first_reply_unit_key,
       CASE WHEN d.first_reply_seq IS NULL OR d.first_unit_key IS NULL THEN NULL
            ELSE starts_with(ru.path, fu.path) END AS first_dispatch_accurate,
       d.round_contact_at, d.transfer_count, d.arbitrate_count, d.follow_up_count
FROM d LEFT JOIN dim_unit fu ON fu.unit_key = d.first_unit_key
LEFT JOIN dim_unit ru ON ru.unit_key = d.first_reply_unit_key
"""

INSERT_CASES_SQL = """
INSERT INTO fact_case
SELECT s.case_id, s.number, s.case_type, s.urgency, s.channel, s.category_key, s.area_key, s.unit_key,
       s.citizen_key, s.status, s.close_reason, s.merged_into_id IS NOT NULL, s.created_at,
       coalesce(d.registered_at, s.created_at), date_key(coalesce(d.registered_at, s.created_at)),
       month_key(coalesce(d.registered_at, s.created_at)), s.dispatched_at, s.accepted_at, s.first_contact_at,
       s.replied_at, s.closed_at, s.accept_due, s.contact_due, s.reply_due, s.dispatch_count, s.return_count,
       s.reopen_count, s.supervision_level, s.resolved, s.satisfied, s.rating, round(s.lat, 4), round(s.lon, 4),
       s.version, s.source_updated_at,
       d.first_unit_key, d.first_dispatched_at, d.first_reply_unit_key, d.first_dispatch_accurate,
       d.round_contact_at, coalesce(d.transfer_count, 0), coalesce(d.arbitrate_count, 0),
       coalesce(d.follow_up_count, 0),
       s.merged_into_id IS NULL AND s.close_reason <> 'withdrawn',
       d.round_contact_at IS NOT NULL,
       coalesce(d.round_contact_at <= s.contact_due, false),
       coalesce(s.accepted_at <= s.accept_due, false),
       coalesce(s.replied_at <= s.reply_due, false)
FROM (SELECT DISTINCT ON (case_id) * FROM stage_case ORDER BY case_id, source_updated_at DESC) s
LEFT JOIN derived d USING (case_id)
"""

HANDLING_SQL = f"""
INSERT INTO fact_case_handling
SELECT h.case_id, h.seq, h.unit_key, h.action, h.event_at, h.date_key, h.month_key, h.outcome, h.ended_at,
       c.category_key, c.area_key, c.channel, c.case_type, NOT c.merged AND c.close_reason <> 'withdrawn'
FROM (
    SELECT e.*,
           first_value(CASE WHEN e.action IN ({_sql_list(ENDINGS)}) THEN e.action END IGNORE NULLS) OVER w AS outcome,
           first_value(CASE WHEN e.action IN ({_sql_list(ENDINGS)}) THEN e.event_at END IGNORE NULLS) OVER w AS ended_at
    FROM fact_case_event e
    WHERE e.case_id IN (SELECT case_id FROM stage_case)
    WINDOW w AS (PARTITION BY e.case_id ORDER BY e.seq ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
) h JOIN fact_case c USING (case_id)
WHERE h.action IN ({_sql_list(RECEIPTS)})
"""


def _load_cases(con, since: dt.datetime | None, event_after: int | None, progress: bool) -> tuple[int, int, int]:
    qs = source.cases_changed(since)
    bar = _bar(progress, "cases", source.count(qs) if progress else None)
    n_cases = _stage(con, "stage_case", STAGE_CASE_COLUMNS, source.stream(qs), bar,
                     transform=_pseudonymise(CITIZEN_INDEX))
    if bar:
        bar.close()
    ev_qs = source.events(after_id=event_after)
    bar = _bar(progress, "events", source.count(ev_qs) if progress else None)
    _stage(con, "stage_event", source.EVENT_COLUMNS, source.stream(ev_qs), bar)
    if bar:
        bar.close()
    before = con.execute("SELECT count(*) FROM fact_case_event").fetchone()[0]
    con.execute(INSERT_EVENTS_SQL.format(stage="stage_event"))
    # Repair: changed cases whose events in the warehouse fall short of their version.
    short = [r[0] for r in con.execute("""
        SELECT s.case_id FROM stage_case s
        LEFT JOIN (SELECT case_id, count(*) AS n FROM fact_case_event
                   WHERE case_id IN (SELECT case_id FROM stage_case) GROUP BY case_id) e USING (case_id)
        WHERE coalesce(e.n, 0) < s.version ORDER BY s.case_id
    """).fetchall()]
    if short:
        chunks = (short[i:i + REPAIR_CHUNK] for i in range(0, len(short), REPAIR_CHUNK))
        batches = (rows for chunk in chunks for rows in source.stream(source.events(case_ids=chunk)))
        _stage(con, "stage_repair", source.EVENT_COLUMNS, batches, None)
        con.execute(INSERT_EVENTS_SQL.format(stage="stage_repair"))
    n_events = con.execute("SELECT count(*) FROM fact_case_event").fetchone()[0] - before
    con.execute(DERIVE_SQL)
    con.execute("DELETE FROM fact_case WHERE case_id IN (SELECT case_id FROM stage_case)")
    con.execute(INSERT_CASES_SQL)
    con.execute("DELETE FROM fact_case_handling WHERE case_id IN (SELECT case_id FROM stage_case)")
    con.execute(HANDLING_SQL)
    return n_cases, n_events, len(short)


def _load_interactions(con, after: int | None, progress: bool) -> int:
    qs = source.interactions(after)
    bar = _bar(progress, "interactions", source.count(qs) if progress else None)
    _stage(con, "stage_interaction", STAGE_INTERACTION_COLUMNS, source.stream(qs), bar,
           transform=_pseudonymise(3))
    if bar:
        bar.close()
    # The interactions of reloaded cases are read again too: retention (cases/retention.py) unlinks
    # the citizen from a closed case's contacts and saves the case, and that must reach the
    # warehouse, whose pseudonymous key would otherwise keep linking them.
    cases = [r[0] for r in con.execute(
        "SELECT DISTINCT case_id FROM fact_interaction WHERE case_id IN (SELECT case_id FROM stage_case) "
        "ORDER BY case_id").fetchall()]
    if cases:
        chunks = (cases[i:i + REPAIR_CHUNK] for i in range(0, len(cases), REPAIR_CHUNK))
        batches = (rows for chunk in chunks for rows in source.stream(source.interactions(case_ids=chunk)))
        con.execute("DELETE FROM fact_interaction WHERE case_id IN (SELECT case_id FROM stage_case)")
        _stage(con, "stage_interaction_cases", STAGE_INTERACTION_COLUMNS, batches, None,
               transform=_pseudonymise(3))
        con.execute("INSERT INTO stage_interaction SELECT * FROM stage_interaction_cases")
    before = con.execute("SELECT count(*) FROM fact_interaction").fetchone()[0]
    con.execute("""
        INSERT INTO fact_interaction
        SELECT s.interaction_id, s.channel, s.direction, s.citizen_key, s.case_id, s.created_at,
               date_key(s.created_at), month_key(s.created_at)
        FROM (SELECT DISTINCT ON (interaction_id) * FROM stage_interaction) s
        WHERE NOT EXISTS (SELECT 1 FROM fact_interaction f WHERE f.interaction_id = s.interaction_id)
    """)
    return con.execute("SELECT count(*) FROM fact_interaction").fetchone()[0] - before


def refresh(*, full: bool = False, progress: bool = False, path: Path | None = None) -> RefreshResult:
    """Bring the warehouse up to date (incrementally, or from scratch with `full`)."""
    with replica_reads():
        return _refresh(full=full, progress=progress, path=path)


def _refresh(*, full: bool, progress: bool, path: Path | None) -> RefreshResult:
    from govcrm.analytics import segmentation

    started = time.monotonic()
    con = connect(path=path)
    in_transaction = False
    try:
        schema.ensure(con)
        _macros(con)
        con.execute("BEGIN TRANSACTION")
        in_transaction = True
        state = _state(con)
        replaced = "refreshed_at" in state and _source_replaced(con)
        if full or "refreshed_at" not in state or replaced:
            full = True
            for table in (*schema.FACTS, "dim_citizen"):
                if table == "fact_page_view" and not replaced:
                    behaviour.page_views_clear(con)  # the facts of pruned page views stay
                else:
                    con.execute(f"DELETE FROM {table}")
            state = {}
        case_wm = _parse_wm(state.get("case_wm"))
        citizen_wm = _parse_wm(state.get("citizen_wm"))
        event_wm = int(state["event_wm"]) if "event_wm" in state else None
        interaction_wm = int(state["interaction_wm"]) if "interaction_wm" in state else None
        _load_dimensions(con)
        n_citizens = _load_citizens(con, citizen_wm - OVERLAP if citizen_wm else None, progress)
        n_cases, n_events, repaired = _load_cases(
            con, case_wm - OVERLAP if case_wm else None,
            max(event_wm - ID_SLACK, 0) if event_wm is not None else None, progress)
        n_inter = _load_interactions(con, max(interaction_wm - ID_SLACK, 0) if interaction_wm is not None else None,
                                     progress)
        extra = behaviour.load(con, state, overlap=OVERLAP, id_slack=ID_SLACK, stage=_stage,
                               pseudonymise=_pseudonymise, bar=lambda d, n: _bar(progress, d, n if progress else None),
                               parse_wm=_parse_wm)
        _load_dates(con)
        segmented = _parse_wm(state.get("segmented_at"))
        n_segments = None
        if full or segmented is None or dt.datetime.now(dt.UTC) - segmented >= SEGMENT_EVERY:
            n_segments = len(segmentation.assign(con).segments)
            segmented = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        _set_state(
            con,
            case_wm=_max_ts(con, "fact_case", "source_updated_at"),
            citizen_wm=_max_ts(con, "dim_citizen", "source_updated_at"),
            event_wm=con.execute("SELECT max(event_id) FROM fact_case_event").fetchone()[0],
            interaction_wm=con.execute("SELECT max(interaction_id) FROM fact_interaction").fetchone()[0],
            application_wm=extra["application_wm"], page_view_wm=extra["page_view_wm"],
            search_wm=extra["search_wm"], segmented_at=segmented.isoformat(),
            refreshed_at=dt.datetime.now(dt.UTC).isoformat(),
            **({"rebuilt_at": dt.datetime.now(dt.UTC).isoformat()} if full else {}),
        )
        con.execute("COMMIT")
        in_transaction = False
    except BaseException:
        if in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()
    return RefreshResult(full=full, cases=n_cases, events=n_events, repaired_cases=repaired, citizens=n_citizens,
                         interactions=n_inter, seconds=time.monotonic() - started,
                         applications=extra["applications"], page_views=extra["page_views"],
                         searches=extra["searches"], segments=n_segments)

