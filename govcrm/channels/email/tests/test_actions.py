"""mail_receive: new cases, threading, idempotency, loops, rate limit, attachments, acknowledgement."""

import pytest
from django.test import override_settings

from govcrm.cases.models import Case, CaseEvent
from govcrm.channels.email import actions
from govcrm.channels.email.actions import mail_receive
from govcrm.channels.intake import UNCLASSIFIED
from govcrm.channels.models import Attachment, Interaction

from .fixtures import eml

pytestmark = pytest.mark.django_db


@pytest.fixture
def receive(django_capture_on_commit_callbacks):
    """mail_receive with the on-commit acknowledgement run, as it is after a real commit."""

    def run(raw, **kw):
        with django_capture_on_commit_callbacks(execute=True):
            return mail_receive(raw, **kw)

    return run


def test_new_message_opens_a_case_and_is_acknowledged(receive, mailoutbox):
    outcome = receive(eml("zh_new_request"))
    assert outcome.status == "new_case"
    case = Case.objects.get(number=outcome.case_numbers[0])
    assert case.channel == "email" and case.category.code == UNCLASSIFIED and case.language == "zh-hans"
    assert case.title == "和平里小区东门路灯坏了一个多星期"
    assert "路灯已经坏了一个多星期" in case.description
    assert case.citizen.name == "张伟" and case.citizen.preferred_channel == "email"
    assert case.citizen.identities.get(kind="email").value == "zhangwei1985@qq.com"
    inbound = Interaction.objects.get(direction="in")
    assert inbound.external_id == "<tencent_3F1C6A2B9E5D4C7B8A1F2E3D4C5B6A79@qq.com>" and inbound.case == case

    (ack,) = mailoutbox
    assert ack.to == ["zhangwei1985@qq.com"]
    assert ack.subject == f"[{case.number}] 我们已收到您的来信：和平里小区东门路灯坏了一个多星期"
    assert case.query_code in ack.body and case.number in ack.body and "张伟" in ack.body
    headers = ack.message()
    assert headers["Message-ID"] == f"<{case.number}.ack.email@govcrm.localhost>"
    assert headers["In-Reply-To"] == inbound.external_id
    assert headers["References"] == inbound.external_id
    assert headers["Auto-Submitted"] == "auto-replied"
    outbound = Interaction.objects.get(direction="out")
    assert outbound.case == case and outbound.external_id == headers["Message-ID"]


def test_english_message_gets_an_english_acknowledgement(receive, mailoutbox):
    outcome = receive(eml("en_new_request"))
    case = Case.objects.get(number=outcome.case_numbers[0])
    assert case.language == "en"
    (ack,) = mailoutbox
    assert ack.subject == f"[{case.number}] We have received your message: Water main leaking on Anding Road"
    assert "Dear Emily Carter," in ack.body and f"Query code: {case.query_code}" in ack.body


def test_redelivery_creates_nothing_and_sends_nothing(receive, mailoutbox):
    first = receive(eml("zh_new_request"))
    again = receive(eml("zh_new_request"))
    assert again.status == "duplicate" and again.case_numbers == first.case_numbers
    assert Case.objects.count() == 1 and Interaction.objects.filter(direction="in").count() == 1
    assert len(mailoutbox) == 1


def test_reply_joins_the_case_by_in_reply_to(receive, mailoutbox):
    first = receive(eml("zh_new_request"))
    reply = receive(eml("zh_reply"))
    assert reply.status == "threaded" and reply.case_numbers == first.case_numbers
    case = Case.objects.get(number=first.case_numbers[0])
    note = CaseEvent.objects.get(case=case, action="note")
    assert note.reason == "今天晚上还是没有亮，麻烦再催一下，谢谢！\n\n张伟"  # the quoted original is dropped
    interaction = Interaction.objects.get(external_id="<tencent_8A7B6C5D4E3F2A1B0C9D8E7F6A5B4C3D@qq.com>")
    assert interaction.case == case and interaction.data["threaded_by"] == "references"
    assert Case.objects.count() == 1 and len(mailoutbox) == 1  # a reply is not acknowledged


