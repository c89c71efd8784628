"""Sending proactive reminders through the notifications outbox (the worker runs `reminders_queue` daily).

Rules:
- A reminder is the portal's notice (`queries.notices_for`) sent once: a renewal that falls due (or
  has just expired), a service one is about to become, or has recently become, entitled to by age.
- Once per citizen, notice and date: the outbox's key is `reminder:<citizen>:<kind>:<service>:<date>`
  (the last day to renew, or the birthday), so a renewal that turns from due to expired is not
  sent twice, and next year's renewal is a new reminder.
- Through `notifications.actions.notification_reminder`: only with consent to be contacted
  (`consent_contact`), by the preferred channel when the citizen has an identity for it (SMS not
  after an opt-out), else another one they have; no identity to send to: portal only.
- Entitlements by age are sent only when the age was reached at most `AGE_RECENT_DAYS` ago (or is
  about to be): a first run does not message every 90-year-old who never asked for the allowance;
  the portal and the agent's panel still show it to them.
- Candidates are found by query (renewals: approved applications decided in the window; ages: the
  resident ID numbers, decrypted here, one Fernet decryption each — about 20 s per million), then
  each is checked by the same code as the portal.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from govcrm.citizens import identities
from govcrm.citizens.models import Citizen, Identity
from govcrm.services.models import Application, ApplicationStatus

from . import notices as rules
from . import queries
from .models import ProactiveRule
from .profile import born_from_id_number

logger = logging.getLogger(__name__)
AGE_RECENT_DAYS = 60
MARGIN_DAYS = 20  # calendar days beyond a rule's lead in working days (weekends, holidays)


def _renewal_candidates(rule: ProactiveRule, today: dt.date) -> set[int]:
    lead = rule.lead_working_days * 7 // 5 + MARGIN_DAYS
    # valid_until = decided + months - 1 day must lie in [today - grace, today + lead]
    earliest = rules.add_months(today - dt.timedelta(days=rule.grace_days + 1), -rule.valid_months)
    latest = rules.add_months(today + dt.timedelta(days=lead + 1), -rule.valid_months)
    return set(Application.objects.filter(
        service=rule.service, status=ApplicationStatus.APPROVED, decided_at__date__gte=earliest - dt.timedelta(days=1),
        decided_at__date__lte=latest + dt.timedelta(days=1)).values_list("citizen_id", flat=True))


def _age_candidates(age_rules: list[ProactiveRule], today: dt.date) -> set[int]:
    if not age_rules:
        return set()
    out = set()
    for ident in Identity.objects.filter(kind=identities.ID_CARD).only("citizen_id", "kind", "value_stored"):
        born = born_from_id_number(ident.value)
        if born is None:
            continue
        for rule in age_rules:
            reached = rules.birthday(born, rule.min_age)
            lead = rule.lead_working_days * 7 // 5 + MARGIN_DAYS
            if today - dt.timedelta(days=AGE_RECENT_DAYS) <= reached <= today + dt.timedelta(days=lead):
                out.add(ident.citizen_id)
    return out


def reminders_queue(*, today: dt.date | None = None) -> int:
    """Queue every reminder due today that was not sent before. Returns how many were queued."""
    today = today or timezone.localdate()
    m = queries.model()
    candidates: set[int] = set()
    for rule in m.rules:
        if rule.kind == ProactiveRule.Kind.RENEWAL:
            candidates |= _renewal_candidates(rule, today)
    candidates |= _age_candidates([r for r in m.rules if r.kind == ProactiveRule.Kind.AGE], today)
    queued = 0
    citizens = (Citizen.objects.filter(pk__in=candidates, consent_contact=True, merged_into__isnull=True)
                .prefetch_related("identities").order_by("pk"))
    for citizen in citizens.iterator(500):
        try:
            queued += _citizen_reminders(citizen, today, m)
        except Exception:  # one citizen's bad data must not stop the others' reminders
            logger.exception("reminders for citizen %s failed", citizen.pk)
    return queued


def _citizen_reminders(citizen: Citizen, today: dt.date, m) -> int:
    from govcrm.notifications.actions import notification_reminder

    language = citizen.language or "zh-hans"
    queued = 0
    with translation.override(language):
        found = queries.notices_for(citizen, language=language, today=today, m=m)
        for n in found:
            if n.state == rules.ENTITLED and n.date < today - dt.timedelta(days=AGE_RECENT_DAYS):
                continue
            context = {"notice": n}
            subject = render_to_string("personal/reminder_subject.txt", context).strip()
            body = render_to_string("personal/reminder_body.txt", context).strip()
            with transaction.atomic():
                note = notification_reminder(citizen=citizen, subject=subject, body=body,
                                             key=f"{citizen.pk}:{n.kind}:{n.code}:{n.date.isoformat()}")
            queued += note is not None
    return queued
