"""The console pages: role scoping, masking and audited clear reads, the upload with its report."""

import pytest

from govcrm.audit.models import AuditRecord
from govcrm.citizens.actions import citizen_find_or_create, citizen_input_clean
from govcrm.identity.actions import registry_import
from govcrm.identity.models import MatchProposal, RegistryImport, ResidentRecord
from govcrm.organization.queries import SYSTEM

from .factories import GOOD_RESIDENTS, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db
ID = GOOD_RESIDENTS[0][1]


@pytest.fixture
def link_proposal(city):
    citizen = citizen_find_or_create(data=citizen_input_clean(name="张伟", phone="13800138001"))
    registry_import(actor=SYSTEM, data=csv_bytes(GOOD_RESIDENTS), file_name="户籍.csv", kind="residents",
                    source="公安局户籍科")
    resident = ResidentRecord.objects.get(name="张伟")
    return MatchProposal.objects.create(
        kind="link", pair_key=f"c:{citizen.pk}|r:{resident.pk}", citizen=citizen, resident=resident,
        match_weight=21.5, match_probability=0.99999,
        levels={"name": 3, "phone": 2, "id_number": -1, "birth_date": -1, "address": -1},
        weights={"name": 8.2, "phone": 13.3, "id_number": 0, "birth_date": 0, "address": 0})


@pytest.mark.parametrize("username", ["agent", "dispatcher", "analyst", "street_handler", "district_manager"])
def test_other_roles_are_refused(client_for, link_proposal, username):
    client = client_for(username)
    for url in ("/console/identity/", f"/console/identity/proposals/{link_proposal.pk}/",
                "/console/identity/registries/", f"/console/identity/registries/{RegistryImport.objects.get().pk}/"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/console/identity/proposals/{link_proposal.pk}/accept/").status_code == 403
    assert MatchProposal.objects.get().status == "pending"


def test_anonymous_is_sent_to_sign_in(client, link_proposal):
    response = client.get("/console/identity/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_supervisor_sees_masked_id_and_no_audit_of_it(client_for, link_proposal):
    page = client_for("supervisor", language="en").get(f"/console/identity/proposals/{link_proposal.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert ID not in html and ID[:3] + "*" * 11 + ID[-4:] in html  # ID masked for a supervisor
    assert "+8613800138001" in html  # a supervisor calls back: the phone in clear
    assert "same phone" in html and "13.30" in html and "missing on one side" in html
    reads = AuditRecord.objects.filter(action="citizen.read_sensitive")
    assert {(r.object_type, tuple(r.detail["fields"])) for r in reads} == {
        ("citizens.citizen", ("phone",)), ("identity.residentrecord", ("phone",))}


def test_admin_sees_the_id_in_clear_and_the_read_is_audited(client_for, link_proposal):
    html = client_for("admin", language="zh-hans").get(f"/console/identity/proposals/{link_proposal.pk}/")
    html = html.content.decode()
    assert ID in html and "接受" in html
    read = AuditRecord.objects.get(action="citizen.read_sensitive", object_type="identity.residentrecord")
    assert read.actor_name == "admin" and read.detail["fields"] == ["id_card", "phone"]


def test_lists_show_masked_values_only(client_for, link_proposal):
    client = client_for("supervisor", language="en")
    html = client.get("/console/identity/").content.decode()
    assert f"/console/identity/proposals/{link_proposal.pk}/" in html and "张*" in html
    batch = RegistryImport.objects.get()
    html = client.get(f"/console/identity/registries/{batch.pk}/").content.decode()
    assert ID not in html and "138****8001" in html and "张*" in html
    assert not AuditRecord.objects.filter(object_type="identity.residentrecord").exists()


def test_accept_by_post_links_the_registry_record(client_for, link_proposal):
    client = client_for("supervisor", language="en")
    assert client.get(f"/console/identity/proposals/{link_proposal.pk}/accept/").status_code == 405
    response = client.post(f"/console/identity/proposals/{link_proposal.pk}/accept/", {"note": "核对无误"})
    assert response.status_code == 302
    link_proposal.refresh_from_db()
    assert link_proposal.status == "accepted" and link_proposal.note == "核对无误"
    assert ResidentRecord.objects.get(pk=link_proposal.resident_id).citizen_id == link_proposal.citizen_id
    again = client.post(f"/console/identity/proposals/{link_proposal.pk}/reject/", follow=True)
    assert "already decided" in again.content.decode()
    assert MatchProposal.objects.get().status == "accepted"


def test_upload_good_xlsx_and_bad_csv(client_for):
    client = client_for("admin", language="zh-hans")
    good = xlsx_bytes(GOOD_RESIDENTS)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/console/identity/registries/", {
        "kind": "residents", "source": "民政局", "file": SimpleUploadedFile("低保.xlsx", good)})
    assert response.status_code == 302
    assert ResidentRecord.objects.filter(source="民政局").count() == 3
    bad = csv_bytes([["赵六", "110105198003141234", "1380013", "", ""], *GOOD_RESIDENTS])
    response = client.post("/console/identity/registries/", {
        "kind": "residents", "source": "人社局", "file": SimpleUploadedFile("社保.csv", bad)})
    html = response.content.decode()
    assert response.status_code == 422
    assert "未导入" in html and "身份证号" in html and "手机号" in html and "<td>2</td>" in html
    assert not ResidentRecord.objects.filter(source="人社局").exists()
    assert RegistryImport.objects.count() == 1
