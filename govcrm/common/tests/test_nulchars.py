"""A NUL character anywhere a view would read it is refused in the caller's format, on both databases."""

import json

import pytest

pytestmark = pytest.mark.django_db

PAGES = ["/console/cases/20%00/", "/console/intake/lookup?phone=138%00", "/track/20%00/",
         "/channels/cti/followups/20%00/", "/console/search/?q=a%00"]


@pytest.mark.parametrize("url", PAGES)
def test_pages_refuse_a_nul_with_400(city, client, url):
    client.force_login(city.users["admin"])
    r = client.get(url)
    assert r.status_code == 400 and "NUL" in r.content.decode()


@pytest.mark.parametrize("query", [{"q": "a\x00"}, {"area": "d1\x00"}, {"status": "x\x00"}, {"unit": "\x00"},
                                   {"category": "u\x00"}, {"channel": "\x00"}])
def test_the_api_refuses_a_nul_in_the_query_as_invalid_input(city, api_client_for, query):
    r = api_client_for("admin").get("/api/v1/cases", query)
    assert r.status_code == 422 and r.json()["code"] == "validation_failed" and "query" in r.json()["details"]


def test_the_api_refuses_a_nul_in_a_json_body_and_stores_nothing(city, api_client_for):
    from govcrm.cases.models import Case

    body = json.dumps({"category": "urban.lighting.out", "case_type": "complaint", "description": "路灯\x00坏了"})
    r = api_client_for("admin").post("/api/v1/cases", body, content_type="application/json")
    assert r.status_code == 422 and "body" in r.json()["details"]
    assert not Case.objects.exists()
    # an escaped backslash followed by "u0000" is text, not a NUL
    body = json.dumps({"category": "urban.lighting.out", "case_type": "complaint", "description": "C:\\u0000"})
    assert api_client_for("admin").post("/api/v1/cases", body, content_type="application/json").status_code == 201


@pytest.mark.parametrize(("url", "kind"), [("/open311/v2/requests/20%00.json", "json"),
                                           ("/open311/v2/requests.xml?service_code=a%00b", "xml")])
def test_open311_answers_its_error_list(db, client, url, kind):
    r = client.get(url)
    assert r.status_code == 400 and kind in r["Content-Type"]


@pytest.mark.parametrize(("language", "words"), [("en", "NUL character"), ("zh-hans", "NUL 字符")])
def test_the_message_is_in_the_callers_language(city, client, language, words):
    client.force_login(city.users["admin"])
    client.cookies["django_language"] = language
    assert words in client.get("/console/cases/20%00/").content.decode()
