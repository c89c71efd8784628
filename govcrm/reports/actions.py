"""Writes of scheduled reports: subscriptions, building a report, and mailing the reports due.

Rules:
- Subscribing: a staff member who may receive reports (queries.RECEIVERS) and has an e-mail
  address; one subscription per kind, a language of settings.LANGUAGES and at least one format.
  Staff change their own; an administrator anyone's. Each change writes one audit record.
- Mailing (`reports_send_due`, the worker's periodic job): for each kind, the period that ended
  last. If a subscriber has no mailing of it yet, or a failed one whose retry time has come, the
  warehouse is refreshed first (if another process is refreshing it, this waits for that refresh
  to end), then each mailing is claimed by inserting its `Delivery` row — unique per (user, kind,
  period), so of two workers only one sends — and the report is mailed with Django's e-mail
  (SMTP in production). A failure is recorded and retried after RETRY_BASE·2^(attempts−1), at
  most MAX_ATTEMPTS times; a subscriber who lost the role or the address is not retried. A claim
  left by a worker that died mid-send is taken over after STALE_CLAIM (the only case where a
  report could go out twice: if the worker died after the SMTP server had accepted the mail; the
  Message-ID is the same, so mail clients show one).
- Reports are built once per (kind, period, scope, language) and kept (models.Report); the
  figures are as of the build.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from govcrm.analytics.actions import warehouse_refresh
from govcrm.analytics.queries import _name, open_warehouse
from govcrm.analytics.warehouse import WarehouseBusy
from govcrm.audit.actions import audit_record
from govcrm.audit.models import AuditRecord
from govcrm.common.errors import Forbidden, ValidationFailed
from govcrm.organization.models import Role, Unit
from govcrm.organization.queries import Actor

from . import content, pdf, xlsx
from .models import Delivery, Kind, Report, Subscription
from .periods import KINDS, Period
from .queries import report_scope, report_scope_of_user, subscription_get

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
RETRY_BASE = dt.timedelta(minutes=5)
STALE_CLAIM = dt.timedelta(minutes=30)
BUSY_WAIT = 120  # seconds to wait for another process's refresh to end
LANGUAGES = {code for code, _label in settings.LANGUAGES}
FORMATS = {"pdf": "application/pdf",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


# --- subscriptions --------------------------------------------------------------------------------

def subscription_save(*, actor: Actor, kind: str, language: str, pdf: bool, xlsx: bool,
                      username: str | None = None) -> Subscription:
    """Subscribe (or change the subscription of) the actor, or with `username` someone else (admins)."""
    report_scope(actor)
    user_model = get_user_model()
    if username and username != actor.username:
        if actor.role != Role.ADMIN:
            raise Forbidden(_("Only administrators manage other staff members' subscriptions."))
        user = user_model.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise ValidationFailed(_("No such staff member."), details={"user": _("No such staff member.")})
    else:
        user = user_model.objects.get(pk=actor.user_id)
    errors = {}
    if kind not in Kind.values:
        errors["kind"] = _("Choose the weekly or the monthly report.")
    if language not in LANGUAGES:
        errors["language"] = _("Choose Chinese or English.")
    if not (pdf or xlsx):
        errors["formats"] = _("Choose at least one format (PDF or XLSX).")
    try:
        report_scope_of_user(user)
    except Forbidden:
        errors["user"] = _("%(user)s may not receive reports: they are for supervisors, analysts, administrators "
                           "and unit managers.") % {"user": user.get_username()}
    if not user.email:
        errors["email"] = _("%(user)s has no e-mail address: reports are sent by e-mail.") % {
            "user": user.get_username()}
    if errors:
        raise ValidationFailed(_("The subscription was not saved."), details=errors)
    with transaction.atomic():
        sub, created = Subscription.objects.update_or_create(
            user=user, kind=kind, defaults={"language": language, "pdf": pdf, "xlsx": xlsx, "active": True})
        audit_record(action=AuditRecord.Action.CONFIG_ADD if created else AuditRecord.Action.CONFIG_CHANGE,
                     obj=sub, actor=actor, detail={"kind": kind, "language": language, "formats": sub.formats,
                                                   "user": user.get_username()})
    return sub


def subscription_delete(*, actor: Actor, subscription_id: int) -> None:
    with transaction.atomic():
        sub = subscription_get(actor, subscription_id)
        audit_record(action=AuditRecord.Action.CONFIG_DELETE, obj=sub, actor=actor,
                     detail={"kind": sub.kind, "user": sub.user.get_username()})
        sub.delete()


# --- building ---------------------------------------------------------------------------------------

def scope_name(unit: Unit | None) -> str:
    return _("Whole city") if unit is None else _name(unit.name_zh, unit.name_en)


def report_content(con, period: Period, *, scope_path: str | None, unit: Unit | None, language: str,
                   as_of: dt.datetime) -> content.ReportContent:
    with translation.override(language):
        return content.build(con, period, scope_path=scope_path, scope_name=scope_name(unit), language=language,
                             as_of=as_of)


def report_render(report: content.ReportContent) -> dict[str, bytes]:
    with translation.override(report.language):
        return {"pdf": pdf.render(report), "xlsx": xlsx.render(report)}


def report_get_or_build(con, period: Period, *, scope_path: str | None, unit: Unit | None, language: str,
                        as_of: dt.datetime | None = None) -> Report:
    """The stored report of (kind, period, scope, language), built now if there is none yet."""
    key = {"kind": period.kind, "period_start": period.start, "scope_path": scope_path or "", "language": language}
    existing = Report.objects.filter(**key).first()
    if existing is not None:
        return existing
    as_of = as_of or timezone.now()
    built = report_content(con, period, scope_path=scope_path, unit=unit, language=language, as_of=as_of)
    files = report_render(built)
    try:
        with transaction.atomic():
            return Report.objects.create(**key, period_end=period.end, scope_unit=unit, as_of=as_of,
                                         pdf=files["pdf"], xlsx=files["xlsx"], headline=built.headline)
    except IntegrityError:  # another worker stored it meanwhile: theirs is the one
        return Report.objects.get(**key)


def file_name(report: Report, fmt: str) -> str:
    period = Period.containing(report.kind, report.period_start)
    scope = report.scope_unit.code if report.scope_unit else "city"
    return f"govcrm-{report.kind}-{period.code}-{scope}-{report.language}.{fmt}"


def report_build_files(*, kind: str, day: dt.date | None, unit_code: str | None, languages: list[str],
                       out: Path, as_of: dt.datetime | None = None) -> list[Path]:
    """`govcrm report build`: write the PDF and XLSX of a period (the one containing `day`, default
    the last ended) for the city or a unit's subtree, in each language, into `out`."""
    period = Period.containing(kind, day) if day else Period.last_ended(kind)
    unit = None
    if unit_code:
        unit = Unit.objects.filter(code=unit_code).first()
        if unit is None:
            raise ValidationFailed(_("No unit with the code “%(code)s”.") % {"code": unit_code},
                                   details={"unit": unit_code})
    bad = [lang for lang in languages if lang not in LANGUAGES]
    if bad:
        raise ValidationFailed(_("Unknown language: %(languages)s.") % {"languages": ", ".join(bad)},
                               details={"language": ", ".join(sorted(LANGUAGES))})
    out.mkdir(parents=True, exist_ok=True)
    as_of = as_of or timezone.now()
    written = []
    con = open_warehouse()
    try:
        for language in languages:
            built = report_content(con, period, scope_path=unit.path if unit else None, unit=unit,
                                   language=language, as_of=as_of)
            for fmt, data in report_render(built).items():
                path = out / f"govcrm-{kind}-{period.code}-{unit.code if unit else 'city'}-{language}.{fmt}"
                path.write_bytes(data)
                written.append(path)
    finally:
        con.close()
    return written


