"""Search: Chinese and English words, filters, scoping by the actor's units."""

import re

import pytest

from govcrm.cases.tests.factories import LEAF, OTHER_LEAF, dispatch_rule, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(city):
    dispatch_rule(LEAF, city.street1, city.street_area)
    agent = city.actor("agent")
    return {
        "lamp": register(agent),  # 和平街12号门口的路灯坏了三天
        "english": register(agent, description="The street light outside the school is broken",
                            language="en"),
        "noise": register(agent, category=OTHER_LEAF, description="楼下饭店夜里噪音扰民", area="d2"),
    }


def numbers_in(response) -> set[str]:
    """Case numbers linked from the page."""
    return set(re.findall(r'href="/console/cases/(\d+)/"', response.content.decode()))


def test_search_by_a_chinese_word(client_for, cases):
    r = client_for("dispatcher").get("/console/search/", {"q": "路灯"})
    assert r.status_code == 200
    found = numbers_in(r)
    assert cases["lamp"].number in found and cases["noise"].number not in found


def test_search_by_an_english_word(client_for, cases):
    found = numbers_in(client_for("dispatcher").get("/console/search/", {"q": "school"}))
    assert found == {cases["english"].number}
    found = numbers_in(client_for("dispatcher").get("/console/search/", {"q": "Light"}))
    assert cases["english"].number in found and cases["noise"].number not in found


def test_search_filters(client_for, cases):
    c = client_for("dispatcher")
    assert numbers_in(c.get("/console/search/", {"area": "d2"})) == {cases["noise"].number}
    assert cases["noise"].number not in numbers_in(c.get("/console/search/", {"status": "dispatched"}))
    assert numbers_in(c.get("/console/search/", {"category": "environment"})) == {cases["noise"].number}
    assert cases["lamp"].number in numbers_in(c.get("/console/search/", {"unit": "gov-d1"}))


def test_search_is_scoped_to_the_units_cases(client_for, cases):
    assert numbers_in(client_for("water_handler").get("/console/search/", {"q": "路灯"})) == set()
    assert cases["lamp"].number in numbers_in(client_for("street_handler").get("/console/search/", {"q": "路灯"}))


def test_search_shows_the_count_once(client_for, cases, django_assert_max_num_queries):
    c = client_for("dispatcher", language="en")
    with django_assert_max_num_queries(12):
        r = c.get("/console/search/", {"q": "路灯"})
    assert "case found" in r.content.decode() or "cases found" in r.content.decode()


def test_empty_search_page_shows_only_the_form(client_for, cases):
    r = client_for("dispatcher").get("/console/search/")
    assert r.status_code == 200 and 'role="search"' in r.content.decode()
    assert numbers_in(r) == set()


def test_search_count_stops_at_the_cap(client_for, cases, monkeypatch):
    """More matches than COUNT_CAP: "more than N", and the COUNT reads at most cap+1 rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from govcrm.console.views import search as view

    c = client_for("dispatcher", language="en")
    monkeypatch.setattr(view, "COUNT_CAP", 2)
    with CaptureQueriesContext(connection) as ctx:
        r = c.get("/console/search/", {"q": ""})  # every case: 3
    assert "more than 2 cases found" in r.content.decode()
    assert len(numbers_in(r)) == 3  # the page itself is not capped
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT" in q.upper() for q in counts)
    monkeypatch.setattr(view, "COUNT_CAP", 3)
    assert ">3 cases found<" in c.get("/console/search/", {"q": ""}).content.decode()


def test_rare_words_are_looked_up_in_the_index_first(client_for, cases, monkeypatch):
    """PostgreSQL: fewer matches than search.RARE → ids from the GIN index as an array, not a PK walk."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from govcrm.cases import search

    if connection.vendor != "postgresql":
        pytest.skip("the rare-word plan is PostgreSQL's; SQLite uses FTS5 (checked in the PostgreSQL pass)")
    c = client_for("dispatcher")
    for rare, expected in ((1_000, True), (1, False)):
        monkeypatch.setattr(search, "RARE", rare)
        with CaptureQueriesContext(connection) as ctx:
            found = numbers_in(c.get("/console/search/", {"q": "路灯"}))
        assert cases["lamp"].number in found and cases["noise"].number not in found
        assert any("= ANY(ARRAY(SELECT id FROM cases_case" in q["sql"] for q in ctx.captured_queries) is expected
    found = numbers_in(client_for("street_handler").get("/console/search/", {"q": "路灯"}))
    assert cases["lamp"].number in found


