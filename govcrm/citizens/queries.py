"""Reads on citizens, masked according to the reader's role; a clear read of a sensitive field is audited."""

from __future__ import annotations

from dataclasses import dataclass

from govcrm.audit.actions import audit_sensitive_read
from govcrm.organization.models import Role
from govcrm.organization.queries import Actor

from . import identities
from .models import Citizen

# Which roles see an identity kind in clear. Everyone else sees it masked.
CLEAR_FOR: dict[str, frozenset[str]] = {
    # Those who call the citizen back need the number.
    identities.PHONE: frozenset({Role.AGENT, Role.DISPATCHER, Role.HANDLER, Role.MANAGER, Role.SUPERVISOR,
                                 Role.ADMIN}),
    identities.EMAIL: frozenset({Role.AGENT, Role.DISPATCHER, Role.HANDLER, Role.MANAGER, Role.SUPERVISOR,
                                 Role.ADMIN}),
    # ID numbers: only intake (to verify who is calling) and administrators.
    identities.ID_CARD: frozenset({Role.AGENT, Role.ADMIN}),
    identities.CREDIT_CODE: frozenset({Role.AGENT, Role.DISPATCHER, Role.ADMIN}),
    identities.WECHAT: frozenset({Role.ADMIN}),
}
NAME_CLEAR_FOR = frozenset(
    {Role.AGENT, Role.DISPATCHER, Role.HANDLER, Role.MANAGER, Role.SUPERVISOR, Role.ADMIN}
)


@dataclass(frozen=True)
class CitizenView:
    id: int
    kind: str
    name: str
    language: str
    preferred_channel: str
    identities: dict[str, str]


def citizen_view(citizen: Citizen, actor: Actor) -> CitizenView:
    """The citizen as `actor` may see them. Showing a sensitive identity in clear (the encrypted
    kinds: phone, ID numbers) to a person is written to the audit log."""
    shown: dict[str, str] = {}
    decrypted: list[str] = []
    for ident in citizen.identities.all():
        if actor.role in CLEAR_FOR.get(ident.kind, ()):
            shown[ident.kind] = ident.value
            if ident.kind in identities.ENCRYPTED_KINDS:
                decrypted.append(ident.kind)
        else:
            shown[ident.kind] = ident.masked
    if decrypted and not actor.is_system:
        audit_sensitive_read(citizen=citizen, kinds=decrypted, actor=actor)
    return CitizenView(
        id=citizen.pk,
        kind=citizen.kind,
        name=citizen.name if actor.role in NAME_CLEAR_FOR else identities.mask_name(citizen.name),
        language=citizen.language,
        preferred_channel=citizen.preferred_channel,
        identities=shown,
    )
