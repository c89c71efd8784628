"""Inbound e-mail → the one intake; the acknowledgement of a new case.

Rules:
- Every message is stored before it is acknowledged: `mail_receive` returns only after the
  intake's transaction committed, and the SMTP listener answers 250 only then. The
  acknowledgement mail is enqueued on commit, so it never announces a case that was rolled back.
  A message that must be acknowledged is marked so (`data["acknowledge"]`); `acknowledgement_sweep`
  sends the acknowledgements whose task was lost (ADR 0012). Delivery is at least once: a sweep
  and a retry meeting at the same moment can both send it, under the same Message-ID.
- Idempotent on the Message-ID (the interaction's `external_id`): a re-delivered message
  creates nothing and is not acknowledged again.
- Loops are broken before anything is stored: bounces (null sender, multipart/report, mailer
  daemons), automatic mail (Auto-Submitted other than "no", Precedence bulk/junk/list,
  X-Autoreply), and mail from our own addresses are logged and dropped (RFC 3834).
- Threading, first match wins: In-Reply-To/References naming a Message-ID we sent (ours look
  like "<CASE.SEQ.email@domain>" or "<CASE.ack.email@domain>") or one stored for an earlier
  e-mail of a case; then a case number in the subject ("[20261127000123]", "工单号 …").
  A number is used only if the case exists (a merged case leads to the one it was merged into).
  A threaded reply is stored without the text it quotes.
- A sender with more than SENDER_LIMIT_PER_HOUR messages in the last hour opens no new case:
  their messages are stored on their timeline and still join cases they name, unacknowledged.
- Mail from a fax gateway (settings.GOVCRM_FAX_GATEWAYS) is a fax: each TIFF/PDF/image
  attachment goes to `fax.actions.fax_receive` instead of opening an e-mail case.
- Attachments are kept when `clean_document` accepts them (pictures without metadata, PDF,
  TIFF); refused ones are named in the interaction's data and in the acknowledgement.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from govcrm.cases.models import Case
from govcrm.channels.intake import IntakeMessage, IntakeResult, intake_receive, interaction_record_outbound
from govcrm.channels.models import Interaction
from govcrm.channels.uploads import MAX_FILES, CleanFile, clean_document
from govcrm.citizens import identities
from govcrm.citizens.actions import CitizenInput, citizen_find, citizen_input_clean
from govcrm.common.errors import ValidationFailed

from .parsing import ParsedMail, detect_language, parse_mail, strip_quoted

logger = logging.getLogger(__name__)

CHANNEL = "email"
SENDER_LIMIT_PER_HOUR = 20
AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
DAEMON_LOCAL_PARTS = frozenset({"mailer-daemon", "postmaster"})
SUPPRESS_ACK = ("all", "autoreply", "oof")
CASE_NUMBER = r"(?<!\d)(\d{14})(?!\d)"
SUBJECT_NUMBER = re.compile(
    r"\[\s*(?:#|工单号?\s*[:：#]?\s*|case\s*#?\s*)?" + CASE_NUMBER + r"\s*\]"
    r"|(?:工单号|工单编号|受理号|case\s+(?:no\.?|number|#)?)\s*[:：#]?\s*" + CASE_NUMBER,
    re.IGNORECASE,
)
REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|回复|答复|转发|自动回复|自动答复)\s*(?:\[\d+\])?\s*[:：]\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class MailOutcome:
    """What became of one message: the listener's answer is made from it."""

    status: str  # new_case | threaded | stored | duplicate | ignored | fax
    case_numbers: tuple[str, ...] = ()
    reason: str = ""


def intake_addresses() -> frozenset[str]:
    """The addresses the listener accepts mail for: GOVCRM_MAIL_INTAKE (comma-separated) and
    GOVCRM_FAX_INTAKE if a separate address is configured for the fax gateway."""
    raw = f"{settings.GOVCRM_MAIL_INTAKE},{getattr(settings, 'GOVCRM_FAX_INTAKE', '')}"
    return frozenset(a.strip().lower() for a in raw.split(",") if a.strip())


def fax_gateways() -> frozenset[str]:
    return frozenset(a.strip().lower() for a in settings.GOVCRM_FAX_GATEWAYS if a.strip())


def own_domain() -> str:
    return settings.GOVCRM_MAIL_FROM.rpartition("@")[2].lower() or "govcrm.localhost"


def acknowledgement_message_id(case_number: str) -> str:
    return f"<{case_number}.ack.email@{own_domain()}>"


