"""Articles: versions, publishing, scoping (who may edit), validation; gaps; self-service outcomes."""

import datetime as dt
import uuid

import pytest

from govcrm.common.errors import Forbidden, NotFound, ValidationFailed
from govcrm.knowledge import queries
from govcrm.knowledge.actions import (
    ArticleSettings,
    ArticleText,
    article_create,
    article_edit,
    article_publish,
    article_unpublish,
    article_update,
    gap_dismiss,
    gap_record,
    selfservice_answer,
    selfservice_request_sent,
)
from govcrm.knowledge.models import Article, ArticleVersion, KnowledgeGap, Outcome, SelfServiceOutcome

ZH = ArticleText("zh-hans", "居住证办理", "携带身份证和租房合同到派出所办理居住登记。", "暂住证")
EN = ArticleText("en", "Residence permit", "Bring your ID card and lease to the police station.")


def _new(city, username="supervisor", key="residence-permit", unit="gov-d1", **settings):
    return article_create(actor=city.actor(username), key=key, text=ZH,
                          settings=ArticleSettings(owner_unit=unit, **settings))


def test_create_makes_a_draft_that_is_not_found_until_published(city):
    article = _new(city, categories=("urban.lighting.out",))
    v1 = article.versions.get()
    assert (v1.number, v1.status, v1.language) == (1, "draft", "zh-hans")
    assert queries.suggestions("居住证") == []
    article_publish(actor=city.actor("supervisor"), version_id=v1.pk)
    assert [s.key for s in queries.suggestions("居住证")] == ["residence-permit"]
    assert [c.code for c in article.categories.all()] == ["urban.lighting.out"]


def test_editing_makes_a_new_draft_and_publishing_retires_the_old_version(city):
    actor = city.actor("supervisor")
    article = _new(city)
    v1 = article.versions.get()
    article_publish(actor=actor, version_id=v1.pk)
    v2 = article_edit(actor=actor, article_id=article.pk,
                      text=ArticleText("zh-hans", "居住证申领", "新的办理流程：网上预约后到派出所。"))
    assert v2.number == 2 and v2.status == "draft"
    # the published version is still the one found until the draft is published
    assert queries.suggestions("居住证")[0].version.pk == v1.pk
    v3 = article_edit(actor=actor, article_id=article.pk,
                      text=ArticleText("zh-hans", "居住证申领", "网上预约后到派出所领取居住证。"))
    v2.refresh_from_db()
    assert v2.status == "superseded"
    article_publish(actor=actor, version_id=v3.pk)
    statuses = dict(ArticleVersion.objects.filter(article=article).values_list("number", "status"))
    assert statuses == {1: "retired", 2: "superseded", 3: "published"}
    assert queries.suggestions("居住证")[0].version.pk == v3.pk
    with pytest.raises(ValidationFailed):
        article_publish(actor=actor, version_id=v1.pk)  # only drafts


def test_english_version_has_its_own_history_and_search_language(city):
    actor = city.actor("supervisor")
    article = _new(city)
    article_publish(actor=actor, version_id=article.versions.get().pk)
    en = article_edit(actor=actor, article_id=article.pk, text=EN)
    assert en.number == 1
    article_publish(actor=actor, version_id=en.pk)
    hit = queries.suggestions("residence permit")[0]
    assert (hit.key, hit.version.language) == ("residence-permit", "en")
    assert queries.suggestions("居住证", language="en") == []
    article_unpublish(actor=actor, article_id=article.pk, language="en")
    assert queries.suggestions("residence permit") == []
    assert queries.suggestions("居住证")[0].version.language == "zh-hans"


def test_a_manager_manages_only_articles_of_their_subtree(city):
    mine = _new(city, username="district_manager", unit="gov-d1s1")  # a street under the district
    v = mine.versions.get()
    article_publish(actor=city.actor("district_manager"), version_id=v.pk)
    with pytest.raises(Forbidden):
        _new(city, username="district_manager", key="water", unit="water")
    other = _new(city, key="water-cut", unit="water")
    with pytest.raises(Forbidden):
        article_edit(actor=city.actor("district_manager"), article_id=other.pk, text=ZH)
    with pytest.raises(Forbidden):
        article_publish(actor=city.actor("district_manager"), version_id=other.versions.get().pk)
    assert list(queries.article_list(mine_for=city.actor("district_manager"))) == [mine]


