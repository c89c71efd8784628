"""Console pages (intake proposals, case panel, merge), and how a merged case is tracked outside."""

import pytest
from django.urls import reverse

from govcrm.cases.models import Case
from govcrm.cases.tests.factories import move, register

pytestmark = pytest.mark.django_db

LAMP = "和平街12号门口的路灯坏了三天，晚上很黑。"


def at_heping(actor, text=LAMP, **kw):
    return register(actor, description=text, lat=39.9000, lon=116.4000, **kw)


@pytest.mark.parametrize(("language", "words"), [
    ("en", ["Open cases that may report the same incident", "m away", "similarity"]),
    ("zh-hans", ["可能与本次来电反映同一事件的在办工单", "相距", "相似度"]),
])
def test_intake_proposals_while_the_agent_types(city, client_for, language, words):
    same = at_heping(city.actor("agent"), "和平街12号的路灯坏了，晚上一片漆黑")
    client = client_for("agent", language=language)
    response = client.get(reverse("incidents:similar"), {"description": LAMP, "lat": "39.9001", "lon": "116.4001",
                                                        "category": "urban.lighting.out"}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200 and same.number in text
    assert all(w in text for w in words), [w for w in words if w not in text]
    assert "<form" not in text  # nothing to merge before the call is registered
    nothing = client.get(reverse("incidents:similar"), {"description": "公园里的长椅坏了"}, HTTP_HX_REQUEST="true")
    assert same.number not in nothing.content.decode()
    # the intake page asks for the proposals while the description is typed
    assert reverse("incidents:similar") in client.get(reverse("console:intake")).content.decode()


@pytest.mark.parametrize(("language", "words"), [
    ("en", ["Same incident (merged cases)", "Merge this case into"]),
    ("zh-hans", ["同一事件（并案）", "将本工单并入"]),
])
def test_case_panel_and_merge_from_a_proposal(city, client_for, language, words):
    agent = city.actor("agent")
    lead, new = at_heping(agent), at_heping(agent, "和平街12号路灯坏了")
    client = client_for("dispatcher", language=language)
    panel = client.get(reverse("incidents:case", args=[new.number]), HTTP_HX_REQUEST="true").content.decode()
    assert lead.number in panel and all(w in panel for w in words)
    assert reverse("incidents:case", args=[new.number]) in client.get(reverse("console:case", args=[new.number])
                                                                      ).content.decode()
    response = client.post(reverse("incidents:merge"), {"lead": lead.number, "cases": new.number, "back": new.number})
    assert response.status_code == 302 and response["Location"] == reverse("console:case", args=[lead.number])
    merged = Case.objects.get(pk=new.pk)
    assert merged.merged_into_id == lead.pk
    similarity = merged.events.get(action="merge").data["similarity"]
    assert 0.3 <= similarity["score"] <= 1  # the proposal followed is kept in the history
    page = client.get(reverse("incidents:case", args=[new.number])).content.decode()  # full page without HTMX
    assert lead.number in page and "<html" in page
    # the merged case offers the unmerge move, not the reopen
    case_page = client.get(reverse("console:case", args=[new.number])).content.decode()
    assert 'id="move-unmerge"' in case_page and 'id="move-reopen"' not in case_page


def test_merge_refused_shows_why_and_changes_nothing(city, client_for):
    lead = at_heping(city.actor("agent"))
    client = client_for("dispatcher", language="en")
    response = client.post(reverse("incidents:merge"), {"lead": lead.number, "cases": lead.number,
                                                        "back": lead.number}, follow=True)
    assert "cannot be merged into itself" in response.content.decode()
    assert Case.objects.get(pk=lead.pk).close_reason == ""
    assert client_for("agent").post(reverse("incidents:merge"), {"lead": lead.number, "cases": "x"}).status_code == 403


def test_units_see_the_incident_but_no_proposals(city, client_for):
    agent, dispatcher = city.actor("agent"), city.actor("dispatcher")
    lead, other, third = at_heping(agent), at_heping(agent), at_heping(agent)
    move(dispatcher, lead, "dispatch", unit="gov-d1s1")
    from govcrm.incidents.actions import incident_merge

    incident_merge(actor=dispatcher, lead=lead.number, cases=[other.number])
    panel = client_for("street_handler", language="en").get(reverse("incidents:case", args=[lead.number]),
                                                            HTTP_HX_REQUEST="true").content.decode()
    assert other.number in panel and third.number not in panel and "<form" not in panel
    assert client_for("street_handler").get(reverse("incidents:similar"), {"description": LAMP}).status_code == 403


def test_merged_case_is_tracked_as_handled_together_with_its_lead(city, api_client_for, client, settings):
    settings.GOVCRM_OPEN311_PUBLIC_CHANNELS = ("open311", "portal", "phone")
    agent, dispatcher = city.actor("agent"), city.actor("dispatcher")
    lead, merged = at_heping(agent), at_heping(agent, channel="portal")
    move(dispatcher, lead, "dispatch", unit="gov-d1s1")
    from govcrm.incidents.actions import incident_merge

    incident_merge(actor=dispatcher, lead=lead.number, cases=[merged.number])
    rest = api_client_for("dispatcher").get(f"/api/v1/cases/{merged.number}").json()
    assert rest["handled_with"] == {"number": lead.number, "status": "dispatched"} and rest["status"] == "closed"
    o311 = client.get(f"/open311/v2/requests/{merged.number}.json").json()[0]
    assert o311["status"] == "open" and lead.number in o311["status_notes"]
    merged = Case.objects.get(pk=merged.pk)
    page = client.post(reverse("portal:track"), {"number": merged.number, "code": merged.query_code}, follow=True,
                       HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert f"request {lead.number}" in text and 'id="handled-with"' in text
    handler = city.actor("street_handler")
    move(handler, lead, "accept")
    move(handler, lead, "reply", reply="路灯已修复")
    move(dispatcher, lead, "review")
    o311 = client.get(f"/open311/v2/requests/{merged.number}.json").json()[0]
    assert o311["status"] == "open" and "路灯已修复" in o311["status_notes"]  # the lead awaits its follow-up
    text = client.get(reverse("portal:case", args=[merged.number]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "路灯已修复" in text
    updates = client.get("/open311/v2/servicerequestupdates.json").json()
    mine = [u for u in updates if u["service_request_id"] == merged.number]
    assert [u["status"] for u in mine][-2:] == ["duplicate", "fixed"] and "路灯已修复" in mine[-1]["description"]
