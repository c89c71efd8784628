"""Dashboards' reads go to the read replica only inside replica_reads(), and only when one is configured."""

import pytest
from django.db import router
from django.http import HttpResponse
from django.test import RequestFactory

from govcrm.cases.models import Case
from govcrm.common.replica import ReplicaRouter, replica_reads, replica_view

pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")


@pytest.fixture
def with_replica(settings):
    settings.DATABASES = {**settings.DATABASES, "replica": {**settings.DATABASES["default"]}}
    return settings


def test_reads_in_the_block_go_to_the_replica_writes_never(with_replica):
    assert Case.objects.all().db == "default"
    with replica_reads() as alias:
        assert alias == "replica"
        assert Case.objects.all().db == "replica"
        assert router.db_for_write(Case) == "default"
        assert Case.objects.select_for_update().db == "default"  # a locking read is a write
    assert Case.objects.all().db == "default"


def test_without_a_replica_everything_stays_on_default():
    with replica_reads() as alias:
        assert alias == "default"
        assert Case.objects.all().db == "default"


def test_migrations_never_run_on_the_replica():
    assert ReplicaRouter().allow_migrate("replica", "cases") is False
    assert ReplicaRouter().allow_migrate("default", "cases") is True


def test_view_decorator_routes_get_only(with_replica):
    @replica_view
    def view(request):
        return HttpResponse(Case.objects.all().db)

    factory = RequestFactory()
    assert view(factory.get("/dash")).content == b"replica"
    assert view(factory.head("/dash")).content == b"replica"
    assert view(factory.post("/dash")).content == b"default"
    assert Case.objects.all().db == "default"  # nothing leaks out of the request
