"""`govcrm demo` adds the sample articles once, owned by the demo city's units."""

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
