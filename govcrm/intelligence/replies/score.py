"""One reply's score: relevance, completeness, timeliness, an overall figure, a verdict and why.

Rules:
- Pure: no database, no clock (the times come in), no side effects; tables are read once.
- Relevance = weighted mean of the scaled cosine (0.4), the key terms covered (0.3) and the
  places covered (0.3); without a place in the message, cosine 0.55 and key terms 0.45.
- Timeliness against the deadline when there is one: on time 1; late starts at 0.5 and loses
  0.5 over `LATE_ZERO_DAYS` days. Without a deadline, against the lag since the message: up to
  `USUAL_LAG_DAYS` (the Teddy Cup data's median, 11 days) 1, then down to 0 at `LAG_ZERO_DAYS`.
  No reply time: timeliness is None and does not count.
- Overall = 0.4 relevance + 0.4 completeness + 0.2 timeliness (re-weighted without timeliness).
  Verdict: poor when the reply is empty, boilerplate, too short or overall < `POOR_BELOW`;
  good when overall ≥ `GOOD_FROM` and no reason is blocking; weak otherwise.
- Reasons are short English msgids translated at display (`gettext_lazy`); a reason may carry a
  detail taken from the texts (the place, the terms), shown as is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from . import completeness as comp
from . import relevance as rel

USUAL_LAG_DAYS = 11
LAG_ZERO_DAYS = 60
LATE_ZERO_DAYS = 30
GOOD_FROM = 0.65
POOR_BELOW = 0.4
WEIGHTS = {"relevance": 0.4, "completeness": 0.4, "timeliness": 0.2}


class Verdict:
    GOOD = "good"
    WEAK = "weak"
    POOR = "poor"


VERDICT_LABELS = {Verdict.GOOD: _("Good"), Verdict.WEAK: _("Weak"), Verdict.POOR: _("Poor")}


@dataclass(frozen=True)
class Reason:
    code: str
    text: Promise | str
    detail: Promise | str = ""
    blocking: bool = False  # keeps the verdict from being "good"


@dataclass(frozen=True)
class ReplyScore:
    relevance: float
    completeness: float
    timeliness: float | None
    overall: float
    verdict: str
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS[self.verdict]


def _relevance(message: str, reply: str, reasons: list[Reason]) -> float:
    # Segmenting costs about 4 ms per 1,000 characters: long texts are cut for the cosine and the key
    # terms (the mentions are still looked for in the whole reply).
    msg_words, reply_words = rel.tokens(message[:rel.MAX_CHARS]), rel.tokens(reply[:rel.MAX_CHARS])
    cos = min(1.0, rel.cosine(msg_words, reply_words) / rel.COSINE_FULL)
    keys = rel.key_terms(msg_words)
    covered = [k for k in keys if rel.mentions(reply, k)]
    key_share = len(covered) / len(keys) if keys else 1.0
    places = rel.places(message)
    if keys and key_share < 0.34:
        missed = [k for k in keys if k not in covered][:4]
        reasons.append(Reason("off_topic", _("The reply addresses few of the matters raised in the message"),
                              "、".join(missed) if any(not k.isascii() for k in missed) else ", ".join(missed),
                              blocking=key_share == 0))
    if not places:
        return round(0.55 * cos + 0.45 * key_share, 3)
    named = [p for p in places if rel.place_mentioned(reply, p)]
    if not named:
        reasons.append(Reason("no_place", _("The reply does not mention the place named in the message"),
                              places[0]))
    return round(0.4 * cos + 0.3 * key_share + 0.3 * len(named) / len(places), 3)


def _completeness(message: str, reply: str, language: str, reasons: list[Reason]) -> tuple[float, comp.Parts]:
    parts = comp.parts_of(reply, message, language)
    if parts.forwarded_only:
        reasons.append(Reason("forwarded_only", _("The reply only says the message was forwarded"), blocking=True))
    elif parts.boilerplate:
        reasons.append(Reason("boilerplate", _("The reply is only set phrases, with no facts or action"),
                              blocking=True))
    if parts.length == 0:
        reasons.append(Reason("too_short", _("The reply is too short to answer the message"), blocking=True))
    if "facts" not in parts.found and not parts.boilerplate:
        reasons.append(Reason("no_facts", _("The reply does not say what was found")))
    if "action" not in parts.found and not parts.boilerplate:
        reasons.append(Reason("no_action", _("The reply does not say what was done or decided")))
    if parts.basis_needed and "basis" not in parts.found:
        reasons.append(Reason("no_basis", _("The reply cites no rule or policy, though the message asks about one")))
    if "contact" not in parts.found:
        reasons.append(Reason("no_contact", _("No contact for follow-up")))
    if "greeting" not in parts.found:
        reasons.append(Reason("no_greeting", _("The reply does not address the citizen")))
    return comp.completeness(parts), parts


def _timeliness(received_at: dt.datetime | None, replied_at: dt.datetime | None, due_at: dt.datetime | None,
                reasons: list[Reason]) -> float | None:
    if replied_at is None:
        return None
    if due_at is not None:
        late = (replied_at - due_at) / dt.timedelta(days=1)
        if late <= 0:
            return 1.0
        reasons.append(Reason("late", _("The reply came after its deadline"), _days(late), blocking=True))
        return round(max(0.0, 0.5 * (1 - late / LATE_ZERO_DAYS)), 3)
    if received_at is None:
        return None
    lag = (replied_at - received_at) / dt.timedelta(days=1)
    if lag <= USUAL_LAG_DAYS:
        return 1.0
    reasons.append(Reason("slow", _("The reply took longer than usual"), _days(lag)))
    return round(max(0.0, 1 - (lag - USUAL_LAG_DAYS) / (LAG_ZERO_DAYS - USUAL_LAG_DAYS)), 3)


def _days(days: float) -> Promise:
    return format_lazy(_("{days} days"), days=f"{days:.1f}")


def reply_score(*, message: str, title: str = "", reply: str, received_at: dt.datetime | None,
                replied_at: dt.datetime | None, due_at: dt.datetime | None = None,
                language: str = "zh-hans") -> ReplyScore:
    """Score a unit's reply to a citizen's message (see the module's rules)."""
    message = f"{(title or '').strip()}\n{(message or '').strip()}".strip()
    reply = (reply or "").strip()
    reasons: list[Reason] = []
    timeliness = _timeliness(received_at, replied_at, due_at, reasons)
    if not reply:
        reasons.insert(0, Reason("empty", _("There is no reply"), blocking=True))
        return ReplyScore(0.0, 0.0, timeliness, 0.0, Verdict.POOR, tuple(reasons))
    relevance = _relevance(message, reply, reasons)
    completeness, parts = _completeness(message, reply, language, reasons)
    values = {"relevance": relevance, "completeness": completeness, "timeliness": timeliness}
    weights = {k: w for k, w in WEIGHTS.items() if values[k] is not None}
    overall = round(sum(values[k] * w for k, w in weights.items()) / sum(weights.values()), 3)
    if overall < POOR_BELOW or parts.boilerplate or parts.length == 0:
        verdict = Verdict.POOR
    elif overall >= GOOD_FROM and not any(r.blocking for r in reasons):
        verdict = Verdict.GOOD
    else:
        verdict = Verdict.WEAK
    order = {"empty": 0, "forwarded_only": 1, "boilerplate": 1, "too_short": 2, "off_topic": 3, "no_place": 4,
             "late": 5}
    reasons.sort(key=lambda r: order.get(r.code, 9))
    return ReplyScore(relevance, completeness, timeliness, overall, verdict, tuple(reasons))
