"""The "for you" block on the portal's pages: empty unless a citizen is signed in."""

from __future__ import annotations

from django import template
from django.utils import translation

from govcrm.channels.portal.signin import signed_in_citizen

from .. import queries

register = template.Library()
BLOCK_NOTICES = 3
BLOCK_SERVICES = 3


@register.inclusion_tag("personal/_portal_block.html", takes_context=True)
def for_you_block(context):
    request = context.get("request")
    citizen = signed_in_citizen(request) if request is not None else None
    if citizen is None:
        return {"for_you": None}
    found = queries.for_citizen(citizen, language=translation.get_language() or "zh-hans")
    return {"for_you": found, "notices": found.notices[:BLOCK_NOTICES], "services": found.services[:BLOCK_SERVICES]}
