"""The REST API's one error body and the error statuses its operations document.

Every refusal of /api/v1/ is `ErrorOut` (see config/api.py). `errors(...)` is the part of an
operation's `response=` mapping that documents them, so that the OpenAPI document lists every
status the operation can answer (checked by schemathesis in common/tests/test_api_fuzz.py):
401 (no or a bad credential), 403 (no staff role, the role may not, a token without the scope,
a session call without its CSRF token), 429 (too many failed tokens from the address), plus the
statuses the operation adds (404, 409, 422…).
"""

from __future__ import annotations

from ninja import Schema


class ErrorOut(Schema):
    message: str
    code: str
    details: dict[str, str]


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    return dict.fromkeys(sorted({401, 403, 429, *statuses}), ErrorOut)
