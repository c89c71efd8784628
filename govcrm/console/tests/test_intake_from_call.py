"""From the call centre's screen pop to a case linked to the call."""

import json

import pytest

from govcrm.channels.callcentre.models import Call

pytestmark = pytest.mark.django_db


def cti(client, **event):
    return client.post("/channels/cti/events", data=json.dumps(event), content_type="application/json",
                       headers={"Authorization": "Bearer test-cti-token"})


def test_intake_opened_from_the_screen_pop_links_the_call(city, client):
    assert cti(client, event="ringing", call_id="call-1", caller="+8613800138000", agent="agent").status_code == 200
    client.force_login(city.users["agent"])
    page = client.get("/console/intake/", {"phone": "+8613800138000", "call": "call-1"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="call-1"' in html and "+8613800138000" in html
    r = client.post("/console/intake/", {
        "call": "call-1", "phone": "+8613800138000", "citizen_name": "张三", "language": "zh-hans",
        "category": "urban.lighting.out", "case_type": "complaint", "urgency": "normal",
        "description": "路灯不亮", "title": "", "address": "", "area": "", "lat": "", "lon": "",
        "resolve_reply": "",
    })
    assert r.status_code == 302, r.content.decode()[:2000]
    number = r.url.rstrip("/").rsplit("/", 1)[-1]
    assert Call.objects.get(call_id="call-1").case.number == number


def test_pop_slot_and_follow_up_link_for_call_takers(city, client):
    client.force_login(city.users["agent"])
    html = client.get("/console/").content.decode()
    assert "screen-pop" in html and "/channels/cti/followups/" in html
    client.force_login(city.users["street_handler"])
    html = client.get("/console/").content.decode()
    assert "screen-pop" not in html