def test_reply_to_our_acknowledgement_joins_the_case(receive):
    first = receive(eml("en_new_request"))
    number = first.case_numbers[0]
    raw = (f"From: Emily Carter <emily.carter@gmail.com>\r\nTo: 12345@govcrm.localhost\r\n"
           f"Subject: Re: something else\r\nMessage-ID: <r1@mail.gmail.com>\r\n"
           f"In-Reply-To: <{number}.ack.email@govcrm.localhost>\r\n\r\nIt is still leaking.\r\n").encode()
    assert receive(raw).case_numbers == (number,)


def test_reply_to_a_notification_joins_the_case(receive):
    number = receive(eml("en_new_request")).case_numbers[0]
    raw = (f"From: emily.carter@gmail.com\r\nTo: 12345@govcrm.localhost\r\nSubject: Re: reply\r\n"
           f"Message-ID: <r2@mail.gmail.com>\r\nReferences: <x@y> <{number}.3.email@govcrm.localhost>\r\n\r\n"
           f"Thanks.\r\n").encode()
    outcome = receive(raw)
    assert outcome.status == "threaded" and outcome.case_numbers == (number,)


def test_message_ids_of_another_domain_are_not_ours(receive):
    number = receive(eml("en_new_request")).case_numbers[0]
    raw = (f"From: emily.carter@gmail.com\r\nTo: 12345@govcrm.localhost\r\nSubject: new\r\n"
           f"Message-ID: <r3@mail.gmail.com>\r\nIn-Reply-To: <{number}.ack.email@elsewhere.example>\r\n\r\n"
           f"A new problem.\r\n").encode()
    assert receive(raw).status == "new_case"


def test_case_number_in_the_subject_joins_the_case(receive, mailoutbox):
    number = receive(eml("zh_new_request")).case_numbers[0]
    outcome = receive(eml("zh_case_number_subject", CASENUMBER=number))
    assert outcome.status == "threaded" and outcome.case_numbers == (number,)
    interaction = Interaction.objects.get(external_id__contains="Coremail")
    assert interaction.data["threaded_by"] == "subject" and interaction.citizen.name == "王芳"
    assert len(mailoutbox) == 1


@pytest.mark.parametrize("subject", ["工单号：{n} 补充", "Case number {n}", "[#{n}] more", "[工单号 {n}]"])
def test_case_number_forms_in_the_subject(receive, subject):
    number = receive(eml("zh_new_request")).case_numbers[0]
    raw = (f"From: a@example.org\r\nTo: 12345@govcrm.localhost\r\nSubject: {subject.format(n=number)}\r\n"
           f"Message-ID: <s-{hash(subject)}@example.org>\r\n\r\nmore\r\n").encode()
    assert receive(raw).case_numbers == (number,)


def test_unknown_case_number_opens_a_new_case(receive):
    outcome = receive(eml("zh_case_number_subject", CASENUMBER="20000101999999"))
    assert outcome.status == "new_case"
    assert Case.objects.get().title == "路灯杆检修门被撬开"  # prefix and tag gone


def test_merged_case_leads_to_the_surviving_case(receive):
    kept = receive(eml("zh_new_request")).case_numbers[0]
    merged = receive(eml("en_new_request")).case_numbers[0]
    Case.objects.filter(number=merged).update(merged_into=Case.objects.get(number=kept))
    outcome = receive(eml("zh_case_number_subject", CASENUMBER=merged))
    assert outcome.case_numbers == (kept,)


@pytest.mark.parametrize(("fixture", "reason"), [("auto_reply", "auto-submitted"), ("bounce", "bounce")])
def test_automatic_mail_stores_nothing(receive, mailoutbox, fixture, reason):
    outcome = receive(eml(fixture))
    assert outcome.status == "ignored" and outcome.reason == reason
    assert not Interaction.objects.exists() and not Case.objects.exists() and mailoutbox == []


