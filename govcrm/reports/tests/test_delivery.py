"""The scheduled mailing through a real SMTP server on 127.0.0.1 (aiosmtpd): each subscriber gets a
period's report once, even when the job runs twice or through the worker's periodic path; a unit
manager's attachment holds its subtree only; a refused mailing is retried later, once; a claim held
by another worker is left alone, a stale one taken over."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.utils.module_loading import import_string

from govcrm.analytics.tests.test_metrics import month  # noqa: F401 -- the fixture
from govcrm.common.management.commands.worker import PERIODIC
from govcrm.common.testing.processes import SmtpSink, free_port
from govcrm.reports.actions import STALE_CLAIM, reports_send_due, subscription_save
from govcrm.reports.models import Delivery, Report

from .test_files import pdf_text

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
AFTER_WEEK_10 = dt.datetime(2026, 3, 9, 0, 5, tzinfo=SHANGHAI)  # Monday of week 11, just after midnight


def use_smtp(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 10
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False


@pytest.fixture
def sink(settings):
    with SmtpSink() as smtp:
        use_smtp(settings, smtp.port)
        yield smtp


def subscribe(city, username, kind, language, pdf=True, xlsx=True):
    user = city.users[username]
    user.email = f"{username}@hotline.example.cn"
    user.save(update_fields=["email"])
    return subscription_save(actor=city.actor(username), kind=kind, language=language, pdf=pdf, xlsx=xlsx)


def attachments(message: EmailMessage) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def test_the_scheduled_run_mails_each_subscriber_once(month, sink):  # noqa: F811
    city = month["city"]
    month["con"].close()  # the job refreshes the warehouse (a writer) first
    subscribe(city, "supervisor", "weekly", "zh-hans")
    subscribe(city, "analyst", "weekly", "en", pdf=False)
    subscribe(city, "district_manager", "weekly", "en", xlsx=False)
    subscribe(city, "district_manager", "monthly", "zh-hans")
    first = reports_send_due(now=AFTER_WEEK_10)
    second = reports_send_due(now=AFTER_WEEK_10)
    assert (first.sent, first.failed, second.sent, second.failed) == (4, 0, 0, 0)
    got = Counter((m["To"], m["X-GovCRM-Report"]) for m in sink.messages)
    assert got == {("supervisor@hotline.example.cn", "weekly 2026-W10"): 1,
                   ("analyst@hotline.example.cn", "weekly 2026-W10"): 1,
                   ("district_manager@hotline.example.cn", "weekly 2026-W10"): 1,
                   # on 9 March the month that ended last is February
                   ("district_manager@hotline.example.cn", "monthly 2026-02"): 1}
    by = {(m["To"].split("@")[0], m["X-GovCRM-Report"].split()[0]): m for m in sink.messages}

    sup = by["supervisor", "weekly"]
    assert "周报" in sup["Subject"] and "全市" in sup["Subject"]
    body = sup.get_body(("plain",)).get_content()
    assert "响应率: 62.5%" in body and "满意率: 50.0%" in body
    files = attachments(sup)
    assert sorted(files) == ["govcrm-weekly-2026-W10-city-zh-hans.pdf", "govcrm-weekly-2026-W10-city-zh-hans.xlsx"]
    text = pdf_text(files["govcrm-weekly-2026-W10-city-zh-hans.pdf"])
    assert "响应率" in text and "62.5" in text and city.urban.name_zh in text

    ana = by["analyst", "weekly"]
    assert "Weekly report" in ana["Subject"]
    assert list(attachments(ana)) == ["govcrm-weekly-2026-W10-city-en.xlsx"]

    # the district manager's report: the district's subtree only (4 of 7 responded on time)
    dm = by["district_manager", "weekly"]
    (name, data), = attachments(dm).items()
    assert name == "govcrm-weekly-2026-W10-gov-d1-en.pdf"
    text = pdf_text(data)
    assert city.district.name_en in text and city.street1.name_en in text
    assert city.urban.name_en not in text and city.water.name_en not in text
    assert " ".join(["Response rate", "4", "7", "57.1"]) in " ".join(text.split())

    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 4
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    # three reports built: the city's in Chinese and in English, the district's in English and its
    # monthly in Chinese
    assert Report.objects.count() == 4
    xlsx = Report.objects.get(kind="weekly", scope_path="", language="en").xlsx
    book = openpyxl.load_workbook(__import__("io").BytesIO(bytes(xlsx)), read_only=True)
    assert "Rates" in book.sheetnames


def test_the_worker_periodic_job_mails_once_when_enqueued_twice(month, sink):  # noqa: F811
    """The path the worker takes: PERIODIC's task, enqueued twice (two workers on the database backend)."""
    city = month["city"]
    month["con"].close()
    subscribe(city, "supervisor", "weekly", "en")
    path = "govcrm.reports.tasks.send_due_reports"
    assert PERIODIC[path] == 900
    task = import_string(path)
    task.enqueue()
    task.enqueue()
    assert [m["To"] for m in sink.messages] == ["supervisor@hotline.example.cn"]
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 1


