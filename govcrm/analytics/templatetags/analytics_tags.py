"""Template filters of the dashboards: table cells as the exports write them, indented options."""

from urllib.parse import urlencode

from django import template

register = template.Library()


@register.filter
def cell(value) -> str:
    """A table cell exactly as the CSV export writes it (no localisation, no thousands separator)."""
    return str(value)


@register.filter
def indent(depth) -> str:
    """Indentation of a tree option: two ideographic spaces per level below the top."""
    try:
        return "\u3000\u3000" * max(int(depth) - 1, 0)
    except (TypeError, ValueError):
        return ""


@register.filter
def urlencode_dict(params: dict) -> str:
    return urlencode(params)


@register.filter
def without(params: dict, name: str) -> dict:
    """The query parameters without one of them (a link up the category trail)."""
    return {k: v for k, v in params.items() if k != name}


@register.filter
def with_value(params: dict, category) -> dict:
    """The query parameters with the category filter set to another category."""
    return {**params, "category": str(category)}
