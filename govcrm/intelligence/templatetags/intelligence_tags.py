from django import template

from ..models import Feedback, Suggestion

register = template.Library()


@register.filter
def pct(value) -> str:
    """0.934 → "93.4%"; None → "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.1f}%"


@register.filter
def feedback_label(kind: str) -> str:
    try:
        return Feedback.Kind(kind).label
    except ValueError:
        return kind


@register.filter
def outcome_label(outcome: str | None) -> str:
    try:
        return Suggestion.Outcome(outcome).label
    except ValueError:
        return ""