def test_owner_staff_drafts_but_does_not_publish_and_others_do_nothing(city):
    article = _new(city, owner_staff="street_handler")
    draft = article_edit(actor=city.actor("street_handler"), article_id=article.pk, text=ZH)
    with pytest.raises(Forbidden):
        article_publish(actor=city.actor("street_handler"), version_id=draft.pk)
    for username in ("agent", "street2_handler", "analyst", "dispatcher"):
        with pytest.raises(Forbidden):
            article_edit(actor=city.actor(username), article_id=article.pk, text=ZH)
    for username in ("agent", "street_handler", "analyst"):
        with pytest.raises(Forbidden):
            _new(city, username=username, key=f"x-{username.replace('_', '-')}")
    with pytest.raises(Forbidden):
        article_update(actor=city.actor("street_handler"), article_id=article.pk,
                       settings=ArticleSettings(owner_unit="gov-d1"))


def test_bad_input_is_refused_and_nothing_stored(city):
    actor = city.actor("supervisor")
    cases = [
        ("Bad Key!", ZH, ArticleSettings(owner_unit="gov-d1"), "key"),
        ("ok", ArticleText("zh-hans", " ", "正文"), ArticleSettings(owner_unit="gov-d1"), "title"),
        ("ok", ArticleText("fr", "titre", "corps"), ArticleSettings(owner_unit="gov-d1"), "language"),
        ("ok", ZH, ArticleSettings(), "owner_unit"),
        ("ok", ZH, ArticleSettings(owner_unit="nope"), "owner_unit"),
        ("ok", ZH, ArticleSettings(owner_unit="gov-d1", categories=("no.such",)), "categories"),
        ("ok", ZH, ArticleSettings(owner_unit="gov-d1", valid_from=dt.date(2026, 5, 1),
                                   valid_until=dt.date(2026, 4, 1)), "valid_until"),
    ]
    for key, text, settings, field in cases:
        with pytest.raises(ValidationFailed) as err:
            article_create(actor=actor, key=key, text=text, settings=settings)
        assert field in err.value.details
    _new(city)
    with pytest.raises(ValidationFailed) as err:
        _new(city)
    assert "key" in err.value.details
    assert Article.objects.count() == 1 and ArticleVersion.objects.count() == 1


def test_expired_articles_are_not_suggested_and_flagged_for_their_owner(city):
    today = dt.date(2026, 11, 27)
    actor = city.actor("district_manager")
    expired = _new(city, username="district_manager", key="old-subsidy", unit="gov-d1",
                   valid_until=dt.date(2026, 3, 31))
    article_publish(actor=actor, version_id=expired.versions.get().pk)
    assert queries.suggestions("居住证", today=today) == []
    assert queries.suggestions("居住证", today=dt.date(2026, 3, 1))[0].key == "old-subsidy"
    future = article_create(actor=actor, key="new-rule", text=ArticleText("zh-hans", "新规", "居住证新规"),
                            settings=ArticleSettings(owner_unit="gov-d1", valid_from=dt.date(2027, 1, 1)))
    article_publish(actor=actor, version_id=future.versions.get().pk)
    assert queries.suggestions("居住证新规", today=today) == []
    assert [a.key for a in queries.attention_list(actor, today=today)] == ["old-subsidy"]
    assert list(queries.attention_list(city.actor("other_handler"), today=today)) == []
    assert [a.key for a in queries.attention_list(city.actor("supervisor"), today=today)] == ["old-subsidy"]


