"""Process definitions uploaded through the admin: a new version when changed, refused when broken."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from govcrm.organization.tests.factories import UserFactory
from govcrm.services.loading import PROCESS_DIR, load_processes
from govcrm.services.models import ProcessDefinition

pytestmark = pytest.mark.django_db


def _admin() -> Client:
    user = UserFactory(username="root")
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def _files(bpmn: str, dmn: str) -> dict:
    return {"bpmn_file": SimpleUploadedFile("senior_allowance.bpmn", bpmn.encode()),
            "dmn_file": SimpleUploadedFile("senior_allowance.dmn", dmn.encode())}


def test_upload_a_changed_process_makes_a_new_version_and_a_broken_one_is_refused():
    load_processes()
    client = _admin()
    bpmn = (PROCESS_DIR / "senior_allowance.bpmn").read_text(encoding="utf-8")
    dmn = (PROCESS_DIR / "senior_allowance.dmn").read_text(encoding="utf-8")
    assert client.get("/admin/services/processdefinition/add/").status_code == 200

    changed = bpmn.replace("街道初审 First check", "社区初审 Community check")
    response = client.post("/admin/services/processdefinition/add/", {"key": "senior_allowance",
                                                                      **_files(changed, dmn)})
    assert response.status_code == 302
    latest = ProcessDefinition.objects.filter(key="senior_allowance").order_by("-version").first()
    assert latest.version == 2 and "社区初审" in latest.bpmn_xml and latest.source == "senior_allowance.bpmn"

    broken = bpmn.replace('calledDecisionId>senior_allowance_eligibility<', 'calledDecisionId>no_such_table<')
    response = client.post("/admin/services/processdefinition/add/", {"key": "senior_allowance",
                                                                      **_files(broken, dmn)})
    assert response.status_code == 200 and "errornote" in response.text
    wrong_key = client.post("/admin/services/processdefinition/add/", {"key": "other", **_files(bpmn, dmn)})
    assert wrong_key.status_code == 200
    assert ProcessDefinition.objects.filter(key="senior_allowance").count() == 2
    assert not ProcessDefinition.objects.filter(key="other").exists()
    # versions are never edited
    assert client.post(f"/admin/services/processdefinition/{latest.pk}/change/", {}).status_code == 403


def test_a_service_item_with_a_broken_form_or_materials_is_refused():
    from django.core.exceptions import ValidationError

    from govcrm.organization.tests.factories import UnitFactory
    from govcrm.services.models import ServiceItem

    item = ServiceItem(code="x", name_zh="某事项", unit=UnitFactory(), time_limit_days=5, online=True,
                       process_key="senior_allowance", form_schema={"type": "object", "properties": {
                           "age": {"type": "no-such-type"}}}, materials=[{"name_en": "only English"}])
    with pytest.raises(ValidationError) as err:
        item.full_clean()
    assert set(err.value.message_dict) == {"form_schema", "materials"}
    item.form_schema = {"type": "object", "properties": {"age": {"type": "integer"}}}
    item.materials = [{"name_zh": "身份证", "name_en": "ID card", "required": True, "key": "id"}]
    item.full_clean()
    item.process_key = None
    with pytest.raises(ValidationError) as err:
        item.full_clean()
    assert set(err.value.message_dict) == {"online"}
