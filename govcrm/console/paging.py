"""Keyset pagination for case lists that stay fast at a million rows.

Rules:
- A page is found by the ordering key of the row before it (`after`) or after it (`before`),
  never by OFFSET, so page 2,000 costs what page 1 costs.
- The queryset's own `order_by` is the key; its last field must be unique (the queues and
  `case_list` end in `id`). Only plain fields of the model are supported.
- NULLs sort as the database sorts them (`nulls_order_largest`), so the cursor works on SQLite
  and PostgreSQL alike.
- At most one COUNT(*) per page, and none when the caller does not ask for a total. With
  `count_cap` the count stops after that many rows (`SELECT count(*) FROM (… LIMIT cap+1)`): a
  list shows "more than 1,000" instead of counting 50,000 matches on every page view.
- A cursor is an opaque, URL-safe token; a malformed one is ignored (first page), since it only
  bounds a query that is already scoped to the actor.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet


@dataclass(frozen=True)
class Page:
    items: list
    total: int | None
    next_cursor: str | None
    prev_cursor: str | None
    total_capped: bool = False  # more than `total` rows: counting stopped at the cap

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_prev(self) -> bool:
        return self.prev_cursor is not None


def _ordering(qs: QuerySet) -> list[tuple[str, bool]]:
    fields = list(qs.query.order_by) or ["pk"]
    out = []
    for f in fields:
        if not isinstance(f, str) or "__" in f or f.lstrip("-") == "?":
            raise ValueError(f"keyset pagination needs plain field ordering, not {f!r}")
        desc = f.startswith("-")
        name = f.lstrip("-")
        out.append(("id" if name == "pk" else name, desc))
    return out


def _encode(values: list[Any]) -> str:
    plain = [{"t": v.isoformat()} if isinstance(v, dt.datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(token: str, qs: QuerySet, order: list[tuple[str, bool]]) -> list[Any] | None:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(raw, list) or len(raw) != len(order):
        return None
    values = []
    for (name, _desc), v in zip(order, raw, strict=True):
        if isinstance(v, dict):
            v = v.get("t")
        if v is None:
            values.append(None)
            continue
        try:
            values.append(qs.model._meta.get_field(name).to_python(v))
        except Exception:  # any malformed value: treat the cursor as absent
            return None
    return values


def _beyond(qs: QuerySet, order: list[tuple[str, bool]], values: list[Any]) -> Q | None:
    """Rows strictly after `values` in `order`; None means no row can follow."""
    name, desc = order[0]
    value = values[0]
    nullable = qs.model._meta.get_field(name).null
    # Where NULLs come in this direction: after every value, or before every value.
    nulls_last = connection.features.nulls_order_largest != desc
    if value is None:
        after: Q | None = None if nulls_last else Q(**{f"{name}__isnull": False})
        equal = Q(**{f"{name}__isnull": True})
    else:
        after = Q(**{f"{name}__{'lt' if desc else 'gt'}": value})
        if nullable and nulls_last:
            after |= Q(**{f"{name}__isnull": True})
        equal = Q(**{name: value})
    if len(order) == 1:
        return after
    rest = _beyond(qs, order[1:], values[1:])
    tie = (equal & rest) if rest is not None else None
    if after is None:
        return tie
    return after if tie is None else (after | tie)


def _after(qs: QuerySet, order: list[tuple[str, bool]], values: list[Any]) -> QuerySet:
    """`qs` narrowed to the rows after `values`.

    The OR of the keyset condition is ANDed with a plain range on the first field (reply_due >= v),
    which lets the database walk the index from the cursor instead of merging two index scans and
    sorting: 8 ms instead of 330 ms on page 2 of a 150,000-case queue (SQLite, 1,000,000 cases).
    """
    cond = _beyond(qs, order, values)
    if cond is None:
        return qs.none()
    name, desc = order[0]
    nulls_last = connection.features.nulls_order_largest != desc
    if values[0] is not None and not (qs.model._meta.get_field(name).null and nulls_last):
        cond = Q(**{f"{name}__{'lte' if desc else 'gte'}": values[0]}) & cond
    return qs.filter(cond)


def _key(obj, order: list[tuple[str, bool]]) -> str:
    return _encode([getattr(obj, name) for name, _desc in order])


def keyset_page(qs: QuerySet, *, size: int, after: str | None = None, before: str | None = None,
                with_total: bool = True, count_cap: int | None = None, known: int | None = None) -> Page:
    """One page of an ordered queryset, and cursors to its neighbours.

    `count_cap`: count at most this many rows; beyond it `total` is the cap and `total_capped` is set.
    `known`: the caller has counted the rows already (at most `count_cap + 1`): no count is made.
    """
    order = _ordering(qs)
    if not with_total:
        total, capped = None, False
    elif known is not None and count_cap is not None:
        total, capped = (count_cap, True) if known > count_cap else (known, False)
    else:
        total, capped = _count(qs, count_cap)
    page = _page(qs, order, size=size, after=after, before=before, total=total)
    return dataclasses.replace(page, total_capped=capped)


def _count(qs: QuerySet, cap: int | None) -> tuple[int, bool]:
    if cap is None:
        return qs.count(), False
    # Only the rows' existence counts: no joins for select_related, no ORDER BY in the subquery.
    n = qs.select_related(None).order_by()[:cap + 1].count()
    return (cap, True) if n > cap else (n, False)


def _page(qs: QuerySet, order: list[tuple[str, bool]], *, size: int, after: str | None, before: str | None,
          total: int | None) -> Page:
    if before:
        values = _decode(before, qs, order)
        if values is not None:
            reverse = [(name, not desc) for name, desc in order]
            rows = list(_after(qs.reverse(), reverse, values)[:size + 1])
            more = len(rows) > size
            rows = rows[:size][::-1]
            return Page(
                items=rows,
                total=total,
                next_cursor=_key(rows[-1], order) if rows else None,
                prev_cursor=_key(rows[0], order) if rows and more else None,
            )
    values = _decode(after, qs, order) if after else None
    page_qs = _after(qs, order, values) if values is not None else qs
    rows = list(page_qs[:size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(
        items=rows,
        total=total,
        next_cursor=_key(rows[-1], order) if rows and more else None,
        prev_cursor=_key(rows[0], order) if rows and values is not None else None,
    )
