"""Phone calls as the PBX reports them, and the raw events that reported them.

A `Call` is one call through the contact centre, keyed by the PBX's call id. Its state moves
ringing → answered → ended as events arrive (events may arrive late or out of order; a later
state is never moved back). Each `CallEvent` is stored once per (call, event): a PBX repeating an
event changes nothing.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from govcrm.common.models import TimestampedModel


class Call(TimestampedModel):
    class State(models.TextChoices):
        RINGING = "ringing", _("Ringing")
        ANSWERED = "answered", _("Answered")
        ENDED = "ended", _("Ended")

    call_id = models.CharField(_("call id"), max_length=128, unique=True)
    caller = models.CharField(_("caller"), max_length=32, blank=True,
                              help_text=_("E.164 when the number is valid, else as the PBX gave it."))
    agent = models.CharField(_("agent"), max_length=150, blank=True, help_text=_("The agent's user name."))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.RINGING)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    citizen = models.ForeignKey("citizens.Citizen", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    survey_digits = models.CharField(_("survey digits"), max_length=16, blank=True)
    survey_applied = models.BooleanField(default=False, help_text=_("The survey answer closed the case's follow-up."))

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        indexes = [models.Index(fields=["agent", "state", "started_at"], name="call_agent_state")]

    def __str__(self) -> str:
        return self.call_id

    def advance(self, state: str) -> None:
        """Move to `state` unless the call is already further along."""
        order = list(self.State)
        if order.index(state) > order.index(self.state):
            self.state = state


class CallEvent(models.Model):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    event = models.CharField(max_length=16)
    at = models.DateTimeField()
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["call", "event"], name="call_event_once")]

    def __str__(self) -> str:
        return f"{self.call_id} {self.event}"
