"""The case table's rows, written in Python (`case_rows`), are the markup of the template loop they replaced."""
# ruff: noqa: E501 - the reference template loop keeps its original long lines

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from govcrm.cases.tests.factories import LEAF, dispatch_rule, register
from govcrm.cases.workflow import Status
from govcrm.console.templatetags.console_tags import case_rows

pytestmark = pytest.mark.django_db

# The loop as it was in console/_case_table.html before case_rows (reference for this test only).
TEMPLATE_LOOP = Template("""{% load console_tags %}  {% for case in cases %}{% with state=case|due_state %}
  <tr>
    <th scope="row"><a href="{% url 'console:case' case.number %}">{{ case.number }}</a>{% if case.urgency != "normal" %} <span class="badge badge-urgent">{{ case.get_urgency_display }}</span>{% endif %}</th>
    <td><span class="status status-{{ case.status }}">{{ case.get_status_display }}</span></td>
    <td>{{ case.category.name }}</td>
    <td class="desc">{{ case.title|default:case.description|truncatechars:60 }}</td>
    <td>{{ case.lead_unit.name|default:"—" }}</td>
    <td>{{ case.area.name|default:"—" }}</td>
    <td>{% if case.reply_due %}<time datetime="{{ case.reply_due|date:'c' }}">{{ case.reply_due|date:"Y-m-d H:i" }}</time>{% if state == "overdue" or state == "due_soon" %} <span class="badge badge-{{ state }}">{{ state|state_label }}</span>{% endif %}{% else %}—{% endif %}</td>
    <td><time datetime="{{ case.created_at|date:'c' }}">{{ case.created_at|date:"Y-m-d H:i" }}</time></td>
  </tr>
  {% endwith %}{% endfor %}""")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_rows_equal_the_template_loop(city, language):
    dispatch_rule(LEAF, city.street1, city.street_area)
    agent = city.actor("agent")
    now = timezone.now()
    long_text = "<b>路灯 & 井盖</b> " + "很长的描述" * 20
    cases = [register(agent), register(agent, description=long_text, urgency="urgent", area=None),
             register(agent, description="The street light is broken", language="en"),
             register(agent, description="噪音扰民 \"quoted\" 'single'")]
    cases[0].status, cases[0].reply_due = Status.IN_PROGRESS, now - dt.timedelta(hours=3)  # overdue
    cases[1].status, cases[1].reply_due = Status.ACCEPTED, now + dt.timedelta(hours=1)  # due soon
    cases[2].reply_due, cases[2].lead_unit = None, None
    cases[3].title = "标题 <script>"
    cases[3].status, cases[3].reply_due, cases[3].paused_at = Status.IN_PROGRESS, now - dt.timedelta(days=1), now
    with translation.override(language):
        expected = TEMPLATE_LOOP.render(Context({"cases": cases}))
        got = "  " + case_rows(cases)
    assert "badge-overdue" in got and "badge-due_soon" in got and "badge-urgent" in got and "&lt;script&gt;" in got
    assert got == expected
