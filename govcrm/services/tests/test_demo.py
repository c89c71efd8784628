"""The online services of `govcrm demo`: loaded into the demo city, applications in various states, once."""

from __future__ import annotations

import pytest

from govcrm.demo.city import DEMO_PASSWORD, city_ensure
from govcrm.services.demo import services_demo_ensure
from govcrm.services.models import Application, ProcessDefinition, ServiceItem

pytestmark = pytest.mark.django_db


def test_demo_services_in_the_demo_city():
    city_ensure()
    summary = services_demo_ensure(password=DEMO_PASSWORD)
    assert summary.processes == 3 and summary.applications == 8
    assert set(ServiceItem.objects.filter(online=True).values_list("code", flat=True)) >= {
        "business-licence-change", "residence-permit", "senior-allowance"}
    statuses = sorted(Application.objects.values_list("status", flat=True))
    assert statuses.count("approved") == 3 and statuses.count("rejected") == 1
    assert {"submitted", "in_review"} <= set(statuses)
    assert Application.objects.filter(escalated_at__isnull=False).exists()
    again = services_demo_ensure(password=DEMO_PASSWORD)
    assert again.applications == 0 and again.processes == 0
    assert ProcessDefinition.objects.count() == 3 and Application.objects.count() == 8
