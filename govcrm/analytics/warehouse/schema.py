"""The warehouse's star schema (DuckDB DDL) and its version.

Rules:
- Facts carry surrogate keys of the dimensions and no personal data: no names, phone numbers,
  addresses, free text (descriptions, replies, reasons) or source citizen ids. A citizen appears
  only as `citizen_key`, a keyed hash (see `warehouse.source.citizen_key`).
- Dimensions are small and are replaced whole at every refresh; facts are loaded incrementally.
- Timestamps are TIMESTAMPTZ (UTC instants); `date_key` (yyyymmdd) and `month_key` (yyyymm) are
  local dates in settings.TIME_ZONE, computed at load. A case's date is its registration: the time
  of its `register` event (the business time every move is stamped with), else its row's
  `created_at`.
- No primary-key constraints on facts: uniqueness is kept by the loader (delete-then-insert per
  changed case, anti-join on event and interaction ids) and checked by the tests; constraints
  would slow bulk loads and DuckDB's over-eager unique checks refuse delete+insert of one key in
  one transaction.
- A change of SCHEMA_VERSION makes the next refresh drop the tables and rebuild from the source.
"""

from __future__ import annotations

SCHEMA_VERSION = "5"

# Tables in load order; export and the tests walk this list.
DIMENSIONS = ("dim_date", "dim_unit", "dim_category", "dim_area", "dim_channel", "dim_case_type",
              "dim_segment", "dim_citizen")
FACTS = ("fact_case", "fact_case_event", "fact_case_handling", "fact_interaction",
         "fact_application", "fact_page_view", "fact_search")
