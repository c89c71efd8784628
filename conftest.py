"""Shared fixtures: a small city with one staff member per role, and API clients."""

import pytest


@pytest.fixture
def city(db):
    from govcrm.organization.tests.factories import small_city

    return small_city()


@pytest.fixture
def api_client_for(city):
    """A Django test client authenticated with a bearer token of the given user."""
    from django.test import Client

    from govcrm.organization.actions import api_token_create

    def make(username: str) -> Client:
        token = api_token_create(username=username)
        return Client(headers={"Authorization": f"Bearer {token}"})

    return make


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Django's cache (sign-in lockout counts, throttles) outlives a test's database rollback."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_reference_cache():
    """Each test starts with an empty reference-data cache (its rows roll back between tests)."""
    from govcrm.common.reference import invalidate

    invalidate()
    yield
    invalidate()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Tests that roll back (django_db) before those that commit and flush, after every other reordering.

    pytest-django sorts them so, as Django's runner does: a committing test (transaction=True, a live
    server) empties the database when it ends, so a rolling-back test after it on the same xdist
    worker would find no reference data. pytest's own grouping of tests by a session-scoped parameter
    (pytest-playwright's browser, which a test gets just by naming an argument `page`) can move
    committing browser tests ahead again; sorting last keeps Django's order whatever came before.
    """

    def order(item) -> int:
        marker = item.get_closest_marker("django_db")
        names = getattr(item, "fixturenames", ())
        committing = bool(marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")))
        if committing or "transactional_db" in names or "live_server" in names:
            return 1
        return 0 if marker or "db" in names else 2

    items.sort(key=order)
