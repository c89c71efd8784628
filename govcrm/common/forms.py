"""Shared by the server-rendered UIs (console, portal): a refused action's details on a form,
and a <select> for long choice lists (`LongSelect`, `ReadyChoices`, `ListChoiceField`)."""

from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.choices import BaseChoiceIterator, flatten_choices
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

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


class LongSelect(forms.Select):
    """A single <select> written in Python, with the same HTML as Django's template-rendered one.

    Django renders every <option> through a template include: for the ~150 categories of the
    portal form that was 6–7 ms of CPU per page view, most of the page (profiled for
    bench/load.py); this is a string join.
    """

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        chosen = set(self.format_value(value))
        parts: list[str] = []
        seen = False

        def option(option_value, label) -> str:
            nonlocal seen
            v = "" if option_value is None else str(option_value)
            is_chosen = not seen and v in chosen
            seen = seen or is_chosen
            return format_html('<option value="{}"{}>{}</option>', v, mark_safe(" selected") if is_chosen else "",
                               label)

        for group_value, group_label in self.choices:
            if isinstance(group_label, list | tuple):
                parts.append(format_html('<optgroup label="{}">', group_value))
                parts.extend(option(v, label) for v, label in group_label)
                parts.append("</optgroup>")
            else:
                parts.append(option(group_value, group_label))
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(final), mark_safe("".join(parts)))  # noqa: S308 - every part is escaped above


class ReadyChoices(BaseChoiceIterator):
    """A long choice list already in Django's normal form (pairs, or optgroups of pairs), built once
    and kept as reference data (`common.reference.cached`).

    A ChoiceField given a plain list normalises it again on every form (one tuple per category,
    unit or area: a twentieth of a portal intake's CPU, bench/RESULTS.md session 7) and checks a
    submitted value by walking it; given this, it keeps the list as it is, and `ListChoiceField`
    checks the value in a set.
    """

    def __init__(self, choices) -> None:
        self.choices = list(choices)
        self.values = frozenset(str(value) for value, _label in flatten_choices(self.choices))

    def __iter__(self):
        return iter(self.choices)

    def __len__(self) -> int:
        return len(self.choices)


class ListChoiceField(forms.ChoiceField):
    """A choice field for long lists: rendered by `LongSelect`, checked against `ReadyChoices`' set."""

    widget = LongSelect

    def valid_value(self, value) -> bool:
        if isinstance(self.choices, ReadyChoices):
            return str(value) in self.choices.values
        return super().valid_value(value)
