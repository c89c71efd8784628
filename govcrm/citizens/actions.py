"""Writes on citizens: find-or-create by identity, add identities."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from govcrm.common import fastsql
from govcrm.common.errors import ValidationFailed

from . import crypto, identities
from .models import Citizen, Identity


@dataclass(frozen=True)
class CitizenInput:
    """A citizen as given at intake; identities are already normalised (see `citizen_input_clean`)."""

    name: str = ""
    kind: str = Citizen.Kind.PERSON
    language: str = "zh-hans"
    preferred_channel: str | None = None
    identities: dict[str, str] = field(default_factory=dict)


def citizen_input_clean(
    *, name: str = "", kind: str = Citizen.Kind.PERSON, language: str = "zh-hans",
    preferred_channel: str | None = None, field_prefix: str = "citizen", **raw_identities: str | None
) -> CitizenInput:
    """Validate raw identities (phone, id_number, credit_code, email, wechat_openid)."""
    mapping = {
        "phone": identities.PHONE,
        "id_number": identities.ID_CARD,
        "credit_code": identities.CREDIT_CODE,
        "email": identities.EMAIL,
        "wechat_openid": identities.WECHAT,
    }
    if kind not in Citizen.Kind.values:
        message = _("Unknown kind of citizen: %(value)s") % {"value": str(kind)[:20]}
        raise ValidationFailed(message, details={f"{field_prefix}.kind": message})
    if language not in dict(settings.LANGUAGES):
        message = _("Unknown language: %(value)s") % {"value": str(language)[:20]}
        raise ValidationFailed(message, details={f"{field_prefix}.language": message})
    clean: dict[str, str] = {}
    for key, value in raw_identities.items():
        if value in (None, ""):
            continue
        id_kind = mapping[key]  # not `kind`: that is the citizen's (person or enterprise)
        clean[id_kind] = identities.normalise(id_kind, value, field=f"{field_prefix}.{key}")
    return CitizenInput(
        name=(name or "").strip(), kind=kind, language=language, preferred_channel=preferred_channel,
        identities=clean,
    )


def citizen_sms_opt_out_set(*, citizen_id: int, opted_out: bool) -> None:
    """Honour an SMS opt-out (STOP, 退订) or opt-in (START, 订阅) keyword."""
    from django.utils import timezone

    Citizen.objects.filter(pk=citizen_id).update(sms_opt_out=opted_out, updated_at=timezone.now())


_BY_IDENTITY = (
    "JOIN citizens_identity ON citizens_identity.citizen_id = citizens_citizen.id "
    "WHERE citizens_identity.kind = %s AND citizens_identity.blind_index = %s"
)


def citizen_find(*, kind: str, normalised: str) -> Citizen | None:
    # Every intake looks its caller up: one plain statement (see common/fastsql.py).
    citizen = fastsql.fetch_one(Citizen, _BY_IDENTITY, [kind, crypto.blind_index(kind, normalised)])
    if citizen is None:
        return None
    while citizen.merged_into_id:  # follow merges to the surviving record
        citizen = Citizen.objects.get(pk=citizen.merged_into_id)
    return citizen


def citizen_find_or_create(*, data: CitizenInput) -> Citizen | None:
    """The one record for these identities: found by any of them, else created with all of them.

    Returns None when no identity and no name is given (an anonymous contact).
    """
    if not data.identities and not data.name:
        return None
    # No savepoint of its own: every caller lets a failure here fail its whole transaction.
    with transaction.atomic(savepoint=False):
        citizen = None
        matched = None  # the kind of identity that found the citizen
        missing: set[str] = set()  # kinds looked up and not found: no need to look again
        for kind, value in data.identities.items():
            citizen = citizen_find(kind=kind, normalised=value)
            if citizen:
                matched = kind
                break
            missing.add(kind)
        if citizen is None:
            citizen = fastsql.insert(Citizen(
                kind=data.kind, name=data.name, language=data.language,
                preferred_channel=data.preferred_channel or Citizen.Channel.PHONE,
            ))
        elif data.name and not citizen.name:
            citizen.name = data.name
            citizen.save(update_fields=["name", "updated_at"])
        for kind, value in data.identities.items():
            if kind == matched:
                continue
            if kind in missing or not Identity.objects.filter(
                    kind=kind, blind_index=crypto.blind_index(kind, value)).exists():
                try:
                    with transaction.atomic():
                        fastsql.insert(Identity.build(citizen=citizen, kind=kind, normalised=value))
                except IntegrityError:
                    pass  # another request added it first: the identity exists, which is what we want
    return citizen
