"""Writes of the Open311 channel: clients, service requests and citizen updates, through the one intake.

Rules:
- A POST must name an active leaf category as service_code (else 404) and answer the service
  definition: every required question, list answers among the listed keys, numbers as numbers,
  datetimes as W3C datetimes (else 400). Attributes no question asks for are kept, as
  mySociety's server does (FixMyStreet sends `uprn`, `title`…).
- Idempotent: the natural key of a request is the client's name plus `attribute[fixmystreet_id]`
  when FixMyStreet sends one, else plus the SHA-256 of the posted fields (credentials left out).
  A retried identical POST returns the first service_request_id and stores nothing.
- An update is keyed by the client's name and its `update_id`; a retry returns the first answer;
  an `update_id` reused for another request is refused.
- Personal data (name, e-mail, phone) goes to the citizen record only; `media_url` is kept in the
  interaction's data and never fetched here.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from govcrm.cases.models import Case
from govcrm.channels.intake import IntakeMessage, intake_key_used, intake_receive
from govcrm.channels.models import Interaction
from govcrm.channels.receipts import receipt_by_token, receipt_take, takes_receipt
from govcrm.citizens.actions import CitizenInput, citizen_input_clean
from govcrm.common.errors import ValidationFailed

from . import queries
from .inputs import PersonFields, ServiceRequestForm, ServiceRequestUpdateForm, bad, parse_datetime
from .models import Open311Client, ServiceQuestion
from .render import Open311Error, Open311Errors

CHANNEL = "open311"
KEY_PREFIX = "o311_"
FMS_HINT = "fixmystreet_id"


def open311_client_create(*, name: str) -> tuple[Open311Client, str]:
    """A new client and its api_key in clear, which is shown this once and stored only hashed."""
    name = (name or "").strip()
    if not re.fullmatch(r"[\w.-]{1,100}", name):
        raise ValidationFailed(_("A client name is 1 to 100 letters, digits, '.', '_' or '-'."),
                               details={"name": name})
    if Open311Client.objects.filter(name=name).exists():
        raise ValidationFailed(_("There is already a client named %(name)s.") % {"name": name},
                               details={"name": name})
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        client = Open311Client.objects.create(name=name, key_prefix=key[:12], key_digest=queries.key_digest(key))
    return client, key


def open311_client_deactivate(*, name: str) -> bool:
    return Open311Client.objects.filter(name=name, active=True).update(active=False) > 0


def _citizen(person: PersonFields, language: str) -> CitizenInput | None:
    if not (person.email or person.phone or person.name):
        return None
    # Raises ValidationFailed (→ 400) for a phone number or e-mail address that is not one.
    return citizen_input_clean(name=person.name[:200], language=language, field_prefix="open311",
                               email=person.email or None, phone=person.phone or None)


def _answer(question: ServiceQuestion, values: list[str]) -> str | list[str]:
    code, datatype = question.code, question.datatype
    keys = {k for k, _name in question.choices()}
    if datatype == ServiceQuestion.Datatype.MULTIVALUELIST:
        wrong = [v for v in values if v not in keys]
        if wrong:
            raise bad(_("attribute[%(code)s]: %(value)s is not one of the listed values.")
                      % {"code": code, "value": ", ".join(wrong)})
        return values
    if len(values) > 1:
        raise bad(_("attribute[%(code)s] takes one value.") % {"code": code})
    value = values[0]
    if datatype == ServiceQuestion.Datatype.SINGLEVALUELIST and value not in keys:
        raise bad(_("attribute[%(code)s]: %(value)s is not one of the listed values.")
                  % {"code": code, "value": value})
    if datatype == ServiceQuestion.Datatype.NUMBER:
        try:
            float(value)
        except ValueError:
            raise bad(_("attribute[%(code)s] must be a number.") % {"code": code}) from None
    if datatype == ServiceQuestion.Datatype.DATETIME:
        parse_datetime(value, f"attribute[{code}]")
    if len(value) > 4000:
        raise bad(_("attribute[%(code)s] is longer than %(n)d characters.") % {"code": code, "n": 4000})
    return value


def attributes_check(questions: list[ServiceQuestion], posted: dict[str, list[str]]) -> dict[str, str | list[str]]:
    """The posted attributes checked against the service definition; every problem is reported."""
    errors: list[Open311Error] = []
    out: dict[str, str | list[str]] = {}
    asked = {q.code: q for q in questions if q.variable}
    for q in asked.values():
        values = posted.get(q.code, [])
        if not values:
            if q.required:
                errors.append(bad(_("attribute[%(code)s] is required: %(question)s")
                                  % {"code": q.code, "question": q.label}))
            continue
        try:
            out[q.code] = _answer(q, values)
        except Open311Error as exc:
            errors.append(exc)
    for code, values in posted.items():
        if code not in asked and not any(q.code == code for q in questions):
            out[code] = values if len(values) > 1 else values[0]
    if errors:
        raise Open311Errors(errors)
    return out


@dataclass(frozen=True)
class Submitted:
    case: Case | None  # None: kept as a receipt, answered with its token (service type batch)
    created: bool
    token: str
    account_id: str


def _natural_key(client: Open311Client, form: ServiceRequestForm) -> str:
    hint = (form.attributes.get(FMS_HINT) or [""])[0]
    if hint and len(hint) <= 100:
        return f"{client.name}:{FMS_HINT}:{hint}"
    return f"{client.name}:sha256:{form.fingerprint}"


def open311_request_submit(*, client: Open311Client, form: ServiceRequestForm, language: str) -> Submitted:
    """Register a POSTed service request as a case (or return the case a retry already made)."""
    external_id = _natural_key(client, form)
    used = intake_key_used(CHANNEL, external_id)  # most keys are new: one plain statement
    earlier = (Interaction.objects.filter(channel=CHANNEL, direction=Interaction.Direction.INBOUND,
                                          external_id=external_id, case__isnull=False)
               .select_related("case").first()) if used else None
    if earlier is not None:
        # A retry: answer as the first time, even if the service definition changed meanwhile
        # (a request first kept as a receipt was answered with its token).
        first_token = (earlier.data or {}).get("token", "")
        return Submitted(case=None if receipt_by_token(first_token) else earlier.case, created=False,
                         token=first_token, account_id=(earlier.data or {}).get("account_id", ""))
    category = queries.service_get(form.service_code)
    if category is None:
        raise Open311Error(404, _("service_code %(code)s was not found.") % {"code": form.service_code})
    attributes = attributes_check(queries.questions_for(category), form.attributes)
    citizen = _citizen(form.person, language)
    token = uuid.uuid4().hex
    data = {
        "client": client.name,
        "kind": "request",
        "service_code": category.code,
        "attributes": attributes,
        "media_url": list(form.media_urls),
        "token": token,
    }
    for key, value in (("address_id", form.address_id), ("device_id", form.device_id),
                       ("account_id", form.account_id)):
        if value:
            data[key] = value
    msg = IntakeMessage(
        channel=CHANNEL, text=form.description or category.name, external_id=external_id,
        category=category.code, case_type=form.case_type, address=form.address_string, lat=form.lat,
        lon=form.lon, citizen=citizen, language=language, attachments=form.photos, data=data,
    )
    if takes_receipt(msg):  # the service is of type batch: the answer is a token (ADR 0023)
        done = receipt_take(msg, token=token, checked=not used)
        return Submitted(case=None, created=done.created, token=done.token,
                         account_id=form.account_id or "")
    result = intake_receive(msg, checked=not used)
    if result.case is None:  # the natural key was taken by something that made no case
        raise bad(_("This request was already received, without a case."))
    stored = result.interaction.data or {}
    return Submitted(case=result.case, created=result.created, token=stored.get("token", token),
                     account_id=stored.get("account_id", ""))


def receipt_notice() -> str:
    """The answer's notice for a request kept as a receipt (service type batch)."""
    return pgettext("open311 answer", "Received by the 12345 hotline; the case number follows from GET "
                    "/tokens/{token} once it is registered, within minutes.")