@pytest.mark.parametrize(("header", "reason"), [
    ("Precedence: bulk", "precedence"),
    ("X-Autoreply: yes", "auto-reply"),
    ("Auto-Submitted: auto-generated", "auto-submitted"),
    ("X-Loop: 12345@govcrm.localhost", "own-mail"),
])
def test_loop_headers(receive, header, reason):
    raw = (f"From: a@example.org\r\nTo: 12345@govcrm.localhost\r\n{header}\r\nSubject: x\r\n"
           f"Message-ID: <l1@example.org>\r\n\r\ntext\r\n").encode()
    assert receive(raw).reason == reason


def test_null_envelope_sender_is_a_bounce(receive):
    assert receive(eml("en_new_request"), envelope_from="").reason == "bounce"


def test_auto_submitted_no_is_a_person(receive):
    raw = (b"From: a@example.org\r\nTo: 12345@govcrm.localhost\r\nAuto-Submitted: no\r\nSubject: x\r\n"
           b"Message-ID: <p1@example.org>\r\n\r\nThe bins were not emptied.\r\n")
    assert receive(raw).status == "new_case"


def test_mail_from_our_own_address_is_a_loop(receive):
    raw = (b"From: 12345@govcrm.localhost\r\nTo: 12345@govcrm.localhost\r\nSubject: x\r\n"
           b"Message-ID: <o1@govcrm.localhost>\r\n\r\ntext\r\n")
    assert receive(raw).reason == "own-mail"


def test_suppressed_auto_response_opens_a_case_without_acknowledgement(receive, mailoutbox):
    raw = (b"From: a@example.org\r\nTo: 12345@govcrm.localhost\r\nX-Auto-Response-Suppress: OOF, AutoReply\r\n"
           b"Subject: x\r\nMessage-ID: <q1@example.org>\r\n\r\nThe bins were not emptied.\r\n")
    assert receive(raw).status == "new_case" and mailoutbox == []


def test_repeated_sender_opens_no_more_cases(receive, mailoutbox, monkeypatch):
    monkeypatch.setattr(actions, "SENDER_LIMIT_PER_HOUR", 3)

    def message(i, subject="complaint"):
        return (f"From: flood@example.org\r\nTo: 12345@govcrm.localhost\r\nSubject: {subject}\r\n"
                f"Message-ID: <f{i}@example.org>\r\n\r\nmessage {i}\r\n").encode()

    outcomes = [receive(message(i)) for i in range(5)]
    assert [o.status for o in outcomes] == ["new_case"] * 3 + ["stored"] * 2
    assert Case.objects.count() == 3 and len(mailoutbox) == 3
    assert Interaction.objects.get(external_id="<f4@example.org>").data["rate_limited"] is True
    number = outcomes[0].case_numbers[0]
    assert receive(message(9, subject=f"[{number}]")).status == "threaded"  # naming a case still works


def test_photo_is_kept_without_its_metadata(receive):
    outcome = receive(eml("zh_photo_attachment"))
    att = Attachment.objects.get()
    assert att.name == "路灯.jpg" and att.content_type == "image/jpeg"
    assert att.interaction.case.number == outcome.case_numbers[0]
    data = att.file.read()
    assert b"Exif" not in data and b"Xiaomi" not in data


def test_pdf_is_kept_and_a_refused_attachment_is_named(receive, mailoutbox):
    receive(eml("en_pdf_attachment"))
    (pdf,) = Attachment.objects.all()
    assert pdf.name == "证明材料.pdf" and pdf.content_type == "application/pdf"
    refused = Interaction.objects.get(direction="in").data["attachments_refused"]
    assert [r["name"] for r in refused] == ["setup.exe"]
    assert "setup.exe" in mailoutbox[0].body


def test_html_only_message(receive):
    outcome = receive(eml("zh_html_only"))
    case = Case.objects.get(number=outcome.case_numbers[0])
    assert case.description == "市民您好，\n\n我想咨询一下居住证续签需要带哪些材料？在哪里办理？\n\n谢谢&祝好"


