"""Shared by the server-rendered UIs (console, portal): a refused action's details on a form."""

from __future__ import annotations

from django import forms

from .errors import DomainError


def apply_error(form: forms.Form, err: DomainError, field_map: dict[str, str] | None = None, *,
                top: bool = True) -> None:
    """Put a refused request's details on the form's fields; its message on top unless `top` is off
    (when the page shows the message itself) or a field took a detail."""
    field_map = field_map or {}
    placed = False
    for key, message in err.details.items():
        name = field_map.get(key, key)
        if name in form.fields:
            form.add_error(name, message)
            placed = True
    if top and not placed:
        form.add_error(None, err.message)