OWN_MESSAGE_ID = re.compile(r"^<(\d{14})\.[\w.-]+@([^<>@\s]+)>$")


# --- receiving --------------------------------------------------------------------------------


def mail_receive(raw: bytes, *, envelope_from: str | None = None) -> MailOutcome:
    """Store one inbound message (see the module's rules) and say what became of it.

    `envelope_from` is the SMTP MAIL FROM ("" for the null sender of bounces), when known.
    Raises ValidationFailed for a message that can never be stored, and DatabaseError when the
    database failed (the sender should retry).
    """
    mail = parse_mail(raw)
    sender = (mail.from_address or envelope_from or "").lower()
    gateways = fax_gateways()
    if sender in gateways or (envelope_from or "").lower() in gateways:
        if _is_bounce(mail, envelope_from):
            return _ignored(mail, "bounce")
        return _receive_fax_mail(mail)
    reason = loop_reason(mail, envelope_from)
    if reason:
        return _ignored(mail, reason)

    case_number, threaded_by = thread_case_number(mail)
    language = detect_language(f"{mail.subject}\n{mail.text}")
    citizen = _citizen(mail, language)
    rate_limited = case_number is None and _over_limit(citizen)
    attachments, refused = _attachments(mail)
    text, truncated = _text(mail, threaded=case_number is not None)
    if truncated:
        attachments = (*attachments, CleanFile(name="message.eml", content_type="message/rfc822", data=raw))
    data = {
        "from": mail.from_address, "name": mail.from_name, "to": list(mail.to),
        "in_reply_to": list(mail.in_reply_to), "references": list(mail.references[-20:]),
    }
    if threaded_by:
        data["threaded_by"] = threaded_by
    if refused:
        data["attachments_refused"] = refused
    if truncated:
        data["truncated"] = True
    if rate_limited:
        data["rate_limited"] = True
    elif case_number is None and _wants_acknowledgement(mail, citizen):
        # This message opens a case that must be acknowledged: kept with the message, so that the
        # sweep finds an acknowledgement whose task was lost (a broker restart, a killed worker).
        data["acknowledge"] = True
    result = intake_receive(IntakeMessage(
        channel=CHANNEL, external_id=mail.message_id, subject=clean_subject(mail.subject), text=text,
        case_number=case_number, create_case=not rate_limited, citizen=citizen, language=language,
        attachments=attachments, data=data,
    ))
    if result.created and result.new_case and data.get("acknowledge"):
        transaction.on_commit(partial(_enqueue_acknowledgement, result.interaction.pk))
    return _outcome(result)


def _outcome(result: IntakeResult) -> MailOutcome:
    numbers = (result.case.number,) if result.case else ()
    if not result.created:
        return MailOutcome("duplicate", numbers)
    if result.new_case:
        return MailOutcome("new_case", numbers)
    if result.case is not None:
        return MailOutcome("threaded", numbers)
    return MailOutcome("stored", numbers, reason="rate_limited")


def _ignored(mail: ParsedMail, reason: str) -> MailOutcome:
    logger.info("e-mail %s from %s not stored: %s", mail.message_id, mail.from_address, reason)
    return MailOutcome("ignored", reason=reason)


def _is_bounce(mail: ParsedMail, envelope_from: str | None) -> bool:
    local = mail.from_address.partition("@")[0].lower()
    return (envelope_from == "" or mail.return_path == "" or mail.content_type == "multipart/report"
            or local in DAEMON_LOCAL_PARTS)


def loop_reason(mail: ParsedMail, envelope_from: str | None = None) -> str:
    """Why this message must not be answered or open a case (RFC 3834), or "" if it may."""
    if _is_bounce(mail, envelope_from):
        return "bounce"
    if mail.auto_submitted and mail.auto_submitted.split(";")[0].strip() != "no":
        return "auto-submitted"
    if mail.precedence in AUTOMATIC_PRECEDENCE:
        return "precedence"
    if mail.x_autoreply and mail.x_autoreply not in ("no", "false", "0"):
        return "auto-reply"
    own = intake_addresses() | {settings.GOVCRM_MAIL_FROM.lower()}
    if mail.from_address.lower() in own or any(addr in mail.x_loop for addr in own):
        return "own-mail"
    return ""


def _wants_acknowledgement(mail: ParsedMail, citizen: CitizenInput | None) -> bool:
    if citizen is None or identities.EMAIL not in citizen.identities:
        return False
    return not any(word in mail.x_auto_response_suppress for word in SUPPRESS_ACK)