def service_notice(case: Case) -> str:
    """The answer's notice: the case number, and the reply deadline once a unit has the case."""
    if case.reply_due:
        due = timezone.localtime(case.reply_due).date().isoformat()
        notice = pgettext("open311 answer", "Registered by the 12345 hotline as case %(number)s; "
                          "the responsible unit replies by %(due)s.")
        return notice % {"number": case.number, "due": due}
    return pgettext("open311 answer", "Registered by the 12345 hotline as case %(number)s.") % {"number": case.number}


def open311_update_receive(*, client: Open311Client, form: ServiceRequestUpdateForm,
                           language: str) -> Interaction:
    """Add a citizen's update sent by a client (FixMyStreet) to its case, once per update_id."""
    case = queries.public_case(form.service_request_id)
    if case is None:
        raise Open311Error(404, _("service_request_id %(id)s was not found.") % {"id": form.service_request_id})
    citizen = _citizen(form.person, language)
    text = form.description or _("Status sent by %(client)s: %(status)s") % {"client": client.name,
                                                                              "status": form.status}
    data = {
        "client": client.name,
        "kind": "update",
        "update_id": form.update_id,
        "status": form.status,
        "updated_datetime": form.updated_datetime.isoformat(),
        "media_url": list(form.media_urls),
        "attributes": {k: v if len(v) > 1 else v[0] for k, v in form.attributes.items()},
        **({"extras": form.extras} if form.extras else {}),
    }
    result = intake_receive(IntakeMessage(
        channel=CHANNEL, text=text, external_id=f"fms-update:{client.name}:{form.update_id}",
        case_number=case.number, create_case=False, citizen=citizen, language=language,
        attachments=form.photos, data=data,
    ))
    if result.case is None or result.case.pk != case.pk:
        raise bad(_("update_id %(id)s was already used for another service request.") % {"id": form.update_id})
    return result.interaction


def update_id_of(interaction: Interaction) -> str:
    """Our id of a received update; distinct from the ids of published updates (`<case>-<seq>`)."""
    return f"i{interaction.pk}"
