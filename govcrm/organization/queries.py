"""Who is acting, and what they may see.

Every read of cases or citizens goes through an `Actor`: centre roles see the whole city,
unit roles see their unit's subtree. The automatic jobs act as `SYSTEM`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from govcrm.common import fastsql
from govcrm.common.errors import Forbidden

from .models import CENTRE_ROLES, UNIT_ROLES, Area, Role, StaffProfile, Unit


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    role: str
    unit_id: int | None
    unit_path: str

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    @property
    def is_centre(self) -> bool:
        return self.role in CENTRE_ROLES

    def sees_unit_path(self, path: str) -> bool:
        return self.is_centre or path.startswith(self.unit_path)


SYSTEM = Actor(user_id=None, username="system", role=Role.ADMIN, unit_id=None, unit_path="/")


def actor_for_user(user) -> Actor:
    """The acting staff member; a user without a staff profile may do nothing.

    A request authenticated by a unit-scoped API token (common/auth.py sets `user.api_token_unit`)
    acts for that unit only: same role, the token's unit instead of the profile's. If the account
    has since moved out of a unit role or above the token's unit, the token may do nothing.
    """
    if user is None or not user.is_authenticated:
        raise Forbidden("Sign-in required")
    token_unit = getattr(user, "api_token_unit", None)
    if token_unit is not None:
        return _actor_for_unit_token(user, token_unit)
    # On every staff request and API call: one plain statement (common/fastsql.py).
    staff = fastsql.row("SELECT s.role, s.unit_id, u.path FROM organization_staffprofile s "
                        "JOIN organization_unit u ON u.id = s.unit_id WHERE s.user_id = %s", [user.pk])
    if staff is None:
        if user.is_superuser:
            return Actor(user_id=user.pk, username=user.get_username(), role=Role.ADMIN, unit_id=None,
                         unit_path="/")
        raise Forbidden("This account has no staff role")
    role, unit_id, unit_path = staff
    return Actor(user_id=user.pk, username=user.get_username(), role=role, unit_id=unit_id, unit_path=unit_path)


def _actor_for_unit_token(user, unit: Unit) -> Actor:
    staff = StaffProfile.objects.select_related("unit").filter(user=user).first()
    if (staff is None or staff.role not in UNIT_ROLES or not unit.active
            or not unit.path.startswith(staff.unit.path)):
        raise Forbidden("This token's unit is no longer within its account's unit")
    return Actor(user_id=user.pk, username=user.get_username(), role=staff.role, unit_id=unit.pk,
                 unit_path=unit.path)


def unit_subtree(unit: Unit) -> QuerySet[Unit]:
    return Unit.objects.filter(path__startswith=unit.path)


def unit_ids_visible_to(actor: Actor) -> list[int] | None:
    """Ids of the units whose cases the actor sees, or None for all."""
    if actor.is_centre:
        return None
    return list(Unit.objects.filter(path__startswith=actor.unit_path).values_list("id", flat=True))


def unit_list() -> QuerySet[Unit]:
    return Unit.objects.filter(active=True).select_related("parent")


def area_list() -> QuerySet[Area]:
    return Area.objects.select_related("parent")
