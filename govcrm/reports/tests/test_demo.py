"""The demo city (`govcrm demo`, so `make run`) comes with report subscriptions, so that its
supervisor receives the weekly report from the worker."""

import pytest

from govcrm.demo.city import city_ensure
from govcrm.reports.models import Subscription

pytestmark = pytest.mark.django_db


def test_the_demo_city_subscribes_its_supervisor_and_a_district_manager():
    city_ensure()
    subs = sorted(Subscription.objects.values_list("user__username", "user__email", "kind", "language"))
    assert subs == [("manager_d1", "manager_d1@staff.example.org", "weekly", "en"),
                    ("supervisor", "supervisor@staff.example.org", "monthly", "zh-hans"),
                    ("supervisor", "supervisor@staff.example.org", "weekly", "zh-hans")]
    city_ensure()
    assert Subscription.objects.count() == 3
