"""Search rules: segmentation, title above body, coverage, one hit per article, both databases."""

from govcrm.knowledge import search
from govcrm.knowledge.tests.factories import ArticleVersionFactory


def test_terms_keep_repeats_and_drop_question_words():
    words = search.tokens("请问公积金怎么提取？提取公积金")
    assert words.count("公积金") == 2 and words.count("提取") == 2
    assert "请问" not in words and "怎么" not in words
    assert search.query_terms("请问公积金怎么提取？") == ["公积", "积金", "公积金", "提取"]
    assert search.query_terms("How do I renew my ID cards") == ["renew", "id", "card"]
    assert search.tokens("fees fee heating") == ["fee", "fee", "heat"]
    assert search.query_language("居住证 permit") == "zh-hans" and search.query_language("permit") == "en"


def test_a_title_match_ranks_above_a_body_match(db):
    body_only = ArticleVersionFactory(title="供暖费缴纳", body="居住证持有人也可以缴纳供暖费，停水期间照常收费。")
    in_title = ArticleVersionFactory(title="居住证办理", body="到派出所办理，带身份证。")
    hits = search.search("居住证")
    assert [h.version_id for h in hits] == [in_title.pk, body_only.pk]
    english = ArticleVersionFactory(language="en", title="Water cuts", body="Residence permit holders are told too.")
    english_title = ArticleVersionFactory(language="en", title="Residence permit", body="Go to the police station.")
    assert [h.version_id for h in search.search("residence permit", language="en")] == [english_title.pk, english.pk]


def test_coverage_keeps_one_shared_common_word_out(db):
    ArticleVersionFactory(title="公积金提取", body="租房提取公积金每月办理一次。")
    ArticleVersionFactory(title="居住证办理", body="到派出所办理居住登记。")
    assert search.search("小区门口垃圾桶满了没人清运 办理", min_coverage=0.3) == []
    assert len(search.search("公积金 提取")) == 1


def test_unpublished_and_draft_versions_are_not_found_and_one_hit_per_article(db):
    published = ArticleVersionFactory(title="身份证补领", body="派出所办理。")
    ArticleVersionFactory(article=published.article, status="retired", title="身份证补领 旧", body="旧流程")
    ArticleVersionFactory(status="draft", title="身份证换领", body="草稿")
    ArticleVersionFactory(article=published.article, language="en", title="ID card replacement", body="身份证")
    hits = search.search("身份证")
    assert [h.article_id for h in hits] == [published.article_id]
    assert hits[0].version_id == published.pk  # the best-scoring of the article's versions


def test_typed_suggestions_prefer_articles_of_the_chosen_category_or_its_parents(db):
    from govcrm.cases.models import Category
    from govcrm.knowledge import queries

    noise = ArticleVersionFactory(title="噪声投诉", body="施工噪声和商业噪声投诉的处理时限。")
    night = ArticleVersionFactory(title="夜间施工", body="夜间施工噪声，查询夜间施工证明。")
    noise.article.categories.set([Category.objects.get(code="environment.noise")])
    night.article.categories.set([Category.objects.get(code="urban.construction.night")])
    for title in ("居住证办理", "公积金提取", "供暖费", "垃圾分类", "路灯报修", "身份证补领"):
        ArticleVersionFactory(title=title, body=f"{title}的办理流程。")
    text = "工地施工噪声"
    plain = [s.key for s in queries.typed_suggestions(text)]
    assert set(plain) == {noise.article.key, night.article.key}
    for category, first in (("urban.construction.night", night), ("environment.noise.commercial", noise)):
        assert queries.typed_suggestions(text, category=category)[0].key == first.article.key
