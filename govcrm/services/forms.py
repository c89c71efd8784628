"""Forms described as JSON Schema: the fields to render, the typed answers, the errors in the
reader's language.

Rules:
- Our schemas are flat objects (one level of `properties`); a property may carry `title` (Chinese),
  `x-title-en`, `description` / `x-description-en`, `enum` with `x-enum-zh` / `x-enum-en` labels,
  `format: date`, `x-widget: textarea`, and the usual limits (`maxLength`, `minimum`, `pattern`…).
- Posted strings are converted to the schema's types (integer, number, boolean) before
  validation, and the whole answer is validated with `jsonschema` (Draft 2020-12, formats
  checked). Each error becomes one message per field, in the active language, from our own
  catalogue: jsonschema's English messages are never shown.
- Fields not in the schema are dropped; a field left empty is absent, so `required` catches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema
from django.utils.translation import get_language
from django.utils.translation import gettext as _

VALIDATOR = jsonschema.Draft202012Validator


def _en() -> bool:
    return (get_language() or "zh-hans").startswith("en")


def label(prop: dict, key: str) -> str:
    if _en():
        return prop.get("x-title-en") or prop.get("title") or key
    return prop.get("title") or key


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    help: str
    kind: str  # text, textarea, date, number, integer, select, checkbox
    required: bool
    choices: list[tuple[str, str]]
    value: Any
    error: str
    max_length: int | None


def fields(schema: dict | None, values: dict | None = None, errors: dict | None = None) -> list[Field]:
    schema = schema or {}
    values = values or {}
    errors = errors or {}
    required = set(schema.get("required", []))
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        kind = "text"
        choices: list[tuple[str, str]] = []
        if "enum" in prop:
            kind = "select"
            labels = prop.get("x-enum-en" if _en() else "x-enum-zh") or prop["enum"]
            choices = [(str(v), str(lab)) for v, lab in zip(prop["enum"], labels, strict=False)]
        elif prop.get("type") == "boolean":
            kind = "checkbox"
        elif prop.get("type") in {"integer", "number"}:
            kind = prop["type"]
        elif prop.get("format") == "date":
            kind = "date"
        elif prop.get("x-widget") == "textarea":
            kind = "textarea"
        help_text = (prop.get("x-description-en") if _en() else None) or prop.get("description", "")
        out.append(Field(name=name, label=label(prop, name), help=help_text, kind=kind,
                         required=name in required, choices=choices, value=values.get(name, ""),
                         error=errors.get(name, ""), max_length=prop.get("maxLength")))
    return out


def coerce(schema: dict | None, raw: Any) -> tuple[dict, dict[str, str]]:
    """The posted values converted to the schema's types; type errors as field messages."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, prop in ((schema or {}).get("properties") or {}).items():
        kind = prop.get("type")
        if kind == "boolean":
            value = raw.get(name)
            data[name] = value in {"on", "true", "1", True}
            continue
        value = raw.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                continue
        try:
            if kind == "integer":
                data[name] = int(value)
            elif kind == "number":
                data[name] = float(value)
            else:
                data[name] = str(value)
        except (TypeError, ValueError):
            errors[name] = _("Enter a whole number.") if kind == "integer" else _("Enter a number.")
    return data, errors


def _message(error: jsonschema.ValidationError, prop: dict) -> str:
    v = error.validator
    if v == "required":
        return _("This field is required.")
    if v == "enum":
        return _("Choose one of the options.")
    if v == "maxLength":
        return _("At most %(n)d characters.") % {"n": error.validator_value}
    if v == "minLength":
        return _("At least %(n)d characters.") % {"n": error.validator_value}
    if v in {"minimum", "exclusiveMinimum"}:
        return _("The smallest allowed value is %(n)s.") % {"n": error.validator_value}
    if v in {"maximum", "exclusiveMaximum"}:
        return _("The largest allowed value is %(n)s.") % {"n": error.validator_value}
    if v == "format" and error.validator_value == "date":
        return _("Enter a date as YYYY-MM-DD.")
    if v == "pattern":
        custom = prop.get("x-pattern-message-en" if _en() else "x-pattern-message-zh")
        return custom or _("This value is not in the expected form.")
    if v == "type":
        return _("This value has the wrong type.")
    return _("This value is not valid.")


def validate(schema: dict | None, raw: Any) -> tuple[dict, dict[str, str]]:
    """(clean data, errors by field). Empty errors: the data satisfies the schema."""
    schema = schema or {"type": "object", "properties": {}}
    data, errors = coerce(schema, raw)
    props = schema.get("properties") or {}
    validator = VALIDATOR(schema, format_checker=VALIDATOR.FORMAT_CHECKER)
    for error in validator.iter_errors(data):
        if error.validator == "required":
            missing = [name for name in error.validator_value if name not in data]
            for name in missing:
                errors.setdefault(name, _message(error, props.get(name, {})))
            continue
        name = str(error.path[0]) if error.path else "__all__"
        errors.setdefault(name, _message(error, props.get(name, {})))
    return data, errors