DDL = """
CREATE TABLE IF NOT EXISTS etl_state (name VARCHAR, value VARCHAR);

CREATE TABLE IF NOT EXISTS dim_date (
    date_key INTEGER, date DATE, year SMALLINT, quarter TINYINT, month TINYINT, month_key INTEGER,
    day TINYINT, iso_week TINYINT, weekday TINYINT, is_workday BOOLEAN);

CREATE TABLE IF NOT EXISTS dim_unit (
    unit_key BIGINT, code VARCHAR, name_zh VARCHAR, name_en VARCHAR, kind VARCHAR, path VARCHAR,
    depth TINYINT, parent_key BIGINT, department_key BIGINT, district_key BIGINT, street_key BIGINT,
    area_key BIGINT, active BOOLEAN);

CREATE TABLE IF NOT EXISTS dim_category (
    category_key BIGINT, code VARCHAR, name_zh VARCHAR, name_en VARCHAR, level TINYINT,
    l1_key BIGINT, l1_code VARCHAR, l1_name_zh VARCHAR, l1_name_en VARCHAR,
    l2_key BIGINT, l2_code VARCHAR, l2_name_zh VARCHAR, l2_name_en VARCHAR,
    l3_key BIGINT, l3_code VARCHAR, l3_name_zh VARCHAR, l3_name_en VARCHAR, active BOOLEAN);

CREATE TABLE IF NOT EXISTS dim_area (
    area_key BIGINT, code VARCHAR, name_zh VARCHAR, name_en VARCHAR, level VARCHAR, path VARCHAR,
    parent_key BIGINT, population BIGINT, population_effective BIGINT,
    district_key BIGINT, street_key BIGINT, grid_key BIGINT);

CREATE TABLE IF NOT EXISTS dim_channel (channel_key VARCHAR, name_zh VARCHAR, name_en VARCHAR);
CREATE TABLE IF NOT EXISTS dim_case_type (case_type_key VARCHAR, name_zh VARCHAR, name_en VARCHAR);

-- Citizen segments (analytics/segmentation.py): key 0 is "too little activity to segment"; the
-- others are clusters named from their centroid, with a key fixed by that name (stable across runs).
CREATE TABLE IF NOT EXISTS dim_segment (
    segment_key SMALLINT, code VARCHAR, name_zh VARCHAR, name_en VARCHAR,
    description_zh VARCHAR, description_en VARCHAR, citizens INTEGER, profile VARCHAR);

CREATE TABLE IF NOT EXISTS dim_citizen (
    citizen_key VARCHAR, kind VARCHAR, preferred_channel VARCHAR, language VARCHAR,
    consent_contact BOOLEAN, merged_into_key VARCHAR, segment_key SMALLINT,
    source_updated_at TIMESTAMPTZ);

CREATE TABLE IF NOT EXISTS fact_case (
    case_id BIGINT, number VARCHAR, case_type VARCHAR, urgency VARCHAR, channel VARCHAR,
    category_key BIGINT, area_key BIGINT, unit_key BIGINT, citizen_key VARCHAR,
    status VARCHAR, close_reason VARCHAR, merged BOOLEAN,
    created_at TIMESTAMPTZ, registered_at TIMESTAMPTZ, date_key INTEGER, month_key INTEGER,
    dispatched_at TIMESTAMPTZ, accepted_at TIMESTAMPTZ, first_contact_at TIMESTAMPTZ,
    replied_at TIMESTAMPTZ, closed_at TIMESTAMPTZ,
    accept_due TIMESTAMPTZ, contact_due TIMESTAMPTZ, reply_due TIMESTAMPTZ,
    dispatch_count SMALLINT, return_count SMALLINT, reopen_count SMALLINT, supervision_level SMALLINT,
    resolved BOOLEAN, satisfied BOOLEAN, rating TINYINT, lat DOUBLE, lon DOUBLE,
    version INTEGER, source_updated_at TIMESTAMPTZ,
    -- derived from the case's events (see warehouse.refresh.DERIVE_SQL)
    first_unit_key BIGINT, first_dispatched_at TIMESTAMPTZ, first_reply_unit_key BIGINT,
    first_dispatch_accurate BOOLEAN, round_contact_at TIMESTAMPTZ,
    transfer_count SMALLINT, arbitrate_count SMALLINT, follow_up_count SMALLINT,
    -- flags computed once at load, so that rate queries test booleans instead of strings and
    -- timestamp pairs (see metrics.RATES)
    counted BOOLEAN, contact_done BOOLEAN, contact_ok BOOLEAN, accept_ok BOOLEAN, reply_ok BOOLEAN);

CREATE TABLE IF NOT EXISTS fact_case_event (
    event_id BIGINT, case_id BIGINT, seq INTEGER, action VARCHAR, actor_role VARCHAR,
    actor_unit_key BIGINT, event_at TIMESTAMPTZ, date_key INTEGER, month_key INTEGER,
    from_status VARCHAR, to_status VARCHAR, reason_code VARCHAR, unit_key BIGINT,
    resolved BOOLEAN, satisfied BOOLEAN, rating TINYINT);

-- One row per time a unit received a case as lead unit (dispatch, dispatch down, transfer,
-- arbitration, reopen) and how that receipt ended: the grain of the return rate.
CREATE TABLE IF NOT EXISTS fact_case_handling (
    case_id BIGINT, seq INTEGER, unit_key BIGINT, via VARCHAR, received_at TIMESTAMPTZ,
    date_key INTEGER, month_key INTEGER, outcome VARCHAR, ended_at TIMESTAMPTZ,
    category_key BIGINT, area_key BIGINT, channel VARCHAR, case_type VARCHAR,
    counted BOOLEAN);  -- false when the case was merged or withdrawn (left out of every rate)

CREATE TABLE IF NOT EXISTS fact_interaction (
    interaction_id BIGINT, channel VARCHAR, direction VARCHAR, citizen_key VARCHAR, case_id BIGINT,
    created_at TIMESTAMPTZ, date_key INTEGER, month_key INTEGER);

-- Applications for catalogue services (govcrm/services): the online funnel started -> submitted ->
-- approved. Dated by when the application was started.
CREATE TABLE IF NOT EXISTS fact_application (
    application_id BIGINT, service_code VARCHAR, citizen_key VARCHAR, unit_key BIGINT, status VARCHAR,
    language VARCHAR, started_at TIMESTAMPTZ, submitted_at TIMESTAMPTZ, decided_at TIMESTAMPTZ,
    approved BOOLEAN, date_key INTEGER, month_key INTEGER, source_updated_at TIMESTAMPTZ);

-- Portal web mining (govcrm/webmining): no address, no citizen; a session is a salted hash that
-- changes every day. A page is its URL pattern; object_kind/object_ref name an article or a service.
CREATE TABLE IF NOT EXISTS fact_page_view (
    view_id BIGINT, session_key VARCHAR, route VARCHAR, path VARCHAR, object_kind VARCHAR, object_ref VARCHAR,
    referrer_path VARCHAR, referrer_site VARCHAR, search_query VARCHAR, language VARCHAR, status SMALLINT,
    duration_ms INTEGER, viewed_at TIMESTAMPTZ, date_key INTEGER, month_key INTEGER);
-- clicked_*: the first page of an article or a service opened from this search's result list, in
-- the same session within 30 minutes (recomputed for the sessions a refresh touches).
CREATE TABLE IF NOT EXISTS fact_search (
    search_id BIGINT, session_key VARCHAR, kind VARCHAR, query VARCHAR, results INTEGER, language VARCHAR,
    searched_at TIMESTAMPTZ, date_key INTEGER, month_key INTEGER,
    clicked_kind VARCHAR, clicked_ref VARCHAR, clicked_at TIMESTAMPTZ);
"""


def ensure(con) -> None:
    """Create the tables (idempotent); drop everything first if the schema version changed."""
    con.execute("CREATE TABLE IF NOT EXISTS etl_state (name VARCHAR, value VARCHAR)")
    row = con.execute("SELECT value FROM etl_state WHERE name = 'schema_version'").fetchone()
    if row and row[0] != SCHEMA_VERSION:
        for table in (*FACTS, *DIMENSIONS, "etl_state"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(DDL)
    if not row or row[0] != SCHEMA_VERSION:
        con.execute("DELETE FROM etl_state WHERE name = 'schema_version'")
        con.execute("INSERT INTO etl_state VALUES ('schema_version', ?)", [SCHEMA_VERSION])
