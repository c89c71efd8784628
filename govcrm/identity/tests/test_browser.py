"""A supervisor in a real browser (Chinese): a registry file with a bad row is refused with its
report; a duplicate pair is read and accepted; axe and the Content-Security-Policy on each page."""

import pytest

from govcrm.cases.models import Case
from govcrm.channels.portal.tests.conftest import axe_violations, chromium  # noqa: F401 -- fixture
from govcrm.citizens.models import Citizen
from govcrm.identity.models import MatchProposal, ResidentRecord

from .factories import GOOD_RESIDENTS, citizen_with_case, csv_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_supervisor_refuses_a_bad_file_and_merges_a_pair(city, live_server, chromium, tmp_path):  # noqa: F811
    agent = city.actor("agent")
    older, _ = citizen_with_case(agent, name="李雪梅", phone="13800138001",
                                 address="北京市朝阳区建国路88号3栋2单元501室")
    newer, case = citizen_with_case(agent, name="李雪梅", phone="13800138010",
                                    address="朝阳区建国路８８号３幢２单元５０１")
    proposal = MatchProposal.objects.create(
        kind="merge", pair_key=f"c:{older.pk}|c:{newer.pk}", citizen=older, other_citizen=newer, match_weight=17.4,
        match_probability=0.9994, levels={"name": 3, "phone": 1, "id_number": -1, "birth_date": -1, "address": 2},
        weights={"name": 7.2, "phone": 8.1, "id_number": 0, "birth_date": 0, "address": 2.1})
    bad = tmp_path / "社保.csv"
    bad.write_bytes(csv_bytes([*GOOD_RESIDENTS, ["赵六", "110105198003141234", "", "", ""]]))

    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    csp = []
    page.on("console", lambda m: "Content Security Policy" in m.text and csp.append(m.text))
    page.goto(live_server.url + "/console/login/")
    page.locator("#id_username").fill("supervisor")
    page.locator("#id_password").fill("pass-12345")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/console/")
    page.get_by_role("link", name="重复记录").first.click()
    page.wait_for_url("**/console/identity/")
    assert f"#{proposal.pk}" in page.locator("main").inner_text()
    assert axe_violations(page) == []

    page.get_by_role("link", name="部门名册").first.click()
    page.wait_for_url("**/console/identity/registries/")
    page.locator("#id_source").fill("人社局")
    page.locator("#id_file").set_input_files(str(bad))
    page.get_by_role("button", name="导入", exact=True).click()
    report = page.locator("main").inner_text()
    assert "未导入任何数据" in report and "身份证号" in report and "校验" in report
    assert axe_violations(page) == []
    assert not ResidentRecord.objects.exists()

    page.goto(f"{live_server.url}/console/identity/proposals/{proposal.pk}/")
    why = page.locator("main").inner_text()
    assert "地址大部分相同" in why and "电话差一两位" in why and "138****" not in why  # supervisors call back
    assert axe_violations(page) == []
    page.get_by_role("button", name="接受：同一人").click()
    page.wait_for_url(f"**/console/identity/proposals/{proposal.pk}/")
    assert "已接受" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    assert csp == []
    context.close()
    assert Citizen.objects.get(pk=newer.pk).merged_into_id == older.pk
    assert Case.objects.get(pk=case.pk).citizen_id == older.pk