def _live_case_number(number: str) -> str | None:
    """The case's number, or the number of the case it was merged into; None if there is none."""
    case = Case.objects.filter(number=number).only("id", "number", "merged_into_id").first()
    seen = set()
    while case is not None and case.merged_into_id and case.pk not in seen:
        seen.add(case.pk)
        case = Case.objects.filter(pk=case.merged_into_id).only("id", "number", "merged_into_id").first()
    return case.number if case else None


def thread_case_number(mail: ParsedMail) -> tuple[str | None, str]:
    """The case this mail belongs to, and how it was found ("references" or "subject")."""
    refs = mail.thread_ids
    domain = own_domain()
    for ref in refs:
        match = OWN_MESSAGE_ID.match(ref)
        if match and match.group(2).lower() == domain:
            number = _live_case_number(match.group(1))
            if number:
                return number, "references"
    if refs:
        known = (Interaction.objects.filter(channel=CHANNEL, external_id__in=refs, case__isnull=False)
                 .values_list("external_id", "case__number"))
        by_id = dict(known)
        for ref in refs:
            if ref in by_id:
                number = _live_case_number(by_id[ref])
                if number:
                    return number, "references"
    for match in SUBJECT_NUMBER.finditer(mail.subject):
        number = _live_case_number(match.group(1) or match.group(2))
        if number:
            return number, "subject"
    return None, ""


def clean_subject(subject: str) -> str:
    """The subject without reply/forward prefixes and case-number tags, for a case title."""
    text = REPLY_PREFIX.sub("", subject)
    text = re.sub(r"\[\s*(?:#|工单号?\s*[:：#]?\s*|case\s*#?\s*)?\d{14}\s*\]", "", text, flags=re.IGNORECASE)
    return " ".join(text.split())[:200]


def _citizen(mail: ParsedMail, language: str) -> CitizenInput | None:
    if not mail.from_address:
        return None
    try:
        return citizen_input_clean(name=mail.from_name[:200], email=mail.from_address, language=language,
                                   preferred_channel="email")
    except ValidationFailed:
        logger.info("e-mail %s: sender address %r not usable", mail.message_id, mail.from_address)
        return None


def _over_limit(citizen: CitizenInput | None) -> bool:
    address = citizen.identities.get(identities.EMAIL) if citizen else None
    if not address:
        return False
    known = citizen_find(kind=identities.EMAIL, normalised=address)
    if known is None:
        return False
    since = timezone.now() - dt.timedelta(hours=1)
    recent = Interaction.objects.filter(channel=CHANNEL, direction=Interaction.Direction.INBOUND,
                                        citizen=known, created_at__gte=since).count()
    return recent >= SENDER_LIMIT_PER_HOUR


def _attachments(mail: ParsedMail) -> tuple[tuple[CleanFile, ...], list[dict[str, str]]]:
    kept: list[CleanFile] = []
    refused: list[dict[str, str]] = []
    for att in mail.attachments:
        if len(kept) >= MAX_FILES:
            refused.append({"name": att.name, "reason": _("Too many files in one message.")})
            continue
        try:
            kept.append(clean_document(att.data, att.name))
        except ValidationFailed as err:
            refused.append({"name": att.name, "reason": err.message})
    return tuple(kept), refused


def _text(mail: ParsedMail, *, threaded: bool) -> tuple[str, bool]:
    """The text to store, and whether it had to be shortened to fit a case description."""
    text = strip_quoted(mail.text) if threaded else mail.text
    if not text.strip():
        text = mail.subject.strip()
    if not text.strip():
        with translation.override(settings.LANGUAGE_CODE):
            text = _("(The e-mail has no text.)")
    limit = settings.GOVCRM_MAX_DESCRIPTION
    if len(text) <= limit:
        return text, False
    return text[: limit - 1] + "…", True


def _receive_fax_mail(mail: ParsedMail) -> MailOutcome:
    from govcrm.channels.fax.actions import fax_receive, fax_sender_from, is_fax_file

    faxes = [a for a in mail.attachments if is_fax_file(a.data)]
    if not faxes:
        return _ignored(mail, "fax mail without a fax")
    sender = fax_sender_from(mail.subject, mail.from_name)
    numbers: list[str] = []
    created = False
    refused: ValidationFailed | None = None
    for index, att in enumerate(faxes, 1):
        try:
            result = fax_receive(data=att.data, name=att.name, sender=sender,
                                 external_id=f"{mail.message_id}#{index}")
        except ValidationFailed as err:  # one unreadable page file must not lose the others
            logger.warning("fax %s#%s from the gateway refused: %s", mail.message_id, index, err.message)
            refused = err
            continue
        created = created or result.created
        if result.case is not None:
            numbers.append(result.case.number)
    if refused is not None and not numbers:
        raise refused
    return MailOutcome("fax" if created else "duplicate", tuple(numbers))


