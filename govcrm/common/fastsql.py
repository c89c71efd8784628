"""Plain SQL for the few statements every intake runs, with the ORM's own field conversions.

Building a statement through the ORM's query compiler costs far more CPU than the database
spends on it: on PostgreSQL, in one process, a `select_related(...).first()` lookup by an
indexed key takes 1.7 ms of Python, the same lookup as a prepared string 0.06 ms; an INSERT
through `Model.objects.create` 0.6 ms, the same INSERT here 0.2 ms (bench/intake_cpu.py,
bench/RESULTS.md). An intake runs about fifteen of them, so on the intake path — and only
there — the statements are written once per model and reused:

- `insert(obj)` writes a model instance as `save(force_insert=True)` would: the same columns,
  `pre_save` (auto_now timestamps, defaults) and `get_db_prep_save` (JSON, dates) of every field,
  the pre_save/post_save signals when something listens (django-tasks-db does), and the new
  primary key set on the object. It does not call a model's own `save()`: use it only for models
  without one (tests/test_fastsql.py checks the rows equal what the ORM writes).
- `fetch_one(model, where, params)` reads one instance (`Model.from_db`, as a queryset would)
  of `SELECT <every column> FROM <table> <where> LIMIT 1`, where `where` may join other tables
  (the model's own table is named by its table name).

The statements are the same on SQLite and PostgreSQL (both support RETURNING).
"""

from __future__ import annotations

from functools import cache
from typing import TypeVar

from django.db import connection
from django.db.models import Model, signals

M = TypeVar("M", bound=Model)


@cache
def _insert_plan(model: type[Model], vendor: str) -> tuple[list, str]:
    meta = model._meta
    fields = [f for f in meta.concrete_fields if f is not meta.auto_field]
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608 - our models' names
    if meta.auto_field is not None:
        sql += f" RETURNING {qn(meta.auto_field.column)}"
    return fields, sql


def insert(obj: M) -> M:
    """INSERT `obj` (a new instance) in one statement; sets its primary key. Returns `obj`."""
    model = type(obj)
    if signals.pre_save.has_listeners(model):  # as Model.save_base sends them
        signals.pre_save.send(sender=model, instance=obj, raw=False, using=connection.alias, update_fields=None)
    fields, sql = _insert_plan(model, connection.vendor)
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if obj._meta.auto_field is not None:
            setattr(obj, obj._meta.auto_field.attname, cursor.fetchone()[0])
    obj._state.adding = False
    obj._state.db = connection.alias
    if signals.post_save.has_listeners(model):
        signals.post_save.send(sender=model, instance=obj, created=True, update_fields=None, raw=False,
                               using=connection.alias)
    return obj


@cache
def _select_plan(model: type[Model], vendor: str) -> tuple[list[str], str]:
    meta = model._meta
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    names = [f.attname for f in meta.concrete_fields]
    columns = ", ".join(f"{table}.{qn(f.column)}" for f in meta.concrete_fields)
    return names, f"SELECT {columns} FROM {table} "  # noqa: S608 - names from our models only


def fetch_one(model: type[M], where: str, params: list) -> M | None:
    """One instance of `model` from `SELECT <its columns> FROM <its table> <where> LIMIT 1`."""
    names, head = _select_plan(model, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(f"{head}{where} LIMIT 1", params)
        row = cursor.fetchone()
    if row is None:
        return None
    converters = _converters(model, connection.vendor)
    values = [conv(v) if conv else v for conv, v in zip(converters, row, strict=True)]
    return model.from_db(connection.alias, names, values)


@cache
def _converters(model: type[Model], vendor: str) -> list:
    """Per column, the backend's and the field's conversion from the database value (or None)."""
    out = []
    for f in model._meta.concrete_fields:
        expression = f.get_col(model._meta.db_table)
        funcs = connection.ops.get_db_converters(expression) + f.get_db_converters(connection)
        if not funcs:
            out.append(None)
            continue

        def convert(value, funcs=funcs, expression=expression):
            for func in funcs:
                value = func(value, expression, connection)
            return value
        out.append(convert)
    return out


def row(sql: str, params: list) -> tuple | None:
    """The first row of `sql` as a tuple of database values, or None."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def value(sql: str, params: list):
    """The first column of the first row of `sql`, or None."""
    found = row(sql, params)
    return found[0] if found else None
