"""Template helpers of the portal."""

from django import template

from ..signin import masked, signed_in_identity

register = template.Library()


@register.simple_tag(takes_context=True)
def signed_in_as(context) -> str:
    """The signed-in citizen's phone or e-mail, masked (138****8000), or ""."""
    request = context.get("request")
    return masked(signed_in_identity(request)) if request is not None else ""
