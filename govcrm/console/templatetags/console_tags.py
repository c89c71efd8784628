"""Presentation helpers of the console templates: labels, deadline badges, pager links, the table region.

Rules:
- A deadline is "overdue" once passed while the stage it limits is not done and a unit holds
  the case; "due soon" within GOVCRM_DUE_SOON_HOURS of it; a paused clock shows "paused".
- Labels come from the state table and the models' choices; the console adds the few that
  are not moves (register, merged_in) and the queue names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote

from django import template
from django.conf import settings
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from govcrm.cases.models import Channel, Urgency
from govcrm.cases.workflow import CENTRE, MOVES, UNIT_STATES, CloseReason, PauseReason, ReturnReason, Status
from govcrm.citizens.models import Identity
from govcrm.organization.models import Role

from ..forms import CONTACT_METHODS

register = template.Library()

QUEUE_LABELS = {
    "to_dispatch": _("To dispatch"),
    "to_accept": _("To accept"),
    "in_progress": _("In progress"),
    "due_soon": _("Due soon"),
    "overdue": _("Overdue"),
    "to_review": _("Replies to review"),
    "to_follow_up": _("To follow up"),
    "extensions": _("Extension requests"),
}
EXTRA_ACTION_LABELS = {
    "register": _("Registered"),
    "merged_in": _("Another case was merged in"),
    "citizen_merge": _("Duplicate citizen records merged"),  # govcrm/identity; translated there
    "unmerged_out": _("A merged case was taken out again"),  # govcrm/incidents; translated there
    "incident_reply": _("The lead case's reply was passed on"),  # govcrm/incidents; translated there
}
DEADLINE_LABELS = {
    "accept_due": _("Accept by"),
    "contact_due": _("Contact the citizen by"),
    "reply_due": _("Reply by"),
}
# The time a stage was done, which stops its deadline.
DONE_FIELD = {"accept_due": "accepted_at", "contact_due": "first_contact_at", "reply_due": "replied_at"}


@register.filter
def queue_label(name: str) -> str:
    return QUEUE_LABELS.get(name, name)


@register.filter
def status_label(value: str) -> str:
    if not value:
        return ""
    try:
        return Status(value).label
    except ValueError:
        return value


@register.filter
def action_label(name: str) -> str:
    move = MOVES.get(name)
    return move.label if move else EXTRA_ACTION_LABELS.get(name, name)


def _state(due: dt.datetime | None, done: dt.datetime | None, running: bool, now: dt.datetime) -> str:
    if due is None:
        return ""
    if done is not None:
        return "met" if done <= due else "late"
    if not running:
        return ""
    if due < now:
        return "overdue"
    if due < now + dt.timedelta(hours=settings.GOVCRM_DUE_SOON_HOURS):
        return "due_soon"
    return "ok"


@register.filter
def due_state(case) -> str:
    """The state of a case's reply deadline, for lists."""
    running = case.status in UNIT_STATES and case.paused_at is None
    return _state(case.reply_due, None, running, timezone.now())


@dataclass(frozen=True)
class Deadline:
    label: str
    due: dt.datetime
    state: str  # ok, due_soon, overdue, met, late, or "" when the clock does not run


@register.simple_tag
def case_deadlines(case) -> list[Deadline]:
    now = timezone.now()
    running = case.status in UNIT_STATES and case.paused_at is None
    out = []
    for field, label in DEADLINE_LABELS.items():
        due = getattr(case, field)
        if due is not None:
            out.append(Deadline(label, due, _state(due, getattr(case, DONE_FIELD[field]), running, now)))
    return out


STATE_LABELS = {
    "ok": _("on time"),
    "due_soon": _("due soon"),
    "overdue": _("overdue"),
    "met": _("met"),
    "late": _("done late"),
}


@register.filter
def state_label(state: str) -> str:
    return STATE_LABELS.get(state, "")


@register.simple_tag(takes_context=True)
def page_url(context, key: str, cursor: str) -> str:
    """The current URL with its query string kept and `key`=cursor (the other cursor dropped)."""
    params: QueryDict = context["request"].GET.copy()
    for k in ("after", "before"):
        params.pop(k, None)
    params[key] = cursor
    return "?" + params.urlencode()


DATA_LABELS = {
    "channel": _("channel"),
    "unit": _("unit"),
    "co_units": _("co-handling units"),
    "from_unit": _("from unit"),
    "rule": _("dispatch rule"),
    "reply": _("reply"),
    "resolved": _("resolved"),
    "satisfied": _("satisfied"),
    "rating": _("rating"),
    "days": _("working days"),
    "into": _("merged into"),
    "from": _("merged from"),
    "method": _("contact method"),
    "first": _("first contact"),
    "level": _("supervision level"),
    "resumed": _("clock resumed"),
    "paused_minutes": _("paused (working minutes)"),
    "paused_since": _("paused since"),
    "previous": _("previous follow-up"),
    "old_reply_due": _("previous reply deadline"),
    "new_reply_due": _("new reply deadline"),
}


@register.filter
def data_label(key: str) -> str:
    return DATA_LABELS.get(key, key)


