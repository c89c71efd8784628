"""Units (a tree), areas (a tree with population) and staff with one role each.

A node's `path` is its ancestors' codes joined by "/" and ending in "/", so a subtree is
`path__startswith=node.path`: one indexed range scan instead of a recursive query.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from govcrm.common.models import BilingualNameMixin, TimestampedModel
from govcrm.common.reference import InvalidatesReferenceCache


class TreeNode(InvalidatesReferenceCache, BilingualNameMixin, TimestampedModel):
    code = models.CharField(_("code"), max_length=64, unique=True)
    path = models.CharField(max_length=512, db_index=True, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        parent = getattr(self, "parent", None)
        self.path = f"{parent.path if parent else '/'}{self.code}/"
        super().save(*args, **kwargs)


class Unit(TreeNode):
    """An organisation that handles cases: the centre, departments, districts, streets, agencies."""

    class Kind(models.TextChoices):
        CENTRE = "centre", _("Hotline centre")
        DEPARTMENT = "department", _("Municipal department")
        DISTRICT = "district", _("District")
        STREET = "street", _("Street / town")
        AGENCY = "agency", _("Agency / utility")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    area = models.ForeignKey(
        "organization.Area", null=True, blank=True, on_delete=models.SET_NULL, related_name="units",
        help_text=_("The territory a district or street government is responsible for."),
    )
    active = models.BooleanField(default=True)
    contact_email = models.EmailField(blank=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["path"]

    @property
    def level(self) -> int:
        return self.path.count("/") - 1


class Area(TreeNode):
    """District → street → community grid, with resident population (for requests per 10,000)."""

    class Level(models.TextChoices):
        CITY = "city", _("City")
        DISTRICT = "district", _("District")
        STREET = "street", _("Street / town")
        GRID = "grid", _("Community grid")

    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    population = models.PositiveIntegerField(_("population"), default=0)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    DISPATCHER = "dispatcher", _("Dispatcher")
    HANDLER = "handler", _("Unit handler")
    MANAGER = "manager", _("Unit manager")
    SUPERVISOR = "supervisor", _("Supervisor")
    ANALYST = "analyst", _("Analyst")
    ADMIN = "admin", _("Administrator")


# Roles working for the hotline centre: they see every case of the city.
CENTRE_ROLES = frozenset({Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR, Role.ANALYST, Role.ADMIN})
# Roles working inside a unit: they see the cases assigned to their unit's subtree.
UNIT_ROLES = frozenset({Role.HANDLER, Role.MANAGER})


class StaffProfile(TimestampedModel):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="staff")
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="zh-hans"
    )
    phone_extension = models.CharField(max_length=16, blank=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.get_role_display()}, {self.unit})"


class ApiScope(models.TextChoices):
    """What a bearer token may do; the API checks the scope of each route (common/auth.py)."""

    CASES_READ = "cases:read", _("Read cases")
    CASES_WRITE = "cases:write", _("Register cases and make moves on them")
    CITIZENS_READ = "citizens:read", _("Read citizens (masked by role)")
    REFERENCE_READ = "reference:read", _("Read units, areas and categories")
    KNOWLEDGE_READ = "knowledge:read", _("Read knowledge articles")


class ApiToken(TimestampedModel):
    """A bearer token for the REST API. Only its SHA-256 is stored; the clear token is shown once.

    A token acts as its user (role and unit still limit what it sees) and only within its
    `scopes`; it stops working when revoked, when it expires, or when its user is deactivated.
    A token with a `unit` (a department system's token) acts only for that unit's subtree, however
    wide its user's unit is (see `queries.actor_for_user`).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=12)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="api_tokens",
        verbose_name=_("unit scope"),
        help_text=_("A department system's token: it sees and moves only the cases of this unit's subtree."),
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
