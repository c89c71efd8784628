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