def test_gaps_are_counted_per_query_language_and_channel(city):
    gap_record(query="宠物狗 办证", channel="portal")
    gap_record(query="宠物狗办证", channel="portal")
    gap_record(query="宠物狗办证", channel="console")
    gap_record(query="dog licence", channel="portal")
    assert gap_record(query="请问？", channel="portal") is None  # nothing to search for
    rows = {(g.normalized, g.language, g.channel): g.count for g in KnowledgeGap.objects.all()}
    assert rows == {("宠物 宠物狗 办证", "zh-hans", "portal"): 2, ("宠物 宠物狗 办证", "zh-hans", "console"): 1,
                    ("dog licenc", "en", "portal"): 1}  # stemmed
    gap = KnowledgeGap.objects.get(channel="console")
    with pytest.raises(Forbidden):
        gap_dismiss(actor=city.actor("agent"), gap_id=gap.pk)
    gap_dismiss(actor=city.actor("supervisor"), gap_id=gap.pk)
    assert gap not in queries.gap_list() and gap in queries.gap_list(include_dismissed=True)
    with pytest.raises(NotFound):
        gap_dismiss(actor=city.actor("supervisor"), gap_id=gap.pk + 100)


def test_deflection_counts_yes_once_and_a_later_submission_as_not_resolved(city):
    actor = city.actor("supervisor")
    a = _new(city)
    b = article_create(actor=actor, key="id-card", text=ArticleText("zh-hans", "身份证补领", "到派出所补领身份证。"),
                       settings=ArticleSettings(owner_unit="gov-d1"))
    for art in (a, b):
        article_publish(actor=actor, version_id=art.versions.get().pk)
    t1, t2, t3 = (str(uuid.uuid4()) for _ in range(3))
    selfservice_answer(token=t1, article_id=a.pk, resolved=True, query="居住证")
    selfservice_answer(token=t1, article_id=a.pk, resolved=True, query="居住证")  # a repeat counts once
    selfservice_answer(token=t2, article_id=a.pk, resolved=True)
    assert selfservice_request_sent(token=t2, article_ids=[str(a.pk), str(b.pk), "x", "999999"]) == 2
    selfservice_answer(token=t2, article_id=a.pk, resolved=True)  # after sending, it stays "not resolved"
    selfservice_answer(token=t3, article_id=b.pk, resolved=False)
    rows = {r.article.key: (r.resolved, r.not_resolved) for r in queries.deflection_figures()}
    assert rows == {"residence-permit": (1, 1), "id-card": (0, 2)}
    assert SelfServiceOutcome.objects.filter(outcome=Outcome.RESOLVED).count() == 1
    with pytest.raises(ValidationFailed):
        selfservice_answer(token="not-a-uuid", article_id=a.pk, resolved=True)
    with pytest.raises(NotFound):
        selfservice_answer(token=t1, article_id=a.pk + 100, resolved=True)
    assert selfservice_request_sent(token="junk", article_ids=[str(a.pk)]) == 0


def test_settings_change_owners_categories_validity_and_archiving(city):
    actor = city.actor("supervisor")
    article = _new(city)
    article_publish(actor=actor, version_id=article.versions.get().pk)
    article_update(actor=actor, article_id=article.pk,
                   settings=ArticleSettings(owner_unit="water", owner_staff="water_handler",
                                            categories=("economy.utilities.water",),
                                            valid_until=dt.date(2099, 1, 1)))
    article.refresh_from_db()
    assert (article.owner_unit.code, article.owner_staff.username, article.valid_until) == (
        "water", "water_handler", dt.date(2099, 1, 1))
    assert [c.code for c in article.categories.all()] == ["economy.utilities.water"]
    assert queries.may_edit(city.actor("water_handler"), article)
    assert not queries.may_edit(city.actor("district_manager"), article)  # no longer its unit's
    article_update(actor=actor, article_id=article.pk, settings=ArticleSettings(owner_unit="water"), archived=True)
    assert queries.suggestions("居住证") == []
    with pytest.raises(ValidationFailed):
        article_update(actor=actor, article_id=article.pk, settings=ArticleSettings(owner_staff="nobody"))
    with pytest.raises(NotFound):
        article_update(actor=actor, article_id=article.pk + 100, settings=ArticleSettings(owner_unit="water"))
