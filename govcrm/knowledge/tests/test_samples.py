"""`govcrm demo` adds the sample articles once, owned by the demo city's units."""

import io

from django.core.management import call_command

from govcrm.knowledge.models import Article, ArticleVersion


def test_demo_adds_the_sample_articles_idempotently(db, capsys):
    call_command("demo", cases=0)
    assert Article.objects.count() == 33
    assert ArticleVersion.objects.filter(status="published").count() == 45
    assert Article.objects.get(key="residence-permit").owner_unit.code == "police"
    call_command("demo", cases=0)
    assert Article.objects.count() == 33
    assert "0 sample articles added" in capsys.readouterr().out


def test_reindex_recomputes_the_terms_of_every_version(db):
    from govcrm.knowledge import queries
    from govcrm.organization.tests.factories import UnitFactory

    UnitFactory()  # the owner when the demo city's units are not there
    call_command("knowledge", "samples", stdout=io.StringIO())
    assert Article.objects.count() == 33
    ArticleVersion.objects.filter(article__key="heating-fees").update(search_text="", title_terms="", body_terms="")
    assert "heating-fees" not in [s.key for s in queries.suggestions("暖气费")]
    out = io.StringIO()
    call_command("knowledge", "reindex", stdout=out)
    assert out.getvalue().strip() == "2 of 45 article versions re-indexed."
    assert queries.suggestions("暖气费")[0].key == "heating-fees"