@register.filter
def data_value(value, key: str = "") -> str:
    """An event's data value, readable: labels for known codes, local times, lists joined, yes/no."""
    if key == "channel" and isinstance(value, str):
        return _choice_label(Channel, value)
    if key == "method" and isinstance(value, str):
        return str(dict(CONTACT_METHODS).get(value, value))
    if isinstance(value, str) and (key.endswith("_due") or key.endswith("_since")):
        try:
            return date_format(timezone.localtime(dt.datetime.fromisoformat(value)), "Y-m-d H:i")
        except ValueError:
            return value
    if isinstance(value, bool):
        return yesno_label(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{data_label(k)}: {data_value(v, k)}" for k, v in value.items())
    if value is None:
        return "—"
    return str(value)


@register.simple_tag(takes_context=True)
def first_page_url(context) -> str:
    params: QueryDict = context["request"].GET.copy()
    for k in ("after", "before"):
        params.pop(k, None)
    return "?" + params.urlencode()


@register.filter
def takes_calls(actor) -> bool:
    """Whether the actor may use phone intake (the hotline centre's working roles)."""
    return getattr(actor, "role", None) in CENTRE


@register.filter
def role_label(value: str) -> str:
    return _choice_label(Role, value)


@register.filter
def reason_label(value: str) -> str:
    for choices in (ReturnReason, PauseReason):
        if value in choices.values:
            return choices(value).label
    return value


@register.filter
def close_reason_label(value: str) -> str:
    return _choice_label(CloseReason, value)


@register.filter
def identity_label(kind: str) -> str:
    return _choice_label(Identity.Kind, kind)


@register.filter
def language_label(code: str) -> str:
    return dict(settings.LANGUAGES).get(code, code)


@register.filter
def yesno_label(value) -> str:
    if value is None:
        return "—"
    return str(_("yes") if value else _("no"))


def _choice_label(choices, value: str) -> str:
    try:
        return choices(value).label
    except ValueError:
        return value or ""


@register.filter
def page_total(page) -> str:
    """A list's count as shown: exact, or "more than 1,000" when counting stopped at the cap."""
    if page.total_capped:
        return _("more than %(n)s") % {"n": f"{page.total:,}"}
    return str(page.total)


@register.simple_tag
def case_rows(cases) -> str:
    """The rows of `_case_table.html`, written in Python: the same markup as the template loop it
    replaced (a test compares them) at a fraction of its cost (profiled: Django's choice display,
    date filters, reverse() and format_html per cell were most of the overview page)."""
    now = timezone.now()
    labels = {"status": dict(Status.choices), "urgency": dict(Urgency.choices),
              "state": {k: escape(v) for k, v in STATE_LABELS.items()}}
    link = reverse("console:case", args=["0"])[:-2]  # …/cases/<number>/
    return mark_safe("".join(_case_row(case, now, labels, link) for case in cases))  # noqa: S308 - every value escaped


def _when(value: dt.datetime) -> str:
    local = timezone.localtime(value)  # as the template's date filter shows it
    return f'<time datetime="{local.isoformat()}">{local.strftime("%Y-%m-%d %H:%M")}</time>'


def _case_row(case, now: dt.datetime, labels: dict, link: str) -> str:
    urgency = ""
    if case.urgency != "normal":
        label = labels["urgency"].get(case.urgency, case.urgency)
        urgency = f' <span class="badge badge-urgent">{escape(label)}</span>'
    due = "—"
    if case.reply_due:
        state = _state(case.reply_due, None, case.status in UNIT_STATES and case.paused_at is None, now)
        badge = (f' <span class="badge badge-{state}">{labels["state"][state]}</span>'
                 if state in ("overdue", "due_soon") else "")
        due = _when(case.reply_due) + badge
    number = escape(case.number)
    href = f'{link}{escape(quote(case.number, safe=""))}/'
    return (
        f'\n  <tr>\n    <th scope="row"><a href="{href}">{number}</a>{urgency}</th>\n'
        f'    <td><span class="status status-{escape(case.status)}">'
        f'{escape(labels["status"].get(case.status, case.status))}</span></td>\n'
        f"    <td>{escape(case.category.name)}</td>\n"
        f'    <td class="desc">{escape(Truncator(case.title or case.description).chars(60))}</td>\n'
        f'    <td>{escape((case.lead_unit.name if case.lead_unit else "") or "—")}</td>\n'
        f'    <td>{escape((case.area.name if case.area else "") or "—")}</td>\n'
        f"    <td>{due}</td>\n"
        f"    <td>{_when(case.created_at)}</td>\n"
        "  </tr>\n  "
    )


class TableRegionNode(template.Node):
    def __init__(self, nodelist, region_id, caption):
        self.nodelist, self.region_id, self.caption = nodelist, region_id, caption

    def render(self, context) -> str:
        table = mark_safe(self.nodelist.render(context))  # noqa: S308 - rendered (and escaped) by the template
        with context.push(region_id=self.region_id.resolve(context), caption=self.caption.resolve(context),
                          table=table):
            return context.template.engine.get_template("console/_table_region.html").render(context)


@register.tag
def table_region(parser, token):
    """`{% table_region "x-caption" caption %}<thead>…</thead><tbody>…</tbody>{% endtable_region %}`:
    a list's table inside the scrolling region every console list uses (`console/_table_region.html`):
    the region is focusable and named by the table's caption, whose id is the first argument."""
    bits = token.split_contents()
    if len(bits) != 3:
        raise template.TemplateSyntaxError(f"{bits[0]} takes the caption's id and the caption")
    nodelist = parser.parse(("endtable_region",))
    parser.delete_first_token()
    return TableRegionNode(nodelist, parser.compile_filter(bits[1]), parser.compile_filter(bits[2]))
