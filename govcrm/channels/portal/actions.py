"""Writes of the citizen portal: a request through the one intake, the citizen's feedback, a reopen request.

Rules:
- A request goes through `channels.intake.intake_receive` with the form's submission token as
  its natural key: a double click or a browser retry returns the first case and stores nothing more.
- Photos arrive already checked and stripped (`channels.uploads.clean_image`); the view refuses
  the whole request when one of them is bad, so nothing is stored for it.
- Feedback is given once per round: on a case in follow-up it is the follow-up move, made as
  the portal's channel actor (a system actor for the state machine); on a case the hotline
  closed at first contact, where no follow-up move exists, it is a note. The case row is
  locked while this is decided, so two clicks cannot record two answers.
- A reopen request is a note for the dispatcher, who makes the actual reopen move.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from govcrm.cases.actions import case_transition
from govcrm.cases.models import Case
from govcrm.cases.queries import case_events
from govcrm.cases.workflow import Status
from govcrm.channels.intake import IntakeMessage, channel_actor, intake_receive
from govcrm.channels.receipts import receipt_take, takes_receipt
from govcrm.channels.uploads import CleanFile
from govcrm.citizens.actions import CitizenInput
from govcrm.common.errors import NotAllowed, NotFound

from .queries import FEEDBACK_NOTE, REOPEN_NOTE, feedback_for

CHANNEL = "portal"


@dataclass(frozen=True)
class PortalRequest:
    """A request as the portal's form hands it over, contact details and photos already checked."""

    token: str
    category: str
    case_type: str
    description: str
    address: str = ""
    lat: float | None = None
    lon: float | None = None
    citizen: CitizenInput | None = None  # None: anonymous
    photos: tuple[CleanFile, ...] = ()
    language: str = "zh-hans"


def portal_request_submit(*, request: PortalRequest) -> str:
    """Store the request (once per submission token) and open its case; returns the case number.

    At peak (GOVCRM_INTAKE_RECEIPTS=on) a request without photos is kept as a receipt and its
    case registered by the worker moments later, under the number answered now (ADR 0023).
    """
    msg = IntakeMessage(
        channel=CHANNEL, external_id=request.token, text=request.description, category=request.category,
        case_type=request.case_type, address=request.address, lat=request.lat, lon=request.lon,
        citizen=request.citizen, attachments=request.photos, language=request.language,
    )
    if takes_receipt(msg):
        return receipt_take(msg).number
    return intake_receive(msg).case.number


def _yes_no(value: bool | None) -> str:
    return {True: _("yes"), False: _("no"), None: "—"}[value]


def portal_feedback_give(*, number: str, resolved: bool, satisfied: bool, rating: int | None) -> Case:
    """Record the citizen's verdict on the reply, once; NotAllowed when it is not (or no longer) asked for."""
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(number=number).first()
        if case is None:
            raise NotFound(_("No such case."))
        feedback = feedback_for(case, list(case_events(case)))
        if not feedback.can_rate:
            if feedback.given:
                raise NotAllowed(_("Your feedback on this request was already recorded."), code="already_given")
            raise NotAllowed(_("This request cannot be rated now."))
        answers = {"resolved": resolved, "satisfied": satisfied, "rating": rating}
        actor = channel_actor(CHANNEL)
        if case.status == Status.FOLLOW_UP:
            return case_transition(actor=actor, case=number, action="follow_up", data=answers)
        with translation.override(settings.LANGUAGE_CODE):  # the note is read by the centre's staff
            summary = _("The citizen's feedback on the portal: resolved %(resolved)s, satisfied %(satisfied)s, "
                        "rating %(rating)s.") % {"resolved": _yes_no(resolved), "satisfied": _yes_no(satisfied),
                                                 "rating": f"{rating}/5" if rating else "—"}
        return case_transition(actor=actor, case=number, action="note", reason=summary,
                               data={"reason_code": FEEDBACK_NOTE, **answers})


def portal_reopen_request(*, number: str, reason: str = "") -> Case:
    """Ask the centre to reopen a case the citizen says is not resolved; once per round."""
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(number=number).first()
        if case is None:
            raise NotFound(_("No such case."))
        feedback = feedback_for(case, list(case_events(case)))
        if not feedback.can_ask_reopen:
            if feedback.reopen_asked_at:
                raise NotAllowed(_("You already asked for this request to be reopened."), code="already_asked")
            raise NotAllowed(_("A reopening can be asked for only after you said the problem is not resolved."))
        reason = reason.strip()[:2000]
        if not reason:
            with translation.override(settings.LANGUAGE_CODE):
                reason = _("The citizen asks for the request to be reopened: the problem is not resolved.")
        return case_transition(actor=channel_actor(CHANNEL), case=number, action="note", reason=reason,
                               data={"reason_code": REOPEN_NOTE, "reopen_requested": True})