# --- the acknowledgement ----------------------------------------------------------------------


def _enqueue_acknowledgement(interaction_id: int) -> None:
    from .tasks import send_acknowledgement

    try:
        send_acknowledgement.enqueue(interaction_id)
    except Exception:  # the message is stored; a lost acknowledgement must not fail the intake
        logger.exception("could not enqueue the acknowledgement of interaction %s", interaction_id)


# The sweep leaves a message alone this long after it arrived (its own task is on it), and looks
# back this far (older acknowledgements would be late enough to confuse).
ACK_SWEEP_AFTER = dt.timedelta(minutes=10)
ACK_SWEEP_DAYS = 2


def acknowledgement_sweep(*, now: dt.datetime | None = None) -> int:
    """Send the acknowledgements still missing for messages that opened a case (ADR 0012).

    The task enqueued on commit can be lost (a broker restarted empty, a worker killed, retries
    given up while the mail server was down); the message's `acknowledge` mark is in the database,
    so this periodic sweep sends what is missing. A send that fails is left for the next sweep.
    Returns how many were sent.
    """
    now = now or timezone.now()
    opened = (Interaction.objects.filter(channel=CHANNEL, direction=Interaction.Direction.INBOUND,
                                         data__acknowledge=True, case__isnull=False,
                                         created_at__gte=now - dt.timedelta(days=ACK_SWEEP_DAYS),
                                         created_at__lte=now - ACK_SWEEP_AFTER)
              .values_list("pk", "case__number")[:500])
    wanted = {acknowledgement_message_id(number): pk for pk, number in opened}
    done = set(Interaction.objects.filter(channel=CHANNEL, direction=Interaction.Direction.OUTBOUND,
                                          external_id__in=list(wanted)).values_list("external_id", flat=True))
    sent = 0
    for message_id, pk in wanted.items():
        if message_id in done:
            continue
        try:
            sent += bool(acknowledgement_send(interaction_id=pk))
        except (smtplib.SMTPException, OSError) as exc:
            logger.warning("acknowledgement of interaction %s still not sent: %s", pk, exc)
    return sent


def acknowledgement_send(*, interaction_id: int) -> str:
    """Send the acknowledgement of the case opened by this inbound mail, once.

    Returns its Message-ID, or "" when there is nothing to send. Safe to run twice: an
    acknowledgement already recorded on the case's timeline is not sent again.
    """
    inbound = Interaction.objects.select_related("case", "citizen").filter(pk=interaction_id).first()
    if inbound is None or inbound.case is None or not inbound.data.get("from"):
        return ""
    case = inbound.case
    message_id = acknowledgement_message_id(case.number)
    if Interaction.objects.filter(channel=CHANNEL, direction=Interaction.Direction.OUTBOUND,
                                  external_id=message_id).exists():
        return ""
    references = [*inbound.data.get("references", []), inbound.external_id]
    intake = settings.GOVCRM_MAIL_INTAKE.split(",")[0].strip()
    context = {
        "case": case, "name": inbound.data.get("name", ""), "title": case.title,
        "refused": [r["name"] for r in inbound.data.get("attachments_refused", [])],
    }
    with translation.override(case.language):
        subject = " ".join(render_to_string("email/acknowledgement_subject.txt", context).split())
        body = render_to_string("email/acknowledgement_body.txt", context).strip() + "\n"
    mail = EmailMessage(
        subject=subject, body=body, from_email=settings.GOVCRM_MAIL_FROM, to=[inbound.data["from"]],
        reply_to=[intake] if intake else None,
        headers={
            "Message-ID": message_id,
            "In-Reply-To": inbound.external_id,
            "References": " ".join(references),
            "Auto-Submitted": "auto-replied",
            "X-Auto-Response-Suppress": "All",
            "X-Loop": intake,
            "X-GovCRM-Case": case.number,
        },
    )
    mail.send()
    interaction_record_outbound(channel=CHANNEL, citizen_id=inbound.citizen_id, case_id=case.pk, content=body,
                                subject=subject, external_id=message_id,
                                data={"in_reply_to": inbound.external_id, "kind": "acknowledgement"})
    return message_id
