"""Reads for personalised service: a citizen's recommendations, proactive notices, and the agent's next best action.

Rules:
- Recommendations run `recommend.Cooccurrence` over every citizen's applications (all statuses),
  built once per process and rebuilt when the applications change (one aggregate query per
  request tells). Services the citizen has applied for are not offered again; those in progress
  (started, submitted, in review) never are; enterprises and the under-age are filtered by
  `profile.eligible`; the profile's boosts reorder. Cold start: popularity, boosted by profile.
- Notices come from the active `ProactiveRule`s and the dates of `notices.py` on the working-day
  calendar of `cases.deadlines` (holidays and make-up working days included).
- Knowledge articles: the best valid published article for each recommended service's name (in
  the reader's language when there is one), then those linked to the categories of the
  citizen's recent cases.
- The next best action is for the hotline centre's roles (the console checks); it shows case
  numbers, categories, service names and dates — never an identity. The date a citizen reaches
  an age (which gives away the birth date) is shown only to roles that see ID numbers in clear
  (`citizens.queries.CLEAR_FOR`); the others see that the age is reached.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from govcrm.cases.deadlines import calendar_from_db
from govcrm.cases.models import Case
from govcrm.cases.workflow import Status
from govcrm.citizens import identities
from govcrm.citizens.models import Citizen, Identity
from govcrm.citizens.queries import CLEAR_FOR
from govcrm.common.reference import cached
from govcrm.services.models import Application, ApplicationStatus, ServiceItem

from . import notices as rules
from .models import ProactiveRule
from .profile import Profile, boosts, born_from_id_number, eligible
from .recommend import COOCCURRENCE, POPULAR, Cooccurrence, Recommendation

IN_PROGRESS = frozenset({ApplicationStatus.STARTED, ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW})
ENDED_WITHOUT_USE = frozenset({ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN})
RECOMMENDED = 5
ARTICLES = 3
PROFILE_CASE_DAYS = 730
UNSATISFIED_DAYS = 30


# --- the model, shared by the process -----------------------------------------------------------------
@dataclass(frozen=True)
class ServiceInfo:
    id: int
    code: str
    name_zh: str
    name_en: str
    tags: tuple[str, ...]
    online: bool

    def name(self, language: str) -> str:
        return self.name_en if language.startswith("en") and self.name_en else self.name_zh


@dataclass(frozen=True)
class Model:
    signature: tuple
    cooccurrence: Cooccurrence
    services: dict[str, ServiceInfo]
    min_age: dict[str, int]
    rules: list[ProactiveRule]  # active, with their services


_model: Model | None = None
_model_lock = threading.Lock()


def _signature() -> tuple:
    agg = Application.objects.aggregate(n=Count("id"), last=Max("id"), changed=Max("updated_at"))
    items = ServiceItem.objects.aggregate(n=Count("id"), changed=Max("updated_at"))
    rules_ = ProactiveRule.objects.aggregate(n=Count("id"), changed=Max("updated_at"))
    return (agg["n"], agg["last"], agg["changed"], items["n"], items["changed"], rules_["n"], rules_["changed"])


def model() -> Model:
    """The co-occurrence model, the catalogue and the rules, rebuilt when applications, items or rules
    changed. Whether they changed is asked at most every 30 s per process (the reference cache's TTL):
    a new application reaches the other citizens' suggestions within that time; the citizen's own
    applications are always read live (`applications_of`)."""
    global _model
    signature = cached("personal:signature", _signature)
    current = _model
    if current is not None and current.signature == signature:
        return current
    with _model_lock:
        if _model is not None and _model.signature == signature:
            return _model
        histories: dict[int, set[str]] = defaultdict(set)
        for citizen_id, code in Application.objects.values_list("citizen_id", "service__code").iterator(2000):
            histories[citizen_id].add(code)
        services = {s.code: ServiceInfo(s.id, s.code, s.name_zh, s.name_en, tuple(s.tags or ()), s.online)
                    for s in ServiceItem.objects.filter(active=True)}
        min_age = {code: age for code, age in ProactiveRule.objects.filter(
            kind=ProactiveRule.Kind.AGE, active=True).values_list("service__code", "min_age")}
        active = list(ProactiveRule.objects.filter(active=True).select_related("service", "renew_with"))
        _model = Model(signature, Cooccurrence(histories.values()), services, min_age, active)
        return _model


# --- the citizen -----------------------------------------------------------------------------------
def profile_for(citizen: Citizen, *, today: dt.date) -> Profile:
    born = None
    ident = Identity.objects.filter(citizen=citizen, kind=identities.ID_CARD).first()
    if ident is not None:
        born = born_from_id_number(ident.value)
    since = timezone.now() - dt.timedelta(days=PROFILE_CASE_DAYS)
    categories = Case.objects.filter(citizen=citizen, created_at__gte=since).values_list("category__code", flat=True)
    return Profile.build(citizen_id=citizen.pk, enterprise=citizen.kind == Citizen.Kind.ENTERPRISE, born=born,
                         categories=sorted(set(categories)), today=today)


@dataclass(frozen=True)
class AppliedFor:
    number: str
    code: str
    name: str
    status: str
    status_label: str
    created_at: dt.datetime
    decided_at: dt.datetime | None


def applications_of(citizen: Citizen, language: str) -> list[AppliedFor]:
    rows = (Application.objects.filter(citizen=citizen).select_related("service")
            .only("number", "status", "created_at", "decided_at", "service__code", "service__name_zh",
                  "service__name_en").order_by("-created_at"))
    labels = dict(ApplicationStatus.choices)
    return [AppliedFor(a.number, a.service.code,
                       a.service.name_en if language.startswith("en") and a.service.name_en else a.service.name_zh,
                       a.status, str(labels.get(a.status, a.status)), a.created_at, a.decided_at) for a in rows]


# --- recommendations ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ServiceSuggestion:
    code: str
    name: str
    online: bool
    reason: str  # a sentence in the active language
    kind: str  # recommend.COOCCURRENCE, PROFILE or POPULAR
    score: float


def recommendations(citizen: Citizen, *, language: str, today: dt.date, applied: list[AppliedFor] | None = None,
                    profile: Profile | None = None, k: int = RECOMMENDED, m: Model | None = None,
                    ) -> list[ServiceSuggestion]:
    m = m or model()
    applied = applications_of(citizen, language) if applied is None else applied
    profile = profile or profile_for(citizen, today=today)
    history = {a.code for a in applied}
    in_progress = {a.code for a in applied if a.status in IN_PROGRESS}
    tags = {code: s.tags for code, s in m.services.items()}

    def ok(code: str) -> bool:
        return code in m.services and eligible(profile, tags[code], m.min_age.get(code))

    found = m.cooccurrence.recommend(history, k=k, exclude=in_progress, eligible=ok, boost=boosts(profile, tags))
    return [_suggestion(r, m, language) for r in found]


def _suggestion(r: Recommendation, m: Model, language: str) -> ServiceSuggestion:
    service = m.services[r.item]
    if r.reason == COOCCURRENCE:
        reason = _("People who applied for “%(x)s” also applied for “%(y)s”.") % {
            "x": m.services[r.because].name(language) if r.because in m.services else r.because,
            "y": service.name(language)}
    elif r.reason == POPULAR:
        reason = _("Much used by citizens of the city.")
    else:
        reason = _("Often needed by people in your situation.")
    return ServiceSuggestion(r.item, service.name(language), service.online, reason, r.reason, r.score)


# --- knowledge articles ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ArticleSuggestion:
    article_id: int
    title: str
    reason: str


def articles_for(citizen: Citizen, services: list[ServiceSuggestion], *, language: str,
                 limit: int = ARTICLES) -> list[ArticleSuggestion]:
    from govcrm.knowledge.queries import public_list

    out: list[ArticleSuggestion] = []
    seen: set[int] = set()
    for s in services:
        if len(out) >= limit:
            return out
        hit = cached(f"personal:article:{s.code}:{language}", lambda s=s: _article_for(s.name, language))
        if hit is not None and hit[0] not in seen:
            seen.add(hit[0])
            out.append(ArticleSuggestion(hit[0], hit[1], _("About “%(service)s”.") % {"service": s.name}))
    since = timezone.now() - dt.timedelta(days=365)
    recent = (Case.objects.filter(citizen=citizen, created_at__gte=since).select_related("category")
              .order_by("-created_at")[:5])
    for case in recent:
        if len(out) >= limit:
            break
        versions = sorted(public_list(category=case.category.code),
                          key=lambda v: (v.language != language, v.article_id))
        for v in versions:
            if v.article_id not in seen:
                seen.add(v.article_id)
                out.append(ArticleSuggestion(v.article_id, v.title, _("About your request on “%(category)s”.") % {
                    "category": case.category.name}))
                break
    return out[:limit]


def _article_for(name: str, language: str) -> tuple[int, str] | None:
    """(id, title) of the best valid published article for a service's name, in the language if it has one."""
    from govcrm.knowledge.queries import suggestions

    found = suggestions(name, language=language, limit=1) or suggestions(name, limit=1)
    return (found[0].article_id, found[0].version.title) if found else None


# --- proactive notices ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Notice:
    kind: str  # ProactiveRule.Kind
    state: str  # notices.DUE, EXPIRED, UPCOMING, ENTITLED
    code: str  # the service to apply for
    name: str
    date: dt.date  # the last day to renew / the day the age is reached
    text: str
    days_left: int | None = None  # working days to the last day to renew
    detail: dict = field(default_factory=dict)


def notices_for(citizen: Citizen, *, language: str, today: dt.date, applied: list[AppliedFor] | None = None,
                profile: Profile | None = None, show_birthdays: bool = True, m: Model | None = None) -> list[Notice]:
    m = m or model()
    applied = applications_of(citizen, language) if applied is None else applied
    profile = profile or profile_for(citizen, today=today)
    cal = calendar_from_db()
    out: list[Notice] = []
    active = m.rules
    by_code: dict[str, list[AppliedFor]] = defaultdict(list)
    for a in applied:
        by_code[a.code].append(a)
    for rule in active:
        target = rule.renew_with or rule.service
        name = target.name_en if language.startswith("en") and target.name_en else target.name_zh
        if rule.kind == ProactiveRule.Kind.RENEWAL:
            approved = [a for a in by_code.get(rule.service.code, ()) if a.status == ApplicationStatus.APPROVED
                        and a.decided_at is not None]
            if not approved:
                continue
            last = max(approved, key=lambda a: a.decided_at)
            decided_on = timezone.localdate(last.decided_at)
            renewed = any(a.created_at > last.decided_at and a.status not in ENDED_WITHOUT_USE
                          for a in by_code.get(target.code, ()))
            if renewed:
                continue
            window = rules.renewal_window(approved_on=decided_on, valid_months=rule.valid_months,
                                          lead_working_days=rule.lead_working_days, grace_days=rule.grace_days,
                                          is_workday=cal.is_workday)
            state = window.state(today)
            if state is None:
                continue
            left = window.working_days_left(today, cal.is_workday)
            if state == rules.DUE:
                text = _("Your “%(service)s” is valid until %(until)s: apply for “%(renew)s” by %(last)s "
                         "(%(left)s working days left).") % {
                    "service": rule.service.name_en if language.startswith("en") and rule.service.name_en
                    else rule.service.name_zh, "until": window.valid_until.isoformat(), "renew": name,
                    "last": window.last_day.isoformat(), "left": left}
            else:
                text = _("Your “%(service)s” expired on %(until)s: apply for “%(renew)s” now.") % {
                    "service": rule.service.name_en if language.startswith("en") and rule.service.name_en
                    else rule.service.name_zh, "until": window.valid_until.isoformat(), "renew": name}
            out.append(Notice(rule.kind, state, target.code, name, window.last_day, text,
                              left if state == rules.DUE else None,
                              {"valid_until": window.valid_until, "last_day": window.last_day}))
        elif profile.born is not None and not profile.enterprise and target.code in m.services:
            if any(a.status != ApplicationStatus.WITHDRAWN for a in by_code.get(target.code, ())):
                continue
            state, reached = rules.age_state(born=profile.born, min_age=rule.min_age,
                                             lead_working_days=rule.lead_working_days, today=today,
                                             is_workday=cal.is_workday)
            if state is None:
                continue
            if state == rules.ENTITLED:
                text = _("From the age of %(age)s you may apply for “%(service)s”.") % {
                    "age": rule.min_age, "service": name}
            elif show_birthdays:
                text = _("You reach the age of %(age)s on %(date)s: from then on you may apply for “%(service)s”.") % {
                    "age": rule.min_age, "date": reached.isoformat(), "service": name}
            else:
                text = _("Reaches the age of %(age)s soon: may then apply for “%(service)s”.") % {
                    "age": rule.min_age, "service": name}
            out.append(Notice(rule.kind, state, target.code, name, reached if show_birthdays else today, text,
                              detail={"min_age": rule.min_age}))
    order = {rules.EXPIRED: 0, rules.DUE: 1, rules.ENTITLED: 2, rules.UPCOMING: 3}
    out.sort(key=lambda n: (order[n.state], n.date, n.code))
    return out


# --- the portal's block --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ForYou:
    notices: list[Notice]
    services: list[ServiceSuggestion]
    articles: list[ArticleSuggestion]
    in_progress: list[AppliedFor]


def for_citizen(citizen: Citizen, *, language: str, today: dt.date | None = None) -> ForYou:
    today = today or timezone.localdate()
    m = model()
    applied = applications_of(citizen, language)
    profile = profile_for(citizen, today=today)
    notices = notices_for(citizen, language=language, today=today, applied=applied, profile=profile, m=m)
    services = recommendations(citizen, language=language, today=today, applied=applied, profile=profile, m=m)
    noticed = {n.code for n in notices}
    services = [s for s in services if s.code not in noticed]
    return ForYou(notices, services, articles_for(citizen, services, language=language),
                  [a for a in applied if a.status in IN_PROGRESS])


# --- the agent's next best action ----------------------------------------------------------------------
@dataclass(frozen=True)
class CaseLine:
    number: str
    category: str
    status: str
    status_label: str
    created_at: dt.datetime
    reply_due: dt.datetime | None
    overdue: bool


@dataclass(frozen=True)
class NextBestAction:
    citizen_id: int
    open_cases: list[CaseLine]
    follow_ups: list[CaseLine]  # waiting for the 回访: ask whether it was resolved and satisfied
    unsatisfied: list[CaseLine]  # closed in the last 30 days, not satisfied: offer a reopen
    notices: list[Notice]
    in_progress: list[AppliedFor]
    services: list[ServiceSuggestion]
    articles: list[ArticleSuggestion]

    @property
    def empty(self) -> bool:
        return not (self.open_cases or self.follow_ups or self.unsatisfied or self.notices or self.in_progress
                    or self.services or self.articles)


def _line(c: Case, now: dt.datetime) -> CaseLine:
    return CaseLine(c.number, c.category.name, c.status, c.get_status_display(), c.created_at, c.reply_due,
                    bool(c.reply_due and c.reply_due < now and c.status in (Status.DISPATCHED, Status.ACCEPTED,
                                                                            Status.IN_PROGRESS)))


def next_best_action(actor, citizen: Citizen, *, language: str, today: dt.date | None = None) -> NextBestAction:
    """What the agent on the phone might do for this caller (centre roles; the view checks)."""
    now = timezone.now()
    today = today or timezone.localdate()
    cases = list(Case.objects.filter(citizen=citizen).filter(
        ~Q(status=Status.CLOSED) | Q(closed_at__gte=now - dt.timedelta(days=UNSATISFIED_DAYS), satisfied=False))
        .select_related("category").order_by("-created_at")[:50])
    open_cases = [_line(c, now) for c in cases if c.status not in (Status.CLOSED, Status.FOLLOW_UP)]
    follow_ups = [_line(c, now) for c in cases if c.status == Status.FOLLOW_UP]
    unsatisfied = [_line(c, now) for c in cases if c.status == Status.CLOSED]
    applied = applications_of(citizen, language)
    profile = profile_for(citizen, today=today)
    show_birthdays = actor.role in CLEAR_FOR[identities.ID_CARD]
    m = model()
    notices = notices_for(citizen, language=language, today=today, applied=applied, profile=profile,
                          show_birthdays=show_birthdays, m=m)
    services = recommendations(citizen, language=language, today=today, applied=applied, profile=profile, k=3,
                               m=m)
    noticed = {n.code for n in notices}
    services = [s for s in services if s.code not in noticed]
    return NextBestAction(citizen.pk, open_cases, follow_ups, unsatisfied, notices,
                          [a for a in applied if a.status in IN_PROGRESS], services,
                          articles_for(citizen, services, language=language, limit=2))