@override_settings(GOVCRM_MAX_DESCRIPTION=100)
def test_long_message_is_shortened_and_kept_whole(receive):
    body = "很长的来信。" * 100
    raw = (f"From: a@example.org\r\nTo: 12345@govcrm.localhost\r\nSubject: long\r\nMessage-ID: <long@example.org>\r\n"
           f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()
    outcome = receive(raw)
    case = Case.objects.get(number=outcome.case_numbers[0])
    assert len(case.description) == 100 and case.description.endswith("…")
    original = Attachment.objects.get(name="message.eml")
    assert original.file.read() == raw


def test_empty_message_uses_its_subject(receive):
    raw = b"From: a@example.org\r\nTo: 12345@govcrm.localhost\r\nSubject: broken bench\r\nMessage-ID: <e@x>\r\n\r\n"
    outcome = receive(raw)
    assert Case.objects.get(number=outcome.case_numbers[0]).description == "broken bench"


def test_unusable_sender_address_opens_an_anonymous_case_without_acknowledgement(receive, mailoutbox):
    raw = b"From: nobody\r\nTo: 12345@govcrm.localhost\r\nSubject: x\r\nMessage-ID: <n@x>\r\n\r\ntext\r\n"
    outcome = receive(raw)
    assert outcome.status == "new_case" and Case.objects.get().citizen is None and mailoutbox == []


def test_acknowledgement_is_sent_once(receive, mailoutbox):
    receive(eml("zh_new_request"))
    inbound = Interaction.objects.get(direction="in")
    assert actions.acknowledgement_send(interaction_id=inbound.pk) == ""
    assert len(mailoutbox) == 1


def test_acknowledgement_waits_for_the_commit(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        mail_receive(eml("zh_new_request"))
    assert mailoutbox == [] and len(callbacks) == 1
    callbacks[0]()
    assert len(mailoutbox) == 1


def test_sweep_sends_an_acknowledgement_whose_task_was_lost(mailoutbox):
    import datetime as dt

    from django.utils import timezone

    outcome = mail_receive(eml("zh_new_request"))  # no commit callbacks run: the task is "lost"
    assert mailoutbox == []
    inbound = Interaction.objects.get(direction="in")
    assert inbound.data["acknowledge"] is True
    assert actions.acknowledgement_sweep() == 0  # too recent: its own task is still on it
    later = timezone.now() + actions.ACK_SWEEP_AFTER + dt.timedelta(seconds=1)
    assert actions.acknowledgement_sweep(now=later) == 1
    (ack,) = mailoutbox
    assert outcome.case_numbers[0] in ack.subject
    assert actions.acknowledgement_sweep(now=later) == 0 and len(mailoutbox) == 1  # sent once
    too_late = timezone.now() + dt.timedelta(days=actions.ACK_SWEEP_DAYS + 1)
    Interaction.objects.filter(direction="out").delete()
    assert actions.acknowledgement_sweep(now=too_late) == 0


def test_sweep_leaves_unacknowledged_kinds_alone(mailoutbox):
    import datetime as dt

    from django.utils import timezone

    suppressed = (b"From: a@example.org\r\nTo: 12345@govcrm.localhost\r\nX-Auto-Response-Suppress: All\r\n"
                  b"Subject: x\r\nMessage-ID: <s1@example.org>\r\n\r\nThe bins were not emptied.\r\n")
    mail_receive(suppressed)
    first = mail_receive(eml("zh_new_request"))
    reply = (f"From: zhangwei1985@qq.com\r\nTo: 12345@govcrm.localhost\r\nSubject: Re: [{first.case_numbers[0]}] x\r\n"
             f"Message-ID: <r1@qq.com>\r\n\r\n还是没修好\r\n").encode()
    assert mail_receive(reply).status == "threaded"
    assert Interaction.objects.filter(data__acknowledge=True).count() == 1  # only the message that opened a case
    later = timezone.now() + actions.ACK_SWEEP_AFTER + dt.timedelta(seconds=1)
    assert actions.acknowledgement_sweep(now=later) == 1
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["zhangwei1985@qq.com"]
