"""The calls service tasks make to other government systems (registry checks, escalation).

Rules:
- An operator takes the service task's evaluated parameters and the task data and returns a
  JSON-serialisable dict, stored in the task data under the task's result variable.
- Checks that can be made from the data itself are made for real: the unified social credit code
  (GB 32100-2015) and the resident ID number (GB 11643-1999) check digits, the birth date and age
  from the ID number. A deployment that has the department registries plugs their lookups in with
  `register`; none is called over the network from here.
- `escalate_overdue` records that the legal limit passed; the engine's caller (actions) turns it
  into an `escalated` event and marks the application overdue in the unit's queue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

Operator = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
OPERATORS: dict[str, Operator] = {}


def register(name: str) -> Callable[[Operator], Operator]:
    def wrap(fn: Operator) -> Operator:
        OPERATORS[name] = fn
        return fn
    return wrap


class UnknownOperator(Exception):
    pass


def call(name: str | None, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    if name not in OPERATORS:
        raise UnknownOperator(f"no integration named {name!r}")
    return OPERATORS[name](params, data)


CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_valid(code: str) -> bool:
    """GB 32100-2015: 18 characters of the alphabet above, the last a mod-31 check character."""
    code = (code or "").strip().upper()
    if len(code) != 18 or any(c not in CREDIT_ALPHABET for c in code):
        return False
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(code[:17], CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31] == code[17]


def credit_code_with_check(first17: str) -> str:
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return first17 + CREDIT_ALPHABET[(31 - total % 31) % 31]


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_number_with_check(first17: str) -> str:
    return first17 + ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def id_birth_date(number: str) -> dt.date | None:
    """The birth date of a valid 18-digit resident ID number, else None."""
    number = (number or "").strip().upper()
    if len(number) != 18 or not number[:17].isdigit() or id_number_with_check(number[:17]) != number:
        return None
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


@register("enterprise_registry_check")
def enterprise_registry_check(params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    code = str(params.get("credit_code") or "")
    return {"found": credit_code_valid(code), "credit_code": code.strip().upper()}


def sensitive_value(application_id: Any, field: str) -> str:
    """A sensitive answer of the application, decrypted for a check (never put in the workflow data)."""
    from .actions import application_sensitive_data

    return str(application_sensitive_data(application_id=int(application_id)).get(field) or "")


@register("identity_check")
def identity_check(params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Check the ID number of the application's `field` (params: application, field)."""
    birth = id_birth_date(sensitive_value(params.get("application"), str(params.get("field"))))
    on = dt.date.fromisoformat(str(data.get("submitted_on"))[:10])
    if birth is None or birth > on:
        return {"valid": False, "age": 0}
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return {"valid": True, "age": age, "birth_date": birth.isoformat()}


@register("escalate_overdue")
def escalate_overdue(params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    return {"step": params.get("step"), "deadline": data.get("legal_deadline")}
