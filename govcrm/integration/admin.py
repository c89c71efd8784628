"""Admin of department integration: subscribers (the secret shown once, rotation), deliveries (read-only, retry)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from govcrm.common.errors import DomainError

from . import actions
from .models import Delivery, DeliveryAttempt, Subscriber


class SubscriberForm(forms.ModelForm):
    url = forms.URLField(label=_("endpoint URL"), max_length=500, assume_scheme="https",
                         help_text=Subscriber._meta.get_field("url").help_text)

    class Meta:
        model = Subscriber
        fields = ("name", "url", "active", "event_types", "unit", "category")

    def clean_url(self):
        url = self.cleaned_data["url"]
        if not url.startswith(("https://", "http://")):
            raise forms.ValidationError(_("The endpoint URL must start with https:// or http://."))
        return url

    def clean_event_types(self):
        value = self.cleaned_data["event_types"] or []
        if not isinstance(value, list):
            raise forms.ValidationError(_("A list of event types, e.g. [\"gov.govcrm.case.dispatched\"]."))
        try:
            return actions._clean_types(value)
        except DomainError as err:
            raise forms.ValidationError(err.message) from None


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    """A new subscriber's signing secret is shown once, after saving; rotate it with the action."""

    form = SubscriberForm
    list_display = ("name", "url", "active", "event_types", "unit", "category", "created_at")
    list_filter = ("active",)
    search_fields = ("name", "url")
    autocomplete_fields = ("unit",)
    readonly_fields = ("previous_secret_until",)
    actions = ["rotate_secret", "ping"]

    def save_model(self, request, obj, form, change):
        secret = None if change else actions.subscriber_secret_prepare(obj)
        super().save_model(request, obj, form, change)
        if secret:
            self.message_user(request, _("Signing secret of %(name)s (shown only now; give it to the department): "
                                         "%(secret)s") % {"name": obj.name, "secret": secret}, messages.WARNING)

    @admin.action(description=_("Rotate the signing secret (the old one still signs for a grace period)"))
    def rotate_secret(self, request, queryset):
        for subscriber in queryset:
            secret = actions.subscriber_rotate_secret(subscriber_id=subscriber.pk, actor=request.user)
            self.message_user(request, _("New signing secret of %(name)s (shown only now): %(secret)s")
                              % {"name": subscriber.name, "secret": secret}, messages.WARNING)


    @admin.action(description=_("Send a test event (gov.govcrm.test.ping)"))
    def ping(self, request, queryset):
        for subscriber in queryset:
            delivery = actions.subscriber_ping(subscriber_id=subscriber.pk, actor=request.user)
            self.message_user(request, _("Test event queued for %(name)s (delivery %(id)s): see the webhook "
                                         "deliveries for the answer.") % {"name": subscriber.name, "id": delivery.pk})


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ("number", "at", "status_code", "latency_ms", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The outbox, read-only: deliveries are written by case and application events only."""

    list_display = ("event_type", "subject", "subscriber", "status", "attempts", "last_status_code",
                    "next_attempt_at", "created_at")
    list_filter = ("status", "subscriber")
    search_fields = ("subject", "event_type", "event_id")
    fields = ("subscriber", "event_id", "event_type", "subject", "status", "attempts", "next_attempt_at",
              "last_status_code", "last_error", "created_at", "delivered_at", "payload_json")
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("payload"))
    def payload_json(self, obj):
        return json.dumps(obj.payload, ensure_ascii=False, indent=2)

    @admin.action(description=_("Retry the selected dead letters"))
    def retry(self, request, queryset):
        n = 0
        for pk in queryset.filter(status=Delivery.Status.DEAD).values_list("pk", flat=True):
            actions.delivery_retry(delivery_id=pk, actor=request.user)
            n += 1
        self.message_user(request, _("%(n)d dead letters will be sent again.") % {"n": n})
