"""Keyset pagination: every row once, in order, forwards and backwards, NULLs included."""

import datetime as dt

import pytest
from django.utils import timezone

from govcrm.cases.models import Case
from govcrm.cases.tests.factories import register
from govcrm.console.paging import keyset_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(city):
    made = [register(city.actor("agent"), description=f"路灯坏了 {i}") for i in range(7)]
    # Some deadlines equal, some missing, so that ties and NULLs are crossed.
    base = timezone.now()
    dues = [base, base, None, base + dt.timedelta(hours=1), None, base - dt.timedelta(hours=1), base]
    for case, due in zip(made, dues, strict=True):
        Case.objects.filter(pk=case.pk).update(reply_due=due)
    return made


def walk(qs, size):
    pages, page = [], keyset_page(qs, size=size)
    pages.append(page)
    while page.has_next:
        page = keyset_page(qs, size=size, after=page.next_cursor)
        pages.append(page)
    return pages


@pytest.mark.parametrize("ordering", [("reply_due", "id"), ("-reply_due", "-id"), ("-created_at", "-id"), ("id",)])
def test_forward_walk_yields_every_row_once_in_order(cases, ordering):
    qs = Case.objects.order_by(*ordering)
    expected = list(qs.values_list("id", flat=True))
    pages = walk(qs, 3)
    assert [c.id for p in pages for c in p.items] == expected
    assert [len(p.items) for p in pages] == [3, 3, 1]
    assert all(p.total == 7 for p in pages)
    assert not pages[0].has_prev and pages[1].has_prev


@pytest.mark.parametrize("ordering", [("reply_due", "id"), ("-created_at", "-id")])
def test_backward_from_the_last_page_returns_the_same_pages(cases, ordering):
    qs = Case.objects.order_by(*ordering)
    pages = walk(qs, 3)
    back = keyset_page(qs, size=3, before=pages[2].prev_cursor)
    assert [c.id for c in back.items] == [c.id for c in pages[1].items]
    first = keyset_page(qs, size=3, before=back.prev_cursor)
    assert [c.id for c in first.items] == [c.id for c in pages[0].items]
    assert not first.has_prev and first.has_next


def test_a_malformed_cursor_gives_the_first_page(cases):
    qs = Case.objects.order_by("id")
    for bad in ("not-base64!", "W10", "WyJ4Il0", "e30"):
        assert [c.id for c in keyset_page(qs, size=2, after=bad).items] == list(qs.values_list("id", flat=True)[:2])


def test_one_count_per_page_and_none_on_request(cases, django_assert_num_queries):
    qs = Case.objects.order_by("id")
    with django_assert_num_queries(2):  # COUNT + the page
        keyset_page(qs, size=3)
    with django_assert_num_queries(1):
        keyset_page(qs, size=3, with_total=False)