# --- mailing ------------------------------------------------------------------------------------------

@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    waiting: bool = False  # the warehouse could not be brought up to date: nothing was tried
    errors: list[str] = field(default_factory=list)


def _retryable(now: dt.datetime) -> Q:
    return Q(status=Delivery.Status.FAILED, next_attempt_at__lte=now) | Q(status=Delivery.Status.SENDING,
                                                                          claimed_at__lt=now - STALE_CLAIM)


def _due(now: dt.datetime, kinds, period: Period | None, usernames) -> list[tuple[Subscription, Period]]:
    """Subscriptions with no mailing of their period yet, or one to try again."""
    due = []
    for kind in kinds:
        p = period or Period.last_ended(kind, now)
        subs = Subscription.objects.filter(kind=kind, active=True).select_related("user").order_by("pk")
        if usernames:
            subs = subs.filter(user__username__in=usernames)
        deliveries = Delivery.objects.filter(kind=kind, period_start=p.start)
        done = set(deliveries.values_list("user_id", flat=True)) - set(
            deliveries.filter(_retryable(now)).values_list("user_id", flat=True))
        due += [(s, p) for s in subs if s.user_id not in done]
    return due


def _fresh_warehouse() -> bool:
    """Refresh the warehouse; if another process is refreshing it, wait for that to end. False if it
    stayed busy (the mailing waits for the next round)."""
    try:
        warehouse_refresh()
        return True
    except WarehouseBusy:
        pass
    deadline = time.monotonic() + BUSY_WAIT
    while time.monotonic() < deadline:
        try:
            open_warehouse(attempts=1).close()
            return True
        except WarehouseBusy:
            time.sleep(1)
    return False