def test_a_centre_search_by_words_is_counted_once(city, client_for, cases, monkeypatch):
    """PostgreSQL: the words' capped count (case_search) is the list's count for the centre without
    filters — no second COUNT; any filter or a unit's scope counts the list itself."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from govcrm.cases import search
    from govcrm.console.views import search as view

    if connection.vendor != "postgresql":
        pytest.skip("SQLite counts the list (the words are not counted first there)")
    register(city.actor("agent"), description="和平路的路灯也不亮了")
    total = search.match_count("路灯")
    assert total >= 2
    c = client_for("dispatcher", language="en")

    def counts(params: dict) -> tuple[list[str], str]:
        with CaptureQueriesContext(connection) as ctx:
            html = c.get("/console/search/", params).content.decode()
        return [q["sql"] for q in ctx.captured_queries if "count(" in q["sql"].lower()], html

    found, html = counts({"q": "路灯"})
    assert len(found) == 1 and f">{total} case" in html
    found, html = counts({"q": "路灯", "status": "dispatched"})
    assert len(found) == 2
    monkeypatch.setattr(search, "RARE", total - 1)  # more matches than the cap: "more than"
    monkeypatch.setattr(view, "COUNT_CAP", total - 1)
    found, html = counts({"q": "路灯"})
    assert len(found) == 1 and f"more than {total - 1} case" in html


def test_search_form_selects_are_djangos_markup(city):
    """The search form's long lists (LongSelect) render as Django's Select would, chosen value included."""
    from django import forms

    from govcrm.console.forms import SearchForm

    form = SearchForm({"q": "路灯", "status": "dispatched", "category": "environment", "area": "d2"})
    assert form.is_valid(), form.errors
    for name in ("status", "category", "unit", "area"):
        field = form[name]
        assert len(field.field.choices) > 1
        plain = forms.Select(choices=field.field.choices).render(field.html_name, field.value(), {"id": field.auto_id})
        fast = field.field.widget.render(field.html_name, field.value(), {"id": field.auto_id})
        assert _tags(fast) == _tags(plain), name
        assert field.value() in ("", None) or "selected" in fast


def _tags(html: str) -> list:
    """Tags and text of an HTML fragment, whitespace between tags and attribute order aside."""
    out = []
    for part in re.split(r"(<[^>]+>)", html):
        part = part.strip()
        if part.startswith("<"):
            name, *attrs = re.findall(r'[\w-]+(?:="[^"]*")?', part)
            out.append((part[1] == "/", name, sorted(attrs)))
        elif part:
            out.append(part)
    return out


def test_lists_read_only_their_columns_and_no_row_twice(client_for, cases):
    """Search and queue pages select LIST_COLUMNS (no search text) and load nothing per row afterwards."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for("dispatcher")
    c.get("/console/")  # warm the session and reference caches
    for url, params in (("/console/search/", {"q": ""}), ("/console/queues/to_dispatch/", {}), ("/console/", {})):
        with CaptureQueriesContext(connection) as ctx:
            r = c.get(url, params)
        assert r.status_code == 200
        lists = [q["sql"] for q in ctx.captured_queries if 'FROM "cases_case"' in q["sql"] and "COUNT(" not in q["sql"]]
        assert lists, url
        assert all('"search_text"' not in q and '"reply"' not in q for q in lists), url
        one_row = [q for q in lists if re.search(r'WHERE "cases_case"\."id" = \S+ LIMIT', q)]
        assert one_row == [], url  # a deferred column read per row would show here
