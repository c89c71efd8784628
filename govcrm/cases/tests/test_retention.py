"""Data retention: long-closed cases lose their personal data, keep their statistics; idempotent, audited."""

from __future__ import annotations

import datetime as dt
import io

from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone
from django.utils.module_loading import import_string

from govcrm.audit.models import AuditRecord
from govcrm.cases.actions import CaseInput, case_register
from govcrm.cases.models import Case, CaseEvent
from govcrm.cases.retention import retention_apply
from govcrm.cases.tests.factories import LEAF, register
from govcrm.channels.intake import interaction_attach
from govcrm.channels.models import Attachment, Interaction
from govcrm.channels.uploads import CleanFile
from govcrm.citizens.actions import citizen_input_clean
from govcrm.citizens.models import Citizen, Identity
from govcrm.common.management.commands.worker import PERIODIC

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00"
       b"\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")


def _closed_case(city, *, phone: str, days_ago: int, name: str = "李四") -> Case:
    case = case_register(actor=city.actor("agent"), data=CaseInput(
        category=LEAF, case_type="inquiry", description=f"我是{name}，电话{phone}，住和平街12号。", title="路灯咨询",
        address="和平街12号", area="d1s1g1", lat=39.91234, lon=116.40456,
        citizen=citizen_input_clean(name=name, phone=phone, id_number="11010519491231002X"
                                    if phone.endswith("1") else None),
        resolve_now_reply=f"{name}您好，已转街道。"))
    interaction = Interaction.objects.create(channel="portal", citizen=case.citizen, case=case, subject="照片",
                                             content=f"{name}的留言", data={"from": phone})
    interaction_attach(interaction_id=interaction.pk, file=CleanFile(name="p.png", content_type="image/png", data=PNG))
    then = timezone.now() - dt.timedelta(days=days_ago)
    Case.objects.filter(pk=case.pk).update(closed_at=then, rating=5)
    Citizen.objects.filter(pk=case.citizen_id, created_at__gt=then).update(created_at=then - dt.timedelta(days=1))
    return Case.objects.get(pk=case.pk)


def test_an_old_closed_case_loses_personal_data_and_keeps_its_statistics(city, settings,
                                                                       django_capture_on_commit_callbacks):
    settings.GOVCRM_RETENTION_DAYS = 365
    old = _closed_case(city, phone="+8613900000001", days_ago=400)
    citizen_id = old.citizen_id
    file_name = Attachment.objects.get(interaction__case=old).file.name
    assert default_storage.exists(file_name)
    before = Case.objects.values("number", "category_id", "area_id", "status", "close_reason", "closed_at",
                                 "created_at", "rating", "channel", "case_type", "urgency").get(pk=old.pk)

    with django_capture_on_commit_callbacks(execute=True):
        result = retention_apply()
    assert (result.cases, result.citizens) == (1, 1)

    case = Case.objects.get(pk=old.pk)
    assert (case.description, case.title, case.reply, case.address, case.query_code, case.search_text) == ("",) * 6
    assert case.citizen_id is None and case.anonymised_at is not None
    assert (case.lat, case.lon) == (39.91, 116.4)
    assert Case.objects.values(*before).get(pk=old.pk) == before
    for event in CaseEvent.objects.filter(case=case):
        assert event.reason == ""
        assert "李四" not in str(event.data) and "13900000001" not in str(event.data)
    assert CaseEvent.objects.filter(case=case).count() >= 2  # history kept, only its free text gone
    interaction = Interaction.objects.get(case=case)
    assert (interaction.subject, interaction.content, interaction.data, interaction.citizen_id) == ("", "", {}, None)
    assert not Attachment.objects.filter(interaction__case=case).exists()
    assert not default_storage.exists(file_name)
    citizen = Citizen.objects.get(pk=citizen_id)
    assert citizen.name == "" and not Identity.objects.filter(citizen=citizen).exists()
    record = AuditRecord.objects.get(action="retention.apply")
    assert record.detail["cases"] == 1 and record.detail["citizens"] == 1 and record.actor_name == "system"

    # Idempotent: a second run finds nothing and writes nothing.
    again = retention_apply()
    assert (again.cases, again.citizens) == (0, 0)
    assert AuditRecord.objects.filter(action="retention.apply").count() == 1


def test_recent_and_open_cases_and_active_citizens_are_kept(city, settings):
    settings.GOVCRM_RETENTION_DAYS = 365
    recent = _closed_case(city, phone="+8613900000002", days_ago=100)
    open_case = register(city.actor("agent"), citizen={"name": "王五", "phone": "+8613900000003"})
    # A citizen with an old closed case and a newer open one keeps their record.
    old = _closed_case(city, phone="+8613900000003", days_ago=500, name="王五")
    assert old.citizen_id == open_case.citizen_id

    result = retention_apply()
    assert (result.cases, result.citizens) == (1, 0)
    assert Case.objects.get(pk=recent.pk).description.startswith("我是李四")
    assert Case.objects.get(pk=open_case.pk).citizen_id == open_case.citizen_id
    assert Identity.objects.filter(citizen_id=open_case.citizen_id).exists()
    assert Case.objects.get(pk=old.pk).anonymised_at is not None


def test_dry_run_counts_and_changes_nothing_and_the_command(city, settings, django_capture_on_commit_callbacks):
    settings.GOVCRM_RETENTION_DAYS = 365
    old = _closed_case(city, phone="+8613900000004", days_ago=800)
    file_name = Attachment.objects.get(interaction__case=old).file.name
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        call_command("retention", "apply", "--dry-run", stdout=out)
    assert callbacks == [] and default_storage.exists(file_name)
    assert "would anonymise 1 cases" in out.getvalue() and "1 citizens" in out.getvalue()
    assert Case.objects.get(pk=old.pk).anonymised_at is None
    assert not AuditRecord.objects.filter(action="retention.apply").exists()
    out = io.StringIO()
    call_command("retention", "apply", stdout=out)
    assert "anonymised 1 cases" in out.getvalue()
    settings.GOVCRM_RETENTION_DAYS = 0
    out = io.StringIO()
    call_command("retention", "apply", stdout=out)
    assert "off" in out.getvalue()


def test_the_worker_runs_it_daily(city, settings):
    settings.GOVCRM_RETENTION_DAYS = 365
    assert PERIODIC["govcrm.cases.tasks.apply_retention"] == 86400
    _closed_case(city, phone="+8613900000005", days_ago=400)
    task = import_string("govcrm.cases.tasks.apply_retention")
    assert task.enqueue().return_value == 1
