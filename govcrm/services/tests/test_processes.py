"""Each shipped process end to end: portal application → unit tasks → decision → citizen notified."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import override_settings
from freezegun import freeze_time

from govcrm.common.errors import Forbidden, NotAllowed, ValidationFailed
from govcrm.common.testing.processes import SmtpSink
from govcrm.notifications.actions import notification_send
from govcrm.notifications.models import Notification
from govcrm.services import actions, engine
from govcrm.services.models import Application, ApplicationEvent, ProcessDefinition, WorkItem

from .factories import SUBMITTED, licence_form, residence_form, senior_form, uploads, world

pytestmark = pytest.mark.django_db


def _submit(w, code, form, **kw):
    item = w.item(code)
    return actions.application_submit(service=item, citizen=w.citizen, raw_form=form, uploads=uploads(item),
                                      now=SUBMITTED, **kw)


def _open_item(application) -> WorkItem:
    return application.work_items.get(state=WorkItem.State.OPEN)


def _decide(w, application, username, decision, note=""):
    item = _open_item(application)
    user = w.users[username]
    actions.work_item_claim(work_item_id=item.pk, actor=user, now=SUBMITTED + dt.timedelta(hours=1))
    return actions.work_item_complete(work_item_id=item.pk, actor=user, now=SUBMITTED + dt.timedelta(hours=2),
                                      raw_answers={"decision": decision, "note": note})


def _kinds(application) -> list[str]:
    return list(application.events.values_list("kind", flat=True))


def _send_all():
    for note in Notification.objects.filter(status=Notification.Status.PENDING):
        notification_send(notification_id=note.pk)


def test_senior_allowance_end_to_end_with_a_restart_in_the_middle():
    w = world()
    app = _submit(w, "senior-allowance", senior_form())
    assert app.status == "submitted"
    assert app.form_data["id_number"].startswith("1101") and "*" in app.form_data["id_number"]
    # The ID number is encrypted, not in the workflow data.
    assert "19400301" not in str(app.workflow_state) and "19400301" not in app.sensitive_data
    assert app.current_steps == ["check", "timer_check"]
    item = _open_item(app)
    assert (item.unit.code, item.role, item.task_spec) == ("civil", "handler", "check")
    rule = app.events.get(kind="rule_decided")
    assert rule.data == {"eligible": True, "monthly_amount": 100, "rule_reason": "eligible"}

    # Restart: nothing in memory survives; the stored state is loaded by a fresh engine.
    engine._cache.clear()
    app = Application.objects.get(pk=app.pk)
    app = _decide(w, app, "civil_handler", "approve")
    assert app.status == "in_review"
    assert _open_item(app).role == "manager"
    engine._cache.clear()
    app = _decide(w, Application.objects.get(pk=app.pk), "civil_manager", "approve", "每月10日发放")
    assert app.status == "approved" and app.decided_at is not None
    assert app.current_steps == []
    assert not app.work_items.filter(state__in=["open", "claimed"]).exists()
    kinds = _kinds(app)
    assert kinds[:3] == ["started", "material_uploaded", "material_uploaded"]
    for kind in ("submitted", "service_task", "rule_decided", "task_created", "task_claimed", "in_review",
                 "task_completed", "approved", "citizen_notified"):
        assert kind in kinds
    assert list(app.events.values_list("seq", flat=True)) == list(range(1, len(kinds) + 1))

    # The outcome leaves through the outbox over real SMTP (a local sink), in the citizen's language.
    with SmtpSink() as sink, override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                                               EMAIL_HOST="127.0.0.1", EMAIL_PORT=sink.port):
        _send_all()
    assert len(sink.messages) == 1
    message = sink.messages[0]
    assert app.number in message["Subject"] and "高龄津贴申领" in message["Subject"]
    assert message["X-GovCRM-Application"] == app.number and message["To"] == "wang@example.cn"
    assert "每月10日发放" in message.get_content()
    assert Notification.objects.get(application=app).status == Notification.Status.SENT


def test_senior_allowance_refused_by_the_dmn_table_without_a_task():
    w = world(language="en")
    app = _submit(w, "senior-allowance", senior_form(residence_years="3"))
    assert app.status == "rejected"
    assert not app.work_items.exists()
    assert app.events.get(kind="rule_decided").data["rule_reason"] == "resident_under_5_years"
    assert app.decision_reason == "Five years of registration in the city are required."
    _send_all()
    assert "not approved" in mail.outbox[0].subject


@pytest.mark.parametrize(("birth", "amount"), [(dt.date(1920, 1, 1), 500), (dt.date(1935, 1, 1), 300),
                                               (dt.date(1946, 11, 27), 100)])
def test_senior_allowance_amount_by_age_band(birth, amount):
    from .factories import id_number

    w = world()
    app = _submit(w, "senior-allowance", senior_form(id_number=id_number(birth)))
    assert app.events.get(kind="rule_decided").data["monthly_amount"] == amount


def test_senior_allowance_under_80_is_refused_on_the_day_before_the_birthday():
    from .factories import id_number

    w = world()
    app = _submit(w, "senior-allowance", senior_form(id_number=id_number(dt.date(1946, 11, 28))))
    assert app.status == "rejected" and app.events.get(kind="rule_decided").data["rule_reason"] == "under_80"


def test_business_licence_simple_change_needs_one_task_and_a_major_change_two():
    w = world()
    simple = _submit(w, "business-licence-change", licence_form())
    assert simple.events.get(kind="service_task", step="registry_check").data == {
        "registry": {"found": True, "credit_code": licence_form()["credit_code"]}}
    simple = _decide(w, simple, "market_handler", "accept")
    assert simple.status == "approved"

    major = _submit(w, "business-licence-change", licence_form(change_type="legal_representative"))
    major = _decide(w, major, "market_handler", "accept")
    assert major.status == "in_review" and _open_item(major).task_spec == "approval"
    major = _decide(w, major, "market_manager", "reject", "新法定代表人任职资格材料不全")
    assert major.status == "rejected" and major.decision_reason == "新法定代表人任职资格材料不全"


def test_business_licence_unknown_credit_code_is_refused_by_the_registry_check():
    w = world()
    code = licence_form()["credit_code"]
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    app = _submit(w, "business-licence-change", licence_form(credit_code=wrong))
    assert app.status == "rejected"
    assert "register" in app.decision_reason or "登记" in app.decision_reason


def test_residence_permit_end_to_end_and_a_short_residence_refused():
    w = world()
    app = _submit(w, "residence-permit", residence_form())
    assert _open_item(app).task_spec == "verify"
    app = _decide(w, app, "police_handler", "approve")
    app = _decide(w, app, "police_manager", "approve")
    assert app.status == "approved"

    short = _submit(w, "residence-permit", residence_form(resident_since="2026-08-01"))
    assert short.status == "rejected"
    assert short.events.get(kind="rule_decided").data["rule_reason"] == "resided_less_than_six_months"


def test_timer_fires_on_the_working_day_deadline_and_escalates():
    w = world()
    app = _submit(w, "senior-allowance", senior_form())
    # 20 working days from Fri 27 Nov 2026: the close of business of Fri 25 Dec 2026.
    assert app.due_at.astimezone(SUBMITTED.tzinfo) == dt.datetime(2026, 12, 25, 17, 0, tzinfo=SUBMITTED.tzinfo)
    day_before = dt.datetime(2026, 12, 24, 17, 0, tzinfo=SUBMITTED.tzinfo)
    with freeze_time(day_before):
        assert actions.application_timers_fire(now=day_before) == 0
    after = app.due_at + dt.timedelta(minutes=1)
    with freeze_time(after):
        assert actions.application_timers_fire(now=after) == 1
        assert actions.application_timers_fire(now=after) == 0  # safe to run twice
    app.refresh_from_db()
    assert app.escalated_at == after
    kinds = _kinds(app)
    assert "timer_fired" in kinds and "escalated" in kinds
    assert app.events.get(kind="escalated").unit.code == "civil"
    # Supervisors and the unit see it among the overdue applications; another unit does not.
    from django.test import Client

    for username, shown in (("supervisor", True), ("civil_manager", True), ("market_manager", False)):
        client = Client()
        client.force_login(w.users[username])
        page = client.get("/console/applications/").text
        overdue = page.split('id="overdue-caption"')[1].split("</table>")[0] if shown else ""
        assert (app.number in overdue) == shown and ('id="overdue-caption"' in page) == shown, username
    # Non-interrupting: the task is still waiting and can be done late.
    assert _open_item(app).task_spec == "check"
    with freeze_time(after):
        app = _decide(w, app, "civil_handler", "approve")
    assert _open_item(app).task_spec == "approval"


def test_bad_form_and_bad_files_store_nothing():
    w = world(language="en")
    item = w.item("senior-allowance")
    with pytest.raises(ValidationFailed) as err:
        actions.application_submit(service=item, citizen=w.citizen, language="en",
                                   raw_form=senior_form(id_number="123", residence_years="many", name=""),
                                   uploads=uploads(item), now=SUBMITTED)
    assert err.value.details["id_number"] == "Enter the 18-character resident ID number."
    assert err.value.details["residence_years"] == "Enter a whole number."
    assert err.value.details["name"] == "This field is required."
    with pytest.raises(ValidationFailed) as err:
        actions.application_submit(service=item, citizen=w.citizen, language="zh-hans", raw_form=senior_form(),
                                   uploads=[actions.Upload(key="id_card", name="x.pdf", data=b"MZ\x90\x00 not a pdf")],
                                   now=SUBMITTED)
    assert "material_hukou" in err.value.details and "material_id_card" in err.value.details
    assert Application.objects.count() == 0 and ApplicationEvent.objects.count() == 0


def test_a_running_application_keeps_its_process_version():
    w = world()
    app = _submit(w, "senior-allowance", senior_form())
    v1 = app.process_definition
    bpmn = v1.bpmn_xml.replace("街道初审 First check", "街道初审（新版） First check v2")
    v2, created = actions.process_definition_load(key="senior_allowance", bpmn_xml=bpmn, dmn_xml=v1.dmn_xml)
    assert created and v2.version == v1.version + 1
    again, created = actions.process_definition_load(key="senior_allowance", bpmn_xml=bpmn, dmn_xml=v1.dmn_xml)
    assert again == v2 and not created
    new = _submit(w, "senior-allowance", senior_form())
    assert new.process_definition == v2 and _open_item(new).name == "街道初审（新版） First check v2"
    app = _decide(w, Application.objects.get(pk=app.pk), "civil_handler", "approve")
    assert app.process_definition == v1
    assert app.work_items.get(task_spec="check").name == "街道初审 First check"


def test_an_invalid_process_file_is_refused():
    with pytest.raises(ValidationFailed):
        actions.process_definition_load(key="senior_allowance", bpmn_xml="<not-bpmn/>")
    assert ProcessDefinition.objects.count() == 0


def test_roles_and_states_of_tasks():
    w = world()
    app = _submit(w, "senior-allowance", senior_form())
    item = _open_item(app)
    with pytest.raises(Forbidden):
        actions.work_item_claim(work_item_id=item.pk, actor=w.users["market_handler"])
    with pytest.raises(Forbidden):
        actions.work_item_claim(work_item_id=item.pk, actor=w.users["agent"])
    with pytest.raises(NotAllowed):
        actions.work_item_complete(work_item_id=item.pk, actor=w.users["civil_handler"],
                                   raw_answers={"decision": "approve"})
    actions.work_item_claim(work_item_id=item.pk, actor=w.users["civil_handler"])
    with pytest.raises(NotAllowed):
        actions.work_item_claim(work_item_id=item.pk, actor=w.users["civil_handler"])
    with pytest.raises(ValidationFailed):
        actions.work_item_complete(work_item_id=item.pk, actor=w.users["civil_handler"],
                                   raw_answers={"decision": "maybe"})
    actions.work_item_complete(work_item_id=item.pk, actor=w.users["civil_handler"],
                               raw_answers={"decision": "approve"})
    # a handler may not do the manager's task
    manager_item = _open_item(Application.objects.get(pk=app.pk))
    with pytest.raises(Forbidden):
        actions.work_item_claim(work_item_id=manager_item.pk, actor=w.users["civil_handler"])


def test_withdraw_cancels_the_tasks():
    w = world()
    app = _submit(w, "residence-permit", residence_form())
    app = actions.application_withdraw(application_id=app.pk, citizen=w.citizen)
    assert app.status == "withdrawn"
    assert app.work_items.get().state == WorkItem.State.CANCELLED
    with pytest.raises(NotAllowed):
        actions.application_withdraw(application_id=app.pk, citizen=w.citizen)
