"""The console's webhook pages (administrators) and the admin of subscribers."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from govcrm.audit.models import AuditRecord
from govcrm.cases.tests.factories import register
from govcrm.citizens.crypto import decrypt
from govcrm.integration.models import Delivery, DeliveryAttempt, Subscriber

from .factories import subscriber

pytestmark = pytest.mark.django_db


def _client(city, username: str, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(city.users[username])
    client.cookies["django_language"] = language
    return client


def _dead(city) -> Delivery:
    sub, _ = subscriber("http://127.0.0.1:9/x", name="城管局系统")
    register(city.actor("agent"))
    delivery = Delivery.objects.get(subscriber=sub)
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.DEAD, attempts=10, last_status_code=503,
                                                   last_error="Service Unavailable")
    DeliveryAttempt.objects.create(delivery=delivery, number=10, at=timezone.now(), status_code=503, latency_ms=12,
                                   error="Service Unavailable")
    return delivery


def test_administrators_see_subscribers_deliveries_and_dead_letters(city):
    dead = _dead(city)
    page = _client(city, "admin").get("/console/integration/?status=dead")
    assert page.status_code == 200
    html = page.content.decode()
    assert "城管局系统" in html and "gov.govcrm.case.registered" in html
    assert f'action="/console/integration/deliveries/{dead.pk}/retry/"' in html  # the retry button
    delivered = _client(city, "admin").get("/console/integration/?status=delivered").content.decode()
    assert "/retry/" not in delivered

    detail = _client(city, "admin").get(f"/console/integration/deliveries/{dead.pk}/")
    assert detail.status_code == 200
    text = detail.content.decode()
    assert "Service Unavailable" in text and "503" in text and str(dead.event_id) in text
    assert "&quot;specversion&quot;: &quot;1.0&quot;" in text


def test_the_page_speaks_chinese(city):
    _dead(city)
    html = _client(city, "admin", "zh-hans").get("/console/integration/").content.decode()
    assert "<h1>Webhook deliveries</h1>" not in html
    assert re.search(r"<h1>[^<]*[\u4e00-\u9fff][^<]*</h1>", html)


def test_retry_makes_a_dead_letter_pending_again_and_is_audited(city):
    dead = _dead(city)
    response = _client(city, "admin").post(f"/console/integration/deliveries/{dead.pk}/retry/")
    assert response.status_code == 302
    dead.refresh_from_db()
    assert dead.status == "pending" and dead.attempts_before_retry == 10
    assert AuditRecord.objects.filter(object_type="integration.delivery", object_id=str(dead.pk)).exists()
    # Retrying what is not dead changes nothing and says why.
    again = _client(city, "admin").post(f"/console/integration/deliveries/{dead.pk}/retry/", follow=True)
    assert "Only a dead letter is retried" in again.content.decode()


@pytest.mark.parametrize("username", ["agent", "dispatcher", "supervisor", "analyst", "street_handler",
                                      "district_manager"])
def test_other_roles_are_refused_and_nothing_changes(city, username):
    dead = _dead(city)
    client = _client(city, username)
    assert client.get("/console/integration/").status_code == 403
    assert client.get(f"/console/integration/deliveries/{dead.pk}/").status_code == 403
    assert client.post(f"/console/integration/deliveries/{dead.pk}/retry/").status_code == 403
    dead.refresh_from_db()
    assert dead.status == "dead"


def test_the_retry_is_post_only(city):
    dead = _dead(city)
    assert _client(city, "admin").get(f"/console/integration/deliveries/{dead.pk}/retry/").status_code == 405


def test_admin_creates_a_subscriber_shows_its_secret_once_and_rotates_it(city):
    get_user_model().objects.filter(username="admin").update(is_staff=True, is_superuser=True)
    client = _client(city, "admin")
    response = client.post("/admin/integration/subscriber/add/", {
        "name": "水务系统", "url": "https://water.example.gov/govcrm", "active": "on",
        "event_types": '["gov.govcrm.case.*"]', "unit": city.water.pk, "category": ""}, follow=True)
    assert response.status_code == 200
    sub = Subscriber.objects.get(name="水务系统")
    secret = re.search(r"whsec_[\w-]+", response.content.decode()).group(0)
    assert decrypt(sub.secret_encrypted) == secret
    assert secret not in client.get(f"/admin/integration/subscriber/{sub.pk}/change/").content.decode()

    rotated = client.post("/admin/integration/subscriber/", {"action": "rotate_secret", "_selected_action": [sub.pk]},
                          follow=True)
    new = re.search(r"whsec_[\w-]+", rotated.content.decode()).group(0)
    sub.refresh_from_db()
    assert new != secret and decrypt(sub.secret_encrypted) == new
    assert sub.previous_secret_until > timezone.now() + dt.timedelta(hours=23)


def test_admin_refuses_a_bad_subscriber_and_stores_nothing(city):
    get_user_model().objects.filter(username="admin").update(is_staff=True, is_superuser=True)
    client = _client(city, "admin")
    for bad in ({"url": "ftp://x.example/y", "event_types": "[]"},
                {"url": "https://x.example/y", "event_types": '["case.dispatched"]'},
                {"url": "https://x.example/y", "event_types": '{"a": 1}'}):
        response = client.post("/admin/integration/subscriber/add/", {"name": "x", "active": "on", "unit": "",
                                                                      "category": "", **bad})
        assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert Subscriber.objects.count() == 0