class RefusingSink:
    """An SMTP server on 127.0.0.1 that answers 451 (try again later) to the first `refuse` messages."""

    def __init__(self, refuse: int):
        from aiosmtpd.controller import Controller

        self.refuse, self.messages = refuse, []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
                if sink.refuse > 0:
                    sink.refuse -= 1
                    return "451 4.3.0 mailbox busy, try again later"
                sink.messages.append(BytesParser(policy=default_policy).parsebytes(envelope.content))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def test_a_refused_mailing_is_retried_later_and_sent_once(month, settings):  # noqa: F811
    city = month["city"]
    month["con"].close()
    subscribe(city, "analyst", "weekly", "zh-hans")
    with RefusingSink(refuse=1) as smtp:
        use_smtp(settings, smtp.port)
        first = reports_send_due(now=AFTER_WEEK_10, kinds=["weekly"])
        assert (first.sent, first.failed) == (0, 1) and "451" in first.errors[0]
        delivery = Delivery.objects.get()
        assert delivery.status == Delivery.Status.FAILED
        assert delivery.next_attempt_at == AFTER_WEEK_10 + dt.timedelta(minutes=5)
        # not yet due again
        assert reports_send_due(now=AFTER_WEEK_10 + dt.timedelta(minutes=1), kinds=["weekly"]).sent == 0
        later = reports_send_due(now=AFTER_WEEK_10 + dt.timedelta(minutes=6), kinds=["weekly"])
        again = reports_send_due(now=AFTER_WEEK_10 + dt.timedelta(hours=1), kinds=["weekly"])
    assert (later.sent, again.sent) == (1, 0)
    assert len(smtp.messages) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Delivery.Status.SENT, 2, "")


def test_a_claim_held_by_another_worker_is_left_alone_and_a_stale_one_taken_over(month, sink):  # noqa: F811
    city = month["city"]
    month["con"].close()
    sub = subscribe(city, "supervisor", "weekly", "en")
    claimed = AFTER_WEEK_10 - dt.timedelta(minutes=1)
    Delivery.objects.create(user=sub.user, subscription=sub, kind="weekly", period_start=dt.date(2026, 3, 2),
                            attempts=1, claimed_at=claimed)
    assert reports_send_due(now=AFTER_WEEK_10, kinds=["weekly"]).sent == 0
    assert sink.messages == []
    # the other worker died mid-send: after STALE_CLAIM the claim is taken over
    result = reports_send_due(now=claimed + STALE_CLAIM + dt.timedelta(seconds=1), kinds=["weekly"])
    assert result.sent == 1 and len(sink.messages) == 1
    assert Delivery.objects.get().attempts == 2


def test_a_subscriber_who_lost_the_role_is_not_retried(month, sink):  # noqa: F811
    from govcrm.organization.models import Role, StaffProfile

    city = month["city"]
    month["con"].close()
    sub = subscribe(city, "analyst", "weekly", "en")
    StaffProfile.objects.filter(user=sub.user).update(role=Role.AGENT)
    result = reports_send_due(now=AFTER_WEEK_10, kinds=["weekly"])
    assert (result.sent, result.failed) == (0, 1) and sink.messages == []
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and delivery.next_attempt_at is None
    assert reports_send_due(now=AFTER_WEEK_10 + dt.timedelta(days=1), kinds=["weekly"]).failed == 0