def _claim(sub: Subscription, period: Period, now: dt.datetime) -> Delivery | None:
    """This worker's claim on the mailing, or None if another has it (or it was sent)."""
    key = {"user_id": sub.user_id, "kind": sub.kind, "period_start": period.start}
    try:
        with transaction.atomic():
            return Delivery.objects.create(**key, subscription=sub, attempts=1, claimed_at=now,
                                           status=Delivery.Status.SENDING)
    except IntegrityError:
        pass
    taken = Delivery.objects.filter(**key).filter(_retryable(now)).update(
        status=Delivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1, subscription=sub)
    return Delivery.objects.get(**key) if taken else None


def _message(delivery: Delivery, sub: Subscription, report: Report) -> EmailMessage:
    period = Period.containing(report.kind, report.period_start)
    with translation.override(sub.language):
        kind = _("Weekly report") if report.kind == Kind.WEEKLY else _("Monthly report")
        scope = scope_name(report.scope_unit)
        subject = _("GovCRM %(kind)s %(period)s · %(scope)s") % {"kind": kind, "period": period.code, "scope": scope}
        body = render_to_string("reports/mail.txt", {
            "user": sub.user, "kind": kind, "period": period.label(), "scope": scope, "report": report,
            "headline": list(report.headline.values()), "formats": [f.upper() for f in sub.formats],
            "as_of": timezone.localtime(report.as_of).strftime("%Y-%m-%d %H:%M")})
    domain = settings.GOVCRM_MAIL_FROM.rpartition("@")[2] or "govcrm.localhost"
    message_id = f"<report.{report.kind}.{period.code}.{sub.user_id}@{domain}>"
    mail = EmailMessage(subject=subject, body=body, from_email=settings.GOVCRM_MAIL_FROM, to=[sub.user.email],
                        headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated",
                                 "X-GovCRM-Report": f"{report.kind} {period.code}"})
    for fmt in sub.formats:
        mail.attach(file_name(report, fmt), bytes(getattr(report, fmt)), FORMATS[fmt])
    return mail


def _fail(delivery: Delivery, error: str, now: dt.datetime, *, final: bool = False) -> None:
    give_up = final or delivery.attempts >= MAX_ATTEMPTS
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.FAILED, last_error=error[:2000],
        next_attempt_at=None if give_up else now + RETRY_BASE * 2 ** (delivery.attempts - 1))


def delivery_send(con, delivery: Delivery, sub: Subscription, period: Period, now: dt.datetime) -> bool:
    """Build (or reuse) the subscriber's report and mail it; record the outcome. True if sent."""
    user = sub.user
    try:
        scope, unit = report_scope_of_user(user)
    except Forbidden:
        _fail(delivery, "the subscriber may no longer receive reports (role)", now, final=True)
        return False
    if not user.email or not user.is_active:
        _fail(delivery, "the subscriber has no e-mail address or is inactive", now, final=True)
        return False
    try:
        report = report_get_or_build(con, period, scope_path=scope, unit=unit, language=sub.language, as_of=now)
        mail = _message(delivery, sub, report)
        mail.send()
    except Exception as exc:  # SMTP refusals, network errors, a report that cannot be built: retried
        logger.warning("report mailing %s failed: %s", delivery.pk, exc)
        _fail(delivery, f"{type(exc).__name__}: {exc}", now)
        return False
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), report=report, to_address=user.email,
        message_id=mail.extra_headers["Message-ID"], last_error="", next_attempt_at=None)
    return True


def reports_send_due(*, now: dt.datetime | None = None, kinds=KINDS, period: Period | None = None,
                     usernames: list[str] | None = None) -> SendResult:
    """Mail the reports due (see the module's rules). Safe to run twice and from several workers."""
    now = now or timezone.now()
    result = SendResult()
    if period is not None and period.ends_at() > now:
        raise ValidationFailed(_("The period %(period)s has not ended yet.") % {"period": period.code},
                               details={"date": period.end.isoformat()})
    due = _due(now, kinds, period, usernames)
    if not due:
        return result
    if not _fresh_warehouse():
        result.waiting = True
        return result
    con = open_warehouse()
    try:
        for sub, p in due:
            delivery = _claim(sub, p, now)
            if delivery is None:
                continue
            if delivery_send(con, delivery, sub, p, now):
                result.sent += 1
            else:
                result.failed += 1
                result.errors.append(Delivery.objects.get(pk=delivery.pk).last_error)
    finally:
        con.close()
    return result
