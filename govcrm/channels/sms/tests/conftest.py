"""The sample webhooks in ../fixtures/, a signed client for them, and a local SMS provider."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from django.conf import settings

from govcrm.channels.sms.signatures import generic_signature, twilio_signature

from .provider import SmsProvider

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
URL = "/channels/sms/inbound"


def payload(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def post_generic(client):
    """POST a generic JSON webhook, signed with the test secret unless `signature` is given."""

    def post(body: bytes, signature: str | None = None):
        sig = generic_signature(settings.GOVCRM_SMS_SECRET, body) if signature is None else signature
        return client.post(URL, data=body, content_type="application/json", headers={"X-GovCRM-Signature": sig})

    return post


@pytest.fixture
def post_twilio(client):
    """POST a Twilio form body as Twilio does: the signature over the full URL and sorted fields."""

    def post(body: bytes, signature: str | None = None):
        params = parse_qsl(body.decode(), keep_blank_values=True)
        sig = twilio_signature(settings.GOVCRM_SMS_SECRET, f"http://testserver{URL}", params) \
            if signature is None else signature
        return client.post(URL, data=body, content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": sig})

    return post


@pytest.fixture
def sms_provider(settings):
    provider = SmsProvider(settings.GOVCRM_SMS_SECRET).start()
    settings.GOVCRM_SMS_API_URL = provider.url
    yield provider
    provider.stop()
