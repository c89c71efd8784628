"""Console test helpers: a signed-in client per staff member, and cases made through the real actions."""

import pytest
from django.test import Client

from govcrm.cases.tests.factories import LEAF, dispatch_rule, register


@pytest.fixture
def client_for(city):
    """A test client signed in as one of the small city's staff (by username)."""

    def make(username: str, *, language: str | None = None) -> Client:
        client = Client()
        client.force_login(city.users[username])
        if language:
            client.cookies["django_language"] = language
        return client

    return make


@pytest.fixture
def street_case(city):
    """A complaint about a street light, dispatched by rule to the Heping street office."""
    dispatch_rule(LEAF, city.street1, city.street_area)
    return register(city.actor("agent"))
