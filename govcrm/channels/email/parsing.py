"""Raw RFC 5322 bytes → one frozen `ParsedMail`, with the stdlib `email` package (policy.default).

Rules:
- Headers are decoded (RFC 2047 subjects and display names, RFC 2231 file names); a header
  that is missing is "" (or None for Return-Path, where "<>" — the null sender — means a bounce).
- The text is the text/plain body if there is one, else the text/html body turned into text.
  Parts labelled GB2312 or GBK are decoded as GB18030, their superset, because Chinese mailers
  often label GBK text as GB2312.
- Message ids keep their angle brackets ("<id@host>"), as they are compared and stored that way.
  A message without a Message-ID gets one derived from its bytes, so that a re-delivery of the
  same bytes is still recognised.
- Every non-body leaf part with a file name, or marked as an attachment, or not text, is an
  attachment (name and bytes); nothing here judges whether it may be kept.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Charsets whose declared name undersells what Chinese mailers put in them.
GB_SUPERSET = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "euc-cn": "gb18030"}


@dataclass(frozen=True)
class MailAttachment:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedMail:
    from_address: str
    from_name: str
    to: tuple[str, ...]
    subject: str
    text: str
    message_id: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    auto_submitted: str
    precedence: str
    x_autoreply: str
    x_auto_response_suppress: str
    x_loop: str
    return_path: str | None
    content_type: str
    report_type: str
    attachments: tuple[MailAttachment, ...]

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message ids this mail answers, nearest first: In-Reply-To, then References newest first."""
        seen: dict[str, None] = {}
        for mid in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(mid, None)
        return tuple(seen)


def parse_mail(raw: bytes) -> ParsedMail:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    from_name, from_address = _address(msg, "From")
    body = _body_part(msg)
    report_type = msg.get_param("report-type", header="content-type")
    return ParsedMail(
        from_address=from_address,
        from_name=from_name,
        to=tuple(addr for _name, addr in getaddresses([_header(msg, "To"), _header(msg, "Cc")]) if addr),
        subject=" ".join(_header(msg, "Subject").split()),
        text=_body_text(body) if body is not None else "",
        message_id=_message_id(msg, raw),
        in_reply_to=tuple(MESSAGE_ID.findall(_header(msg, "In-Reply-To"))),
        references=tuple(MESSAGE_ID.findall(_header(msg, "References"))),
        auto_submitted=_header(msg, "Auto-Submitted").strip().lower(),
        precedence=_header(msg, "Precedence").strip().lower(),
        x_autoreply=(_header(msg, "X-Autoreply") or _header(msg, "X-Autorespond")).strip().lower(),
        x_auto_response_suppress=_header(msg, "X-Auto-Response-Suppress").strip().lower(),
        x_loop=_header(msg, "X-Loop").strip().lower(),
        return_path=_return_path(msg),
        content_type=msg.get_content_type(),
        report_type=report_type.lower() if isinstance(report_type, str) else "",
        attachments=tuple(_attachments(msg, body)),
    )


def detect_language(text: str) -> str:
    """"zh-hans" when the text has at least one CJK character for every four Latin words, else "en"."""
    cjk = len(CJK.findall(text))
    words = len(LATIN_WORD.findall(text))
    return "zh-hans" if cjk and cjk * 4 >= words else "en"


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, IndexError, TypeError):  # a header too broken for its parser: treat as absent
        return ""
    return str(value) if value is not None else ""


def _address(msg: Message, name: str) -> tuple[str, str]:
    header = msg.get(name)
    addresses = getattr(header, "addresses", None)
    if addresses:
        first = addresses[0]
        return str(first.display_name or "").strip(), str(first.addr_spec or "").strip()
    display, addr = parseaddr(_header(msg, name))
    return display.strip(), addr.strip()


def _message_id(msg: Message, raw: bytes) -> str:
    found = MESSAGE_ID.findall(_header(msg, "Message-ID"))
    if found:
        return found[0][:255]
    return f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.invalid>"


def _return_path(msg: Message) -> str | None:
    if "Return-Path" not in msg:
        return None
    value = _header(msg, "Return-Path").strip()
    return value.strip("<>").strip()


def _body_part(msg: Message) -> Message | None:
    if not isinstance(msg, EmailMessage):
        return None
    try:
        return msg.get_body(preferencelist=("plain", "html"))
    except (KeyError, LookupError):
        return None


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = (part.get_content_charset() or "utf-8").lower()
    charset = GB_SUPERSET.get(charset, charset)
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return payload.decode("utf-8", errors="replace")


def _body_text(part: Message) -> str:
    text = _decoded(part)
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def _attachments(msg: Message, body: Message | None) -> list[MailAttachment]:
    found: list[MailAttachment] = []
    for part in msg.walk():
        if part.is_multipart() or part is body:
            continue
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        name = part.get_filename() or ""
        if disposition != "attachment" and not name and part.get_content_maintype() in ("text", "message"):
            continue  # the other alternative of the body, or a DSN's status part
        data = part.get_payload(decode=True) or b""
        if not name:
            name = f"attachment-{len(found) + 1}{mimetypes.guess_extension(ctype) or ''}"
        found.append(MailAttachment(name=name.replace("/", "_").replace("\\", "_")[:255], content_type=ctype,
                                    data=data))
    return found


class _TextOfHtml(HTMLParser):
    BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table",
                       "ul", "ol", "pre", "hr"})
    SKIP = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML mail body: blocks on their own lines, scripts and styles dropped."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# Where the quoted original starts in a reply, in the forms common mailers write it.
QUOTE_START = re.compile(
    r"^\s*(?:"
    r"On\b.{0,200}\bwrote:\s*$"
    r"|在\s?.{0,200}写道[:：]?\s*$"
    r"|-{2,}\s*(?:Original Message|原始邮件|Forwarded message|转发邮件|回复的原邮件)\s*-{2,}"
    r"|_{10,}\s*$"
    r")",
    re.IGNORECASE,
)
OUTLOOK_FROM = re.compile(r"^\s*(?:From|发件人)\s*[:：]", re.IGNORECASE)
OUTLOOK_NEXT = re.compile(r"^\s*(?:Sent|Date|To|发送时间|时间|日期|收件人)\s*[:：]", re.IGNORECASE)


def strip_quoted(text: str) -> str:
    """A reply without the message it quotes; the whole text if nothing would be left."""
    lines = text.split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        if QUOTE_START.match(line):
            break
        if OUTLOOK_FROM.match(line) and any(OUTLOOK_NEXT.match(nxt) for nxt in lines[i + 1:i + 4]):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    stripped = "\n".join(kept).strip()
    return stripped or text.strip()
