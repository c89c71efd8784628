"""Calls reported by the PBX, linked to cases, and follow-up (回访) results.

Rules:
- Each CTI event is applied once: (call id, event) is unique, so a PBX repeating an event changes
  nothing. Events may come out of order; a call's state never moves back (ringing → answered →
  ended) and a missing "ringing" is not needed for the others to work.
- The caller is normalised to E.164 when the number is valid and then identifies the citizen
  (found, never created, at "ringing": the screen pop shows who calls). The agent is given by
  user name or by phone extension (the staff profile's `phone_extension`).
- "ended" logs the call on the citizen's timeline as one interaction of channel "phone", keyed
  by the call id, with its ring and talk times and recording; a call already linked to a case
  joins that case. A caller with a valid number gets a citizen record then, as at phone intake.
- A call is linked to a case by `call_link_case` (the agent who registered or found the case);
  the call's interaction moves to that case too.
- IVR satisfaction survey, digits keyed in after a case's reply (the first digit counts):
    1 = satisfied 满意            → resolved = yes, satisfied = yes
    2 = basically satisfied 基本满意 → resolved = yes, satisfied = yes
    3 = not satisfied 不满意        → resolved = no,  satisfied = no
  An optional second digit overrides "resolved": 1 = resolved, 2 = not resolved. The answer is
  kept on the call, and when the call's case is waiting for its follow-up it *is* the follow-up:
  `follow_up` is made by the phone channel with the reason code ivr_satisfied /
  ivr_basically_satisfied / ivr_not_satisfied, so the grade stays in the case history. A survey
  keyed in before the call is linked is applied at linking. Other digits are kept, not applied.
- A follow-up call by an agent either reaches the citizen (→ the case's `follow_up` move with
  resolved, satisfied, rating and the agent's note) or not (→ a note on the case; the case stays
  in its follow-up queue for another attempt).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from govcrm.cases.actions import case_transition
from govcrm.cases.models import Case
from govcrm.cases.queries import case_get
from govcrm.cases.workflow import Status
from govcrm.channels.intake import IntakeMessage, channel_actor, intake_receive, interaction_link_case
from govcrm.citizens import identities
from govcrm.citizens.actions import citizen_find, citizen_input_clean
from govcrm.common.errors import NotAllowed, NotFound, ValidationFailed
from govcrm.organization.models import StaffProfile
from govcrm.organization.queries import Actor

from .events import CtiEvent
from .models import Call, CallEvent

CHANNEL = "phone"


@dataclass(frozen=True)
class SurveyAnswer:
    code: str  # the reason code of the follow-up event
    resolved: bool
    satisfied: bool


SURVEY = {
    "1": SurveyAnswer("ivr_satisfied", resolved=True, satisfied=True),
    "2": SurveyAnswer("ivr_basically_satisfied", resolved=True, satisfied=True),
    "3": SurveyAnswer("ivr_not_satisfied", resolved=False, satisfied=False),
}
SURVEY_RESOLVED = {"1": True, "2": False}


def survey_answer(digits: str) -> SurveyAnswer | None:
    """What the keyed-in digits mean (see the module's rules), or None if they mean nothing."""
    answer = SURVEY.get(digits[:1])
    if answer is None:
        return None
    if len(digits) > 1 and digits[1] in SURVEY_RESOLVED:
        answer = SurveyAnswer(answer.code, SURVEY_RESOLVED[digits[1]], answer.satisfied)
    return answer


@dataclass(frozen=True)
class CtiOutcome:
    status: str  # ok | duplicate
    call: Call
    survey: str | None = None  # applied | recorded | invalid (for "dtmf")


def _caller(raw: str) -> tuple[str, bool]:
    """The caller in E.164 and True, or the raw value and False when it is no valid number."""
    try:
        return identities.normalise(identities.PHONE, raw), True
    except ValidationFailed:
        return raw[:32], False


def _agent_username(value: str) -> str:
    if not value or get_user_model().objects.filter(username=value).exists():
        return value
    staff = StaffProfile.objects.select_related("user").filter(phone_extension=value).first()
    return staff.user.get_username() if staff else value


def _locked_call(ev: CtiEvent) -> Call:
    try:
        with transaction.atomic():
            Call.objects.get_or_create(call_id=ev.call_id)
    except IntegrityError:
        pass  # created meanwhile by the same call's other event
    return Call.objects.select_for_update().get(call_id=ev.call_id)


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds()))


