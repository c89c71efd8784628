"""Reads of the citizen timeline."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Attachment, Interaction


def interactions_for_case(case_id: int) -> QuerySet[Interaction]:
    return Interaction.objects.filter(case_id=case_id).prefetch_related("attachments").order_by("created_at", "id")


def attachment_for_case(case_id: int, attachment_id: int) -> Attachment | None:
    return Attachment.objects.filter(pk=attachment_id, interaction__case_id=case_id).first()


def timeline_for_citizen(citizen_id: int, limit: int = 100) -> QuerySet[Interaction]:
    return (Interaction.objects.filter(citizen_id=citizen_id).select_related("case")
            .prefetch_related("attachments").order_by("-created_at", "-id")[:limit])
