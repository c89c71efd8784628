"""Reads from the operational database (SQLite or PostgreSQL) in batches, for the loader.

Rules:
- Queries are built with the ORM (so parameters are adapted per database) and run on Django's
  chunked cursor: a server-side cursor on PostgreSQL, SQLite's own lazy cursor, so memory stays
  at one batch whatever the table size. Values arrive raw (SQLite: datetimes as UTC text,
  booleans as 0/1); the loader casts them in DuckDB with the session in UTC.
- Reads go to the read replica when one is configured (GOVCRM_REPLICA_URL, docs/deploy.md): the
  refresh runs inside `common.replica.replica_reads()` and each batch runs on the connection of
  its queryset's database (`qs.db`), so the primary serves no warehouse load. The watermarks
  tolerate the replica's lag: what it has not replayed yet is read at the next run.
- Personal data is not read: no names, identities, texts or addresses. The citizen id is turned
  into `citizen_key` here, before anything reaches the warehouse: HMAC-SHA256 under a key derived
  from GOVCRM_FIELD_KEY with its own label, so the key cannot be recomputed without the field key,
  and rotating the field key changes every pseudonym (a full rebuild follows).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Iterator

from django.db import connections
from django.db.models import QuerySet, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from govcrm.cases.models import Case, CaseEvent
from govcrm.channels.models import Interaction
from govcrm.citizens.crypto import derive_key
from govcrm.citizens.models import Citizen
from govcrm.webmining.models import PageView, PortalSearch

BATCH = 50_000


@functools.cache
def _pseudonym_key(secret: str) -> bytes:
    return derive_key(b"analytics-pseudonym")


def citizen_key(citizen_id: int | None) -> str | None:
    if citizen_id is None:
        return None
    from django.conf import settings

    key = _pseudonym_key(settings.GOVCRM_FIELD_KEY)
    return hmac.new(key, b"citizen:%d" % citizen_id, hashlib.sha256).hexdigest()[:32]


def _as_text(*names: str) -> dict:
    """Datetime columns read as text: DuckDB parses them far faster than Django's SQLite converter
    (registered for declared datetime columns) builds Python datetimes, row by row. SQLite stores
    UTC text; PostgreSQL prints timestamptz with its offset (Django's sessions run in UTC)."""
    return {f"t_{n}": Cast(n, TextField()) for n in names}


def stream(qs: QuerySet, batch: int = BATCH) -> Iterator[list[tuple]]:
    """The rows of a values_list queryset, raw, in batches of at most `batch`."""
    sql, params = qs.query.sql_with_params()
    cursor = connections[qs.db].chunked_cursor()
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        cursor.close()


# --- what is read: (column name, DuckDB type) with the queryset producing them in that order -------

CASE_COLUMNS: list[tuple[str, str]] = [
    ("case_id", "BIGINT"), ("number", "VARCHAR"), ("case_type", "VARCHAR"), ("urgency", "VARCHAR"),
    ("channel", "VARCHAR"), ("category_key", "BIGINT"), ("area_key", "BIGINT"), ("unit_key", "BIGINT"),
    ("citizen_id", "BIGINT"), ("status", "VARCHAR"), ("close_reason", "VARCHAR"), ("merged_into_id", "BIGINT"),
    ("created_at", "TIMESTAMPTZ"), ("dispatched_at", "TIMESTAMPTZ"), ("accepted_at", "TIMESTAMPTZ"),
    ("first_contact_at", "TIMESTAMPTZ"), ("replied_at", "TIMESTAMPTZ"), ("closed_at", "TIMESTAMPTZ"),
    ("accept_due", "TIMESTAMPTZ"), ("contact_due", "TIMESTAMPTZ"), ("reply_due", "TIMESTAMPTZ"),
    ("dispatch_count", "SMALLINT"), ("return_count", "SMALLINT"), ("reopen_count", "SMALLINT"),
    ("supervision_level", "SMALLINT"), ("resolved", "BOOLEAN"), ("satisfied", "BOOLEAN"),
    ("rating", "TINYINT"), ("lat", "DOUBLE"), ("lon", "DOUBLE"), ("version", "INTEGER"),
    ("source_updated_at", "TIMESTAMPTZ"),
]


def cases_changed(since) -> QuerySet:
    qs = Case.objects.all()
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    times = ("created_at", "dispatched_at", "accepted_at", "first_contact_at", "replied_at", "closed_at",
             "accept_due", "contact_due", "reply_due", "updated_at")
    return qs.order_by().annotate(**_as_text(*times)).values_list(
        "id", "number", "case_type", "urgency", "channel", "category_id", "area_id", "lead_unit_id",
        "citizen_id", "status", "close_reason", "merged_into_id", "t_created_at", "t_dispatched_at",
        "t_accepted_at", "t_first_contact_at", "t_replied_at", "t_closed_at", "t_accept_due", "t_contact_due",
        "t_reply_due", "dispatch_count", "return_count", "reopen_count", "supervision_level", "resolved",
        "satisfied", "rating", "lat", "lon", "version", "t_updated_at",
    )


EVENT_COLUMNS: list[tuple[str, str]] = [
    ("event_id", "BIGINT"), ("case_id", "BIGINT"), ("seq", "INTEGER"), ("action", "VARCHAR"),
    ("actor_role", "VARCHAR"), ("actor_unit_key", "BIGINT"), ("event_at", "TIMESTAMPTZ"),
    ("from_status", "VARCHAR"), ("to_status", "VARCHAR"), ("reason_code", "VARCHAR"),
    ("unit_code", "VARCHAR"), ("resolved", "VARCHAR"), ("satisfied", "VARCHAR"), ("rating", "VARCHAR"),
]


def events(*, after_id: int | None = None, case_ids: list[int] | None = None) -> QuerySet:
    """Events after an id (the incremental path) or of given cases (the repair path).

    Only the structured parts of `data` are read (the unit a move sent the case to, the follow-up
    answers); the reply text and free-form notes stay out.
    """
    qs = CaseEvent.objects.all()
    if after_id is not None:
        qs = qs.filter(id__gt=after_id)
    if case_ids is not None:
        qs = qs.filter(case_id__in=case_ids)
    return qs.order_by().annotate(
        unit_code=KT("data__unit"), ans_resolved=KT("data__resolved"), ans_satisfied=KT("data__satisfied"),
        ans_rating=KT("data__rating"), **_as_text("at"),
    ).values_list(
        "id", "case_id", "seq", "action", "actor_role", "actor_unit_id", "t_at", "from_status", "to_status",
        "reason_code", "unit_code", "ans_resolved", "ans_satisfied", "ans_rating",
    )


CITIZEN_COLUMNS: list[tuple[str, str]] = [
    ("citizen_id", "BIGINT"), ("kind", "VARCHAR"), ("preferred_channel", "VARCHAR"), ("language", "VARCHAR"),
    ("consent_contact", "BOOLEAN"), ("merged_into_id", "BIGINT"), ("source_updated_at", "TIMESTAMPTZ"),
]


def citizens_changed(since) -> QuerySet:
    qs = Citizen.objects.all()
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    return qs.order_by().annotate(**_as_text("updated_at")).values_list(
        "id", "kind", "preferred_channel", "language", "consent_contact", "merged_into_id", "t_updated_at")


INTERACTION_COLUMNS: list[tuple[str, str]] = [
    ("interaction_id", "BIGINT"), ("channel", "VARCHAR"), ("direction", "VARCHAR"), ("citizen_id", "BIGINT"),
    ("case_id", "BIGINT"), ("created_at", "TIMESTAMPTZ"),
]


def interactions(after_id: int | None = None, case_ids: list[int] | None = None) -> QuerySet:
    qs = Interaction.objects.all()
    if after_id is not None:
        qs = qs.filter(id__gt=after_id)
    if case_ids is not None:
        qs = qs.filter(case_id__in=case_ids)
    return qs.order_by().annotate(**_as_text("created_at")).values_list(
        "id", "channel", "direction", "citizen_id", "case_id", "t_created_at")


PAGE_VIEW_COLUMNS: list[tuple[str, str]] = [
    ("view_id", "BIGINT"), ("viewed_at", "TIMESTAMPTZ"), ("session_key", "VARCHAR"), ("route", "VARCHAR"),
    ("path", "VARCHAR"), ("object_kind", "VARCHAR"), ("object_ref", "VARCHAR"), ("referrer_path", "VARCHAR"),
    ("referrer_site", "VARCHAR"), ("search_query", "VARCHAR"), ("language", "VARCHAR"), ("status", "SMALLINT"),
    ("duration_ms", "INTEGER"),
]


def page_views(after_id: int | None = None) -> QuerySet:
    """Portal page views (govcrm/webmining; append-only, read by id). Nothing personal is in them."""
    qs = PageView.objects.all()
    if after_id is not None:
        qs = qs.filter(id__gt=after_id)
    return qs.order_by().annotate(**_as_text("at")).values_list(
        "id", "t_at", "session", "route", "path", "object_kind", "object_ref", "referrer_path", "referrer_site",
        "search_query", "language", "status", "duration_ms")


def oldest_page_view_id() -> int | None:
    """The lowest page view id the source still holds: older ones were pruned (webmining/actions.py)."""
    return PageView.objects.order_by("pk").values_list("pk", flat=True).first()


SEARCH_COLUMNS: list[tuple[str, str]] = [
    ("search_id", "BIGINT"), ("searched_at", "TIMESTAMPTZ"), ("session_key", "VARCHAR"), ("kind", "VARCHAR"),
    ("query", "VARCHAR"), ("results", "INTEGER"), ("language", "VARCHAR"),
]


def searches(after_id: int | None = None) -> QuerySet:
    qs = PortalSearch.objects.all()
    if after_id is not None:
        qs = qs.filter(id__gt=after_id)
    return qs.order_by().annotate(**_as_text("at")).values_list(
        "id", "t_at", "session", "kind", "query", "results", "language")


APPLICATION_COLUMNS: list[tuple[str, str]] = [
    ("application_id", "BIGINT"), ("service_code", "VARCHAR"), ("citizen_id", "BIGINT"), ("unit_key", "BIGINT"),
    ("status", "VARCHAR"), ("language", "VARCHAR"), ("started_at", "TIMESTAMPTZ"), ("submitted_at", "TIMESTAMPTZ"),
    ("decided_at", "TIMESTAMPTZ"), ("source_updated_at", "TIMESTAMPTZ"),
]


def applications_changed(since) -> QuerySet | None:
    """Applications for catalogue services (govcrm/services) changed since a time; None when that app
    is not installed. Form data, reasons and the workflow state stay out."""
    from django.apps import apps

    if not apps.is_installed("govcrm.services"):
        return None
    from govcrm.services.models import Application

    qs = Application.objects.all()
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    return qs.order_by().annotate(**_as_text("created_at", "submitted_at", "decided_at", "updated_at")).values_list(
        "id", "service__code", "citizen_id", "unit_id", "status", "language", "t_created_at", "t_submitted_at",
        "t_decided_at", "t_updated_at")


def count(qs: QuerySet) -> int:
    return qs.order_by().count()

