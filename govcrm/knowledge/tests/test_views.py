"""Console pages, the intake partial, the portal's self-service and the REST API, in both languages."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from govcrm.knowledge import queries
from govcrm.knowledge.actions import ArticleSettings, ArticleText, article_create, article_edit, article_publish
from govcrm.knowledge.models import ArticleVersion, KnowledgeGap, SelfServiceOutcome
from govcrm.knowledge.samples import samples_ensure


@pytest.fixture
def article(city):
    actor = city.actor("supervisor")
    a = article_create(actor=actor, key="heating-fees", settings=ArticleSettings(owner_unit="gov-d1"),
                       text=ArticleText("zh-hans", "供暖费收费标准", "居民供暖费每平方米24元，10月31日前缴纳。",
                                        "暖气费"))
    article_publish(actor=actor, version_id=a.versions.get().pk)
    en = article_edit(actor=actor, article_id=a.pk,
                      text=ArticleText("en", "Heating fees", "Heating costs 24 yuan per square metre."))
    article_publish(actor=actor, version_id=en.pk)
    return a


def _login(username: str, language: str = "zh-hans") -> Client:
    client = Client(headers={"Accept-Language": language})
    assert client.login(username=username, password="pass-12345")
    return client


def test_console_search_finds_and_records_a_gap_when_nothing_is_found(city, article):
    client = _login("agent")
    page = client.get(reverse("knowledge:list"), {"q": "暖气费多少钱"})
    assert page.status_code == 200 and "供暖费收费标准" in page.content.decode()
    assert KnowledgeGap.objects.count() == 0
    page = client.get(reverse("knowledge:list"), {"q": "宠物狗办证"})
    assert "知识缺口" in page.content.decode()
    gap = KnowledgeGap.objects.get()
    assert (gap.channel, gap.language, gap.count) == ("console", "zh-hans", 1)
    english = _login("agent", "en").get(reverse("knowledge:list"), {"q": "dog licence"}).content.decode()
    assert "recorded as a knowledge gap" in english


TYPED = [  # intake texts as agents type them → the article to suggest first, or None
    ("市民来电询问今年暖气费什么时候交，多少钱一平米", "heating-fees"),
    ("来电人反映小区楼下饭店油烟很大，影响居民生活，要求处理", "cooking-fumes"),
    ("市民反映其公司拖欠三个月工资未发，要求协助讨薪", "unpaid-wages"),
    ("市民咨询孩子今年上小学需要准备哪些材料", "school-enrolment"),
    ("来电反映小区门口的垃圾桶满了没人清运", "garbage-sorting"),
    ("I want to know when the heating fee is due and how much", "heating-fees"),
    ("来电反映东城区和平街道某路段井盖缺失，存在安全隐患", None),
    ("There is a pothole on the main road near my house", None),
]


def test_intake_partial_suggests_articles_for_the_typed_case(city):
    samples_ensure(fallback_unit=city.centre)
    client = _login("agent")
    url = reverse("knowledge:suggest")
    for text, expected in TYPED:
        page = client.get(url, {"title": "", "description": text}, headers={"HX-Request": "true"})
        assert page.status_code == 200
        first = queries.typed_suggestions(text)[:1]
        assert [s.key for s in first] == ([expected] if expected else []), text
        if expected:
            assert first[0].version.title in page.content.decode()
    assert _login("street_handler").get(url, {"description": "暖气费"}).status_code == 403
    assert KnowledgeGap.objects.count() == 0  # typing a case is not a search


def test_manager_pages_create_edit_publish_and_refuse_others(city, article):
    client = _login("district_manager")
    page = client.post(reverse("knowledge:new"), {
        "key": "street-market", "language": "zh-hans", "title": "早市摊位申请", "body": "向街道办申请早市摊位。",
        "owner_unit": "gov-d1s1", "categories": ""})
    assert page.status_code == 302
    new = ArticleVersion.objects.get(article__key="street-market")
    assert new.status == "draft"
    assert client.post(reverse("knowledge:publish", args=[new.pk])).status_code == 302
    new.refresh_from_db()
    assert new.status == "published"
    refused = client.post(reverse("knowledge:new"), {"key": "Bad Key", "language": "zh-hans", "title": "",
                                                     "body": "x", "owner_unit": "gov-d1"})
    assert refused.status_code == 422
    # another unit's article: no edit, no publish
    edit_url = reverse("knowledge:edit", args=[new.article_id, "en"])
    assert _login("water_handler").get(edit_url).status_code == 403
    other = _login("district_manager")
    assert other.get(reverse("knowledge:edit", args=[article.pk, "zh-hans"])).status_code == 200  # owned by gov-d1
    assert _login("agent").post(reverse("knowledge:publish", args=[new.pk])).status_code == 403
    page = client.post(reverse("knowledge:edit", args=[new.article_id, "en"]),
                       {"language": "en", "title": "Morning market stalls", "body": "Apply at the street office."})
    assert page.status_code == 302
    detail = client.get(reverse("knowledge:article", args=[new.article_id])).content.decode()
    assert "Morning market stalls" in detail and "草稿" in detail


def test_the_article_list_is_paged(city, article):
    from govcrm.knowledge.tests.factories import ArticleVersionFactory

    for _ in range(55):
        ArticleVersionFactory()
    client = _login("agent")
    first = client.get(reverse("knowledge:list"))
    assert first.context["page"].total == 56 and len(first.context["page"].items) == 50
    second = client.get(reverse("knowledge:list"), {"after": first.context["page"].next_cursor})
    assert len(second.context["page"].items) == 6
    assert not {a.pk for a in first.context["page"].items} & {a.pk for a in second.context["page"].items}


def test_gap_and_deflection_pages_are_for_managers_and_analysts(city, article):
    for username, status in (("supervisor", 200), ("analyst", 200), ("district_manager", 200), ("agent", 403),
                             ("street_handler", 403)):
        client = _login(username)
        assert client.get(reverse("knowledge:gaps")).status_code == status
        assert client.get(reverse("knowledge:deflection")).status_code == status
    assert Client().get(reverse("knowledge:gaps")).status_code == 302  # sign-in first


def test_portal_offers_yes_deflects_and_sending_anyway_counts_not_resolved(city, article):
    client = Client(headers={"Accept-Language": "zh-hans"})
    offers = client.get(reverse("help:offers"), {"description": "暖气费要交多少钱"}, headers={"HX-Request": "true"})
    html = offers.content.decode()
    assert "这是否解答了您的问题" in html and f'name="kb_offered" value="{article.pk}"' in html
    token = str(uuid.uuid4())
    answer = reverse("help:answer", args=[article.pk])
    yes = client.post(answer, {"token": token, "kb_answer": "yes", "description": "暖气费"},
                      headers={"HX-Request": "true"})
    assert yes.status_code == 204 and yes["HX-Redirect"] == reverse("help:thanks", args=[article.pk])
    assert client.get(yes["HX-Redirect"]).status_code == 200
    no_js = client.post(answer, {"token": str(uuid.uuid4()), "kb_answer": "no"})
    assert no_js.status_code == 302
    assert sorted(SelfServiceOutcome.objects.values_list("outcome", flat=True)) == ["not_resolved", "resolved"]
    # the same citizen sends the request after all: the yes becomes "not resolved"
    sent = client.post(reverse("portal:index"), {
        "token": token, "category": "urban.lighting.out", "case_type": "inquiry",
        "description": "暖气费到底要交多少钱，文章没看懂", "kb_offered": [str(article.pk)]})
    assert sent.status_code == 302, sent.content.decode()[:2000]
    assert SelfServiceOutcome.objects.get(token=token).outcome == "not_resolved"
    assert client.post(answer, {"token": "bad", "kb_answer": "yes"}).status_code == 404


def test_portal_help_search_and_article_in_english(city, article):
    client = Client(headers={"Accept-Language": "en"})
    page = client.get(reverse("help:search"), {"q": "heating fee"})  # stemmed: "fee" finds "fees"
    assert "Heating fees" in page.content.decode()
    page = client.get(reverse("help:article", args=[article.pk]))
    assert "24 yuan per square metre" in page.content.decode()
    assert client.get(reverse("help:article", args=[article.pk + 99])).status_code == 404
    client.get(reverse("help:search"), {"q": "dog licence"})
    assert KnowledgeGap.objects.get().channel == "portal"


def test_api_lists_reads_and_searches_published_articles(city, article):
    client = _login("agent")  # the session; bearer tokens' scopes are common/auth.py's
    rows = client.get("/api/v1/knowledge/articles").json()
    assert {(r["key"], r["language"]) for r in rows} == {("heating-fees", "zh-hans"), ("heating-fees", "en")}
    one = client.get(f"/api/v1/knowledge/articles/{article.pk}?language=en").json()
    assert one["title"] == "Heating fees" and one["version"] == 1
    hits = client.get("/api/v1/knowledge/search", {"q": "暖气费多少钱"}).json()
    assert hits[0]["key"] == "heating-fees" and hits[0]["language"] == "zh-hans"
    assert client.get("/api/v1/knowledge/search", {"q": "x", "language": "fr"}).status_code == 422
    assert client.get(f"/api/v1/knowledge/articles/{article.pk + 99}").status_code == 404
    assert Client().get("/api/v1/knowledge/articles").status_code == 401
    assert KnowledgeGap.objects.count() == 0


def test_settings_and_unpublish_through_the_console(city, article):
    client = _login("district_manager")  # the article is owned by gov-d1, the manager's unit
    url = reverse("knowledge:settings", args=[article.pk])
    bad = client.post(url, {"owner_unit": "gov-d1", "valid_from": "2026-05-01", "valid_until": "2026-04-01"})
    assert bad.status_code == 422 and "有效期结束日期早于开始日期" in bad.content.decode()
    assert client.post(url, {"owner_unit": "gov-d1s1", "categories": "economy.utilities.heating"}).status_code == 302
    assert [c.code for c in article.categories.all()] == ["economy.utilities.heating"]
    assert _login("street_handler").post(url, {"owner_unit": "gov-d1s1"}).status_code == 403
    assert client.post(reverse("knowledge:unpublish", args=[article.pk, "en"])).status_code == 302
    assert not ArticleVersion.objects.filter(article=article, language="en", status="published").exists()
    assert _login("agent").post(reverse("knowledge:unpublish", args=[article.pk, "zh-hans"])).status_code == 403


def test_ids_too_large_for_the_database_are_not_found(city, article):
    huge = 5993339268532005765120
    assert _login("agent").get(f"/api/v1/knowledge/articles/{huge}").status_code == 404
    client = Client()
    assert client.get(f"/help/{huge}/").status_code == 404
    token = str(uuid.uuid4())
    assert client.post(f"/help/{huge}/answer/", {"token": token, "kb_answer": "yes"}).status_code == 404
    sent = client.post(reverse("portal:index"), {"token": token, "category": "urban.lighting.out",
                                                 "case_type": "inquiry", "description": "暖气费要交多少钱",
                                                 "kb_offered": [str(huge), str(article.pk)]})
    assert sent.status_code == 302
    assert list(SelfServiceOutcome.objects.values_list("article_id", flat=True)) == [article.pk]
