"""The console pages: subscribing (one's own; an administrator anyone's), clear refusals in the
caller's language that store nothing, ending a subscription, and the download page's role scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from govcrm.audit.models import AuditRecord
from govcrm.reports.models import Report, Subscription

pytestmark = pytest.mark.django_db


def signed_in(client, city, username, email=True):
    user = city.users[username]
    if email:
        user.email = f"{username}@hotline.example.cn"
        user.save(update_fields=["email"])
    client.force_login(user)
    return client


def test_a_supervisor_subscribes_changes_and_unsubscribes(city, client):
    signed_in(client, city, "supervisor")
    r = client.get("/console/reports/subscriptions/")
    assert r.status_code == 200 and "报告订阅" in r.content.decode()
    r = client.post("/console/reports/subscriptions/", {"kind": "weekly", "language": "en", "pdf": "1"})
    assert r.status_code == 302
    sub = Subscription.objects.get()
    assert (sub.user.username, sub.kind, sub.language, sub.formats) == ("supervisor", "weekly", "en", ["pdf"])
    r = client.post("/console/reports/subscriptions/", {"kind": "weekly", "language": "zh-hans", "pdf": "1",
                                                        "xlsx": "1"})
    sub = Subscription.objects.get()
    assert (sub.language, sub.formats) == ("zh-hans", ["pdf", "xlsx"])
    assert list(AuditRecord.objects.filter(object_type="reports.subscription").values_list("action", flat=True)
                .order_by("pk")) == ["config.add", "config.change"]
    r = client.post(f"/console/reports/subscriptions/{sub.pk}/delete/")
    assert r.status_code == 302 and not Subscription.objects.exists()


@pytest.mark.parametrize(("data", "language", "message"), [
    ({"kind": "daily", "language": "en", "pdf": "1"}, "en", "Choose the weekly or the monthly report."),
    ({"kind": "weekly", "language": "fr", "pdf": "1"}, "zh-hans", "请选择中文或英文。"),
    ({"kind": "weekly", "language": "en"}, "en", "Choose at least one format (PDF or XLSX)."),
    ({"kind": "monthly", "language": "en", "pdf": "1"}, "zh-hans", "没有电子邮件地址"),
])
def test_bad_input_is_a_clear_422_in_the_callers_language_and_stores_nothing(city, client, data, language,
                                                                             message):
    signed_in(client, city, "analyst", email="没有" not in message)
    client.cookies["django_language"] = language
    r = client.post("/console/reports/subscriptions/", data)
    assert r.status_code == 422
    assert message in r.content.decode()
    assert not Subscription.objects.exists() and not AuditRecord.objects.exists()


def test_an_administrator_manages_everyones_subscriptions_others_only_their_own(city, client):
    city.users["district_manager"].email = "dm@hotline.example.cn"
    city.users["district_manager"].save()
    signed_in(client, city, "admin")
    r = client.post("/console/reports/subscriptions/", {"user": "district_manager", "kind": "monthly",
                                                        "language": "zh-hans", "xlsx": "1"})
    assert r.status_code == 302
    sub = Subscription.objects.get(user__username="district_manager")
    r = client.get("/console/reports/subscriptions/")
    assert "district_manager" in r.content.decode()
    # an agent may not receive reports: refused, nothing stored
    r = client.post("/console/reports/subscriptions/", {"user": "agent", "kind": "weekly", "language": "en",
                                                        "pdf": "1"})
    assert r.status_code == 422 and Subscription.objects.count() == 1
    client.logout()
    signed_in(client, city, "analyst")
    assert client.post("/console/reports/subscriptions/", {"user": "district_manager", "kind": "weekly",
                                                           "language": "en", "pdf": "1"}).status_code == 403
    r = client.post(f"/console/reports/subscriptions/{sub.pk}/delete/")
    assert r.status_code == 404 and "没有这个订阅" in r.content.decode()
    assert Subscription.objects.count() == 1
    client.logout()
    signed_in(client, city, "district_manager")
    body = client.get("/console/reports/subscriptions/").content.decode()
    assert "月报 · 已订阅" in body and "全部订阅" not in body  # its own, made by the administrator
    assert client.post(f"/console/reports/subscriptions/{sub.pk}/delete/").status_code == 302
    assert not Subscription.objects.exists()


def report(unit, language="zh-hans"):
    return Report.objects.create(kind="monthly", period_start=dt.date(2026, 3, 1), period_end=dt.date(2026, 3, 31),
                                 scope_path=unit.path if unit else "", scope_unit=unit, language=language,
                                 as_of=timezone.now(), pdf=b"%PDF-1.4 city" if unit is None else b"%PDF-1.4 unit",
                                 xlsx=b"PK")


def test_the_download_page_is_scoped_like_the_dashboards(city, client):
    whole, district, urban = report(None), report(city.district), report(city.urban, "en")
    signed_in(client, city, "analyst")
    r = client.get("/console/reports/")
    body = r.content.decode()
    assert r.status_code == 200 and "2026年3月" in body
    for rep in (whole, district, urban):
        assert f"/console/reports/{rep.pk}.pdf" in body
    r = client.get(f"/console/reports/{whole.pk}.pdf")
    assert r.status_code == 200 and r.content == b"%PDF-1.4 city" and r["Content-Type"] == "application/pdf"
    assert 'filename="govcrm-monthly-2026-03-city-zh-hans.pdf"' in r["Content-Disposition"]
    assert client.get(f"/console/reports/{whole.pk}.docx").status_code == 404
    client.logout()
    signed_in(client, city, "district_manager")
    body = client.get("/console/reports/").content.decode()
    assert f"/console/reports/{district.pk}.pdf" in body
    assert f"/console/reports/{whole.pk}.pdf" not in body and f"/console/reports/{urban.pk}.pdf" not in body
    assert client.get(f"/console/reports/{district.pk}.xlsx").status_code == 200
    r = client.get(f"/console/reports/{whole.pk}.pdf")
    assert r.status_code == 404 and "没有这份报告" in r.content.decode()
    assert client.get(f"/console/reports/{urban.pk}.pdf").status_code == 404
    for username in ("agent", "dispatcher", "street_handler", "urban_handler"):
        client.logout()
        signed_in(client, city, username)
        assert client.get("/console/reports/").status_code == 403, username
        assert client.get(f"/console/reports/{urban.pk}.pdf").status_code == 403, username
        assert client.get("/console/reports/subscriptions/").status_code == 403, username