def _log_call(call: Call) -> None:
    """The call on the citizen's timeline (and its case's, if linked): one interaction per call."""
    ring = _seconds(call.started_at, call.answered_at or call.ended_at)
    talk = _seconds(call.answered_at, call.ended_at) if call.answered_at else None
    with translation.override(settings.LANGUAGE_CODE):  # stored text is in the centre's language
        if talk is None:
            text = _("Missed call")
        else:
            text = _("Phone call, talk time %(minutes)d:%(seconds)02d") % {"minutes": talk // 60,
                                                                          "seconds": talk % 60}
    number, valid = _caller(call.caller)
    citizen = citizen_input_clean(phone=number) if valid else None
    result = intake_receive(IntakeMessage(
        channel=CHANNEL, text=text, external_id=call.call_id, citizen=citizen, create_case=False,
        case_number=call.case.number if call.case_id else None,
        data={"call_id": call.call_id, "caller": call.caller, "agent": call.agent, "answered": talk is not None,
              "ring_seconds": ring, "talk_seconds": talk, "recording_url": call.recording_url},
    ))
    if call.citizen_id is None and result.interaction.citizen_id:
        call.citizen_id = result.interaction.citizen_id


def _apply_survey(call: Call) -> str:
    answer = survey_answer(call.survey_digits)
    if answer is None:
        return "invalid"
    if call.survey_applied:
        return "applied"
    if call.case_id is None or not Case.objects.filter(pk=call.case_id, status=Status.FOLLOW_UP).exists():
        return "recorded"
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("IVR satisfaction survey: digit %(digits)s") % {"digits": call.survey_digits}
    try:
        case_transition(actor=channel_actor(CHANNEL), case=call.case.number, action="follow_up", reason=reason,
                        data={"resolved": answer.resolved, "satisfied": answer.satisfied,
                              "reason_code": answer.code})
    except NotAllowed:  # the follow-up was recorded by an agent meanwhile
        return "recorded"
    call.survey_applied = True
    return "applied"


def cti_event_receive(ev: CtiEvent) -> CtiOutcome:
    """Apply one CTI event to its call (see the module's rules)."""
    with transaction.atomic():
        call = _locked_call(ev)
        try:
            with transaction.atomic():
                CallEvent.objects.create(call=call, event=ev.event, at=ev.at, payload=ev.payload)
        except IntegrityError:
            return CtiOutcome("duplicate", call)
        if ev.caller and not call.caller:
            call.caller, valid = _caller(ev.caller)
            if valid and call.citizen_id is None:
                citizen = citizen_find(kind=identities.PHONE, normalised=call.caller)
                call.citizen_id = citizen.pk if citizen else None
        if ev.agent and ev.event in ("ringing", "answered"):
            call.agent = _agent_username(ev.agent)
        if ev.recording_url:
            call.recording_url = ev.recording_url
        if ev.case_number and call.case_id is None:  # a survey call the platform placed about a case
            call.case = Case.objects.filter(number=ev.case_number).first()
        survey = None
        if ev.event == "ringing":
            call.started_at = ev.at
        elif ev.event == "answered":
            call.answered_at = ev.at
            call.advance(Call.State.ANSWERED)
        elif ev.event == "ended":
            call.ended_at = ev.at
            call.advance(Call.State.ENDED)
            _log_call(call)
        else:  # dtmf
            call.survey_digits = ev.digits
            survey = _apply_survey(call)
        call.save()
    return CtiOutcome("ok", call, survey)


def call_link_case(*, actor: Actor, call_id: str, case_number: str) -> Call:
    """Link a call to a case the actor may see; its timeline entry and pending survey follow."""
    case = case_get(actor, case_number.strip())
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(call_id=call_id).first()
        if call is None:
            raise NotFound(_("No such call."))
        call.case = case
        interaction_link_case(channel=CHANNEL, external_id=call_id, case=case)
        if call.survey_digits and not call.survey_applied:
            _apply_survey(call)
        call.save()
    return call


@dataclass(frozen=True)
class FollowUpOutcome:
    reached: bool
    resolved: bool | None = None
    satisfied: bool | None = None
    rating: int | None = None
    note: str = ""


def followup_record(*, actor: Actor, case_number: str, outcome: FollowUpOutcome) -> Case:
    """The result of a follow-up call: the follow-up move, or a note that the citizen was not reached."""
    note = outcome.note.strip()
    if outcome.reached:
        return case_transition(actor=actor, case=case_number, action="follow_up", reason=note,
                               data={"resolved": outcome.resolved, "satisfied": outcome.satisfied,
                                     "rating": outcome.rating})
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("Follow-up call: the citizen was not reached.")
    if note:
        reason = f"{reason} {note}"
    case = case_get(actor, case_number)
    if case.status != Status.FOLLOW_UP:
        raise NotAllowed(_("This case is not waiting for a follow-up."))
    return case_transition(actor=actor, case=case_number, action="note", reason=reason)
