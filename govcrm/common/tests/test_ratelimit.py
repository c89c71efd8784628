"""Rate limits of the public endpoints: 429 with Retry-After in the caller's format, off or scaled by setting."""

from __future__ import annotations

import json

import pytest
from defusedxml.ElementTree import fromstring
from django.test import Client

from govcrm.common import ratelimit
from govcrm.organization.actions import api_token_create


@pytest.fixture
def limits(settings):
    settings.GOVCRM_RATE_LIMITS = "on"
    settings.GOVCRM_RATE_LIMIT_RULES = {"portal_submit": (2, 600), "open311_post": (2, 60), "open311_get": (3, 60),
                                        "webhook": (2, 60), "api_auth_failed": (3, 600), "portal_track": (2, 600),
                                        "portal_help": (2, 60)}
    return settings


def test_portal_submission_is_refused_past_the_limit_with_a_page_in_the_users_language(db, limits):
    client = Client(REMOTE_ADDR="198.51.100.1")
    for _ in range(2):
        assert client.post("/", {"description": ""}).status_code == 422  # counted even when refused
    r = client.post("/", {"description": ""}, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 429
    assert int(r["Retry-After"]) > 0
    body = r.content.decode()
    assert "Too many requests" in body and 'lang="en"' in body
    assert r["Content-Security-Policy"]  # still a page of ours
    zh = client.post("/", {"description": ""}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert zh.status_code == 429 and "请求过于频繁" in zh.content.decode()
    # Another address is not affected, and reading the form is not limited.
    assert Client(REMOTE_ADDR="198.51.100.2").post("/", {"description": ""}).status_code == 422
    assert client.get("/").status_code == 200


def test_tracking_lookups_are_limited(db, limits):
    client = Client(REMOTE_ADDR="198.51.100.3")
    for _ in range(2):
        client.post("/track/", {"number": "x", "code": "y"})
    assert client.post("/track/", {"number": "x", "code": "y"}).status_code == 429


def test_self_service_searches_are_limited_and_a_refused_one_is_no_knowledge_gap(db, limits):
    from govcrm.knowledge.models import KnowledgeGap

    client = Client(REMOTE_ADDR="198.51.100.4")
    for _ in range(2):
        assert client.get("/help/", {"q": "火星移民补贴"}).status_code == 200
    assert sum(KnowledgeGap.objects.values_list("count", flat=True)) == 2
    assert client.get("/help/", {"q": "火星移民补贴"}).status_code == 429
    assert sum(KnowledgeGap.objects.values_list("count", flat=True)) == 2


def test_open311_answers_its_own_error_format(db, limits):
    client = Client(REMOTE_ADDR="198.51.100.4")
    for _ in range(2):
        assert client.post("/open311/v2/requests.json", {}).status_code != 429
    r = client.post("/open311/v2/requests.json", {})
    assert r.status_code == 429 and r["Content-Type"].startswith("application/json")
    assert json.loads(r.content) == [{"code": 429, "description": r.json()[0]["description"]}]
    assert r["Retry-After"]
    x = client.post("/open311/v2/requests.xml", {})
    assert x.status_code == 429
    root = fromstring(x.content)
    assert root.tag == "errors" and root.find("error/code").text == "429"


def test_open311_gets_have_their_own_higher_limit(db, limits):
    client = Client(REMOTE_ADDR="198.51.100.5")
    codes = [client.get("/open311/v2/services.json").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_webhooks_are_limited_in_plain_text(db, limits):
    client = Client(REMOTE_ADDR="198.51.100.6")
    codes = [client.post("/channels/sms/inbound", {}).status_code for _ in range(3)]
    assert codes[:2] != [429, 429] and codes[2] == 429
    r = client.post("/channels/sms/inbound", {})
    assert r["Content-Type"].startswith("text/plain") and r["Retry-After"]


def test_failed_api_tokens_are_limited_per_address_and_good_ones_are_not(city, limits):
    bad = Client(REMOTE_ADDR="198.51.100.7", headers={"Authorization": "Bearer gcrm_wrong"})
    assert [bad.get("/api/v1/cases").status_code for _ in range(3)] == [401, 401, 401]
    r = bad.get("/api/v1/cases")
    assert r.status_code == 429
    assert r.json()["code"] == "rate_limited" and int(r["Retry-After"]) > 0
    good_token = api_token_create(username="agent")
    # The same address is refused even with a good token until the window ends: guessing stops.
    assert Client(REMOTE_ADDR="198.51.100.7",
                  headers={"Authorization": f"Bearer {good_token}"}).get("/api/v1/cases").status_code == 429
    good = Client(REMOTE_ADDR="198.51.100.8", headers={"Authorization": f"Bearer {good_token}"})
    assert all(good.get("/api/v1/cases").status_code == 200 for _ in range(6))


def test_off_and_scaled(db, limits):
    limits.GOVCRM_RATE_LIMITS = "off"
    client = Client(REMOTE_ADDR="198.51.100.9")
    assert all(client.get("/open311/v2/services.json").status_code == 200 for _ in range(6))
    limits.GOVCRM_RATE_LIMITS = "2"
    assert ratelimit.rule_limits("open311_get") == (6, 60)
    client = Client(REMOTE_ADDR="198.51.100.10")
    codes = [client.get("/open311/v2/services.json").status_code for _ in range(7)]
    assert codes == [200] * 6 + [429]


def test_the_proxy_header_counts_only_when_configured(db, limits):
    # Without configuration a forged header changes nothing: all these come from one peer.
    codes = [Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").get(
        "/open311/v2/services.json").status_code for i in range(4)]
    assert codes[-1] == 429
    limits.GOVCRM_CLIENT_ADDRESS_HEADER = "X-Forwarded-For"
    codes = [Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").get(
        "/open311/v2/services.json").status_code for i in range(4)]
    assert codes == [200] * 4  # four clients behind our proxy
