"""The portal and console pages of the services app, through Django's test client."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from govcrm.services.models import Application, ApplicationEvent, ApplicationMaterial, WorkItem

from .factories import PDF, senior_form, world

pytestmark = pytest.mark.django_db


def _signed_in(email="wang@example.cn", language="zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    assert client.post("/signin/", {"identity": email}).status_code == 302
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    assert client.post("/signin/code/", {"code": code}).status_code == 302
    return client


def _files():
    return {"material_id_card": _pdf("id.pdf"), "material_hukou": _pdf("hukou.pdf")}


def _pdf(name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def test_catalogue_and_item_pages_in_both_languages():
    world()
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/services/")
    assert zh.status_code == 200 and "高龄津贴申领" in zh.text
    en = Client(HTTP_ACCEPT_LANGUAGE="en").get("/services/senior-allowance/")
    assert en.status_code == 200
    for text in ("Senior allowance", "Civil Affairs Bureau", "20 working days", "Household register",
                 "Law on the Protection of the Rights and Interests of the Elderly"):
        assert text in en.text
    only_business = Client(HTTP_ACCEPT_LANGUAGE="en").get("/services/?tag=business").text
    assert "Business licence change" in only_business and "Senior allowance" not in only_business


def test_apply_needs_a_signed_in_citizen():
    world()
    response = Client().get("/services/senior-allowance/apply/")
    assert response.status_code == 403
    assert Client().post("/services/senior-allowance/apply/", senior_form()).status_code == 403
    assert Application.objects.count() == 0


def test_apply_online_then_follow_the_status():
    w = world()
    client = _signed_in()
    page = client.get("/services/senior-allowance/apply/")
    assert page.status_code == 200 and 'name="residence_years"' in page.text and 'type="file"' in page.text
    response = client.post("/services/senior-allowance/apply/", {**senior_form(), **_files()})
    assert response.status_code == 302
    application = Application.objects.get()
    assert response["Location"] == f"/services/applications/{application.number}/"
    assert application.citizen == w.citizen and application.materials.count() == 2
    status = client.get(response["Location"])
    assert status.status_code == 200 and "已提交" in status.text
    assert application.number in client.get("/services/mine/").text
    # someone else's browser does not see it
    assert _signed_in("other@example.cn").get(response["Location"]).status_code == 404


def test_bad_form_input_stores_nothing_and_says_why_in_the_users_language():
    world()
    client = _signed_in(language="en")
    response = client.post("/services/senior-allowance/apply/",
                           {**senior_form(id_number="12345", residence_years="abc"), **_files()})
    assert response.status_code == 422
    assert "Enter the 18-character resident ID number." in response.text
    assert "Enter a whole number." in response.text
    zh = _signed_in("li@example.cn", language="zh-hans")
    response = zh.post("/services/senior-allowance/apply/",
                       {**senior_form(), "material_id_card": _pdf("id.pdf")})  # the household register is missing
    assert response.status_code == 422 and "此项材料为必交材料。" in response.text
    assert Application.objects.count() == 0
    assert ApplicationEvent.objects.count() == 0 and ApplicationMaterial.objects.count() == 0


def test_console_queue_detail_and_decision_scoped_by_unit_and_role():
    w = world()
    client = _signed_in()
    client.post("/services/senior-allowance/apply/", {**senior_form(), **_files()})
    application = Application.objects.get()
    detail = f"/console/applications/{application.number}/"

    handler = Client()
    handler.force_login(w.users["civil_handler"])
    queue = handler.get("/console/applications/")
    assert queue.status_code == 200 and application.number in queue.text
    page = handler.get(detail)
    assert page.status_code == 200
    assert 'id="process-diagram-data"' in page.text and '"current": ["check", "timer_check"]' in page.text
    assert "1101" in page.text and "19400301" not in page.text  # the ID number masked

    outsider = Client()
    outsider.force_login(w.users["market_handler"])
    assert application.number not in outsider.get("/console/applications/").text
    assert outsider.get(detail).status_code == 404
    item = WorkItem.objects.get()
    assert outsider.post(f"{detail}tasks/{item.pk}/claim/").status_code == 404

    supervisor = Client()
    supervisor.force_login(w.users["supervisor"])
    assert supervisor.get(detail).status_code == 200  # the centre answers callers' questions
    assert supervisor.post(f"{detail}tasks/{item.pk}/claim/").status_code == 403

    assert handler.post(f"{detail}tasks/{item.pk}/complete/", {"decision": "approve"}).status_code == 409
    assert handler.post(f"{detail}tasks/{item.pk}/claim/").status_code == 302
    bad = handler.post(f"{detail}tasks/{item.pk}/complete/", {"decision": "perhaps"})
    assert bad.status_code == 422 and "请从选项中选择一项。" in bad.text
    assert handler.post(f"{detail}tasks/{item.pk}/complete/", {"decision": "approve"}).status_code == 302
    manager_item = WorkItem.objects.get(state="open")
    assert handler.post(f"{detail}tasks/{manager_item.pk}/claim/").status_code == 403
    manager = Client()
    manager.force_login(w.users["civil_manager"])
    assert manager.post(f"{detail}tasks/{manager_item.pk}/claim/").status_code == 302
    assert manager.post(f"{detail}tasks/{manager_item.pk}/complete/",
                        {"decision": "approve", "note": "同意"}).status_code == 302
    application.refresh_from_db()
    assert application.status == "approved"
    assert "已批准" in client.get(f"/services/applications/{application.number}/").text
    material = application.materials.first()
    download = handler.get(f"{detail}materials/{material.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert outsider.get(f"{detail}materials/{material.pk}/").status_code == 404


@pytest.mark.parametrize(("target", "back_to"), [
    ("/services/senior-allowance/apply/", "/services/senior-allowance/apply/"),
    ("https://evil.example/phish", "/mine/"),
    ("//evil.example/phish", "/mine/"),
])
def test_signing_in_from_the_application_form_comes_back_to_it(target, back_to):
    world()
    client = Client()
    page = client.get("/services/senior-allowance/apply/")
    assert 'href="/signin/?next=/services/senior-allowance/apply/"' in page.text
    assert client.get("/signin/", {"next": target}).status_code == 200
    assert client.post("/signin/", {"identity": "wang@example.cn"}).status_code == 302
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    response = client.post("/signin/code/", {"code": code})
    assert response.status_code == 302 and response["Location"] == back_to
