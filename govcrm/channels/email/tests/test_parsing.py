"""Parsing real messages: encodings, names, bodies, threading and loop headers, attachments."""

import pytest

from govcrm.channels.email.parsing import detect_language, html_to_text, parse_mail, strip_quoted

from .fixtures import eml


def test_chinese_message_from_qq_mail():
    mail = parse_mail(eml("zh_new_request"))
    assert mail.from_name == "张伟" and mail.from_address == "zhangwei1985@qq.com"
    assert mail.subject == "和平里小区东门路灯坏了一个多星期"
    assert mail.text.startswith("您好：") and "13800138000" in mail.text  # GB2312 label, GB18030 bytes
    assert "<div>" not in mail.text  # the text/plain alternative is preferred
    assert mail.message_id == "<tencent_3F1C6A2B9E5D4C7B8A1F2E3D4C5B6A79@qq.com>"
    assert mail.to == ("12345@govcrm.localhost",)
    assert mail.attachments == () and mail.auto_submitted == "" and mail.return_path is None


def test_english_message_quoted_printable():
    mail = parse_mail(eml("en_new_request"))
    assert (mail.from_name, mail.from_address) == ("Emily Carter", "emily.carter@gmail.com")
    assert "Anding Road near number 42" in mail.text
    assert detect_language(mail.text) == "en"


def test_reply_has_its_thread_and_loses_the_quote():
    mail = parse_mail(eml("zh_reply"))
    original = "<tencent_3F1C6A2B9E5D4C7B8A1F2E3D4C5B6A79@qq.com>"
    assert mail.in_reply_to == (original,) and mail.references == (original,)
    assert mail.thread_ids == (original,)
    assert mail.subject == "回复：和平里小区东门路灯坏了一个多星期"
    assert strip_quoted(mail.text) == "今天晚上还是没有亮，麻烦再催一下，谢谢！\n\n张伟"


def test_rfc2047_inside_a_quoted_display_name():
    mail = parse_mail(eml("zh_case_number_subject", CASENUMBER="20261127000123"))
    assert mail.from_name == "王芳"
    assert mail.subject == "Re: [20261127000123] 路灯杆检修门被撬开"


def test_auto_reply_headers():
    mail = parse_mail(eml("auto_reply"))
    assert mail.auto_submitted == "auto-replied"
    assert mail.x_auto_response_suppress == "all"
    assert mail.in_reply_to == ("<20261127000001.ack.email@govcrm.localhost>",)


def test_bounce_is_a_delivery_report_from_the_null_sender():
    mail = parse_mail(eml("bounce"))
    assert mail.content_type == "multipart/report" and mail.report_type == "delivery-status"
    assert mail.return_path == ""
    assert mail.from_address == "MAILER-DAEMON@mx.govcrm.localhost"
    assert mail.attachments == ()  # the report's status and header parts are not attachments


def test_photo_attachment_with_rfc2231_name():
    mail = parse_mail(eml("zh_photo_attachment"))
    (photo,) = mail.attachments
    assert photo.name == "路灯.jpg" and photo.content_type == "image/jpeg"
    assert photo.data.startswith(b"\xff\xd8\xff")
    assert mail.text == "附件是路灯的照片，位置在和平里小区东门外公交站旁边。"


def test_pdf_attachment_with_rfc2047_name():
    mail = parse_mail(eml("en_pdf_attachment"))
    pdf, exe = mail.attachments
    assert pdf.name == "证明材料.pdf" and pdf.data.startswith(b"%PDF-")
    assert exe.name == "setup.exe" and exe.data.startswith(b"MZ")


def test_html_only_message_becomes_text():
    mail = parse_mail(eml("zh_html_only"))
    assert mail.text == "市民您好，\n\n我想咨询一下居住证续签需要带哪些材料？在哪里办理？\n\n谢谢&祝好"
    assert "alert" not in mail.text


def test_message_without_message_id_gets_a_stable_one():
    raw = b"From: a@example.org\r\nTo: 12345@govcrm.localhost\r\nSubject: hi\r\n\r\nhello\r\n"
    assert parse_mail(raw).message_id == parse_mail(raw).message_id
    assert parse_mail(raw).message_id.endswith("@no-message-id.invalid>")
    assert parse_mail(raw + b"x").message_id != parse_mail(raw).message_id


def test_broken_message_still_parses():
    mail = parse_mail(b"From: =?utf-8?b?broken\r\nSubject: =?gb2312?B?xxx?=\r\n\r\n\xff\xfe body")
    assert "body" in mail.text


@pytest.mark.parametrize(("text", "language"), [
    ("小区路灯坏了", "zh-hans"),
    ("The street light is broken", "en"),
    ("My WiFi 密码忘了", "zh-hans"),
    ("A long English message about a broken water main near the school gate, signed by 张伟", "en"),
    ("", "en"),
])
def test_language_detection(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize("quote", [
    "On Fri, 27 Nov 2026 at 09:12, 12345 <12345@govcrm.localhost> wrote:",
    "在 2026年11月27日 09:12，12345 写道：",
    "-----Original Message-----",
])
def test_strip_quoted_forms(quote):
    assert strip_quoted(f"Still broken.\n\n{quote}\n> old text\n") == "Still broken."


def test_strip_quoted_keeps_a_message_that_is_all_quote():
    assert strip_quoted("> only a quote") == "> only a quote"


def test_html_to_text_blocks():
    assert html_to_text("<p>a</p><p>b<br>c</p><style>x{}</style>") == "a\n\nb\nc"
