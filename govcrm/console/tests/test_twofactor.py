"""Second sign-in factor: enrolment by QR/secret, sign-in with a real TOTP code, backup codes,
replay and wrong codes refused, required roles, admin sign-in, audit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from govcrm.audit.models import AuditRecord

PASSWORD = "pass-12345"


def totp(secret_b32: str, at: float | None = None, step: int = 30) -> str:
    """RFC 6238 from the key shown to the user, computed here independently of django-otp."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def _sign_in(client: Client, username: str, next_url: str = "") -> object:
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post("/console/login/", data)


def _enrol(client: Client) -> tuple[str, list[str]]:
    """Set up the app as a person would: start, read the key from the page, confirm with a code."""
    assert client.post("/console/account/security/", {"action": "start"}).status_code == 302
    page = client.get("/console/account/security/").content.decode()
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    qr = client.get("/console/account/security/qr.svg")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    done = client.post("/console/account/security/", {"action": "confirm", "code": totp(secret)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.content.decode())
    assert len(codes) == 10
    return secret, codes


@pytest.fixture
def agent_client(city):
    client = Client(REMOTE_ADDR="192.0.2.10")
    assert _sign_in(client, "agent").status_code == 302
    return client


def test_enrolment_then_sign_in_asks_for_the_code(city, agent_client):
    secret, _codes = _enrol(agent_client)
    device = TOTPDevice.objects.get(user=city.users["agent"])
    assert device.confirmed
    assert AuditRecord.objects.filter(action="2fa.enable", actor_name="agent").exists()
    # The enrolling session itself counts as verified.
    assert agent_client.get("/console/").status_code == 200

    client = Client(REMOTE_ADDR="192.0.2.11")
    r = _sign_in(client, "agent", next_url="/console/search/")
    assert r.status_code == 302 and r["Location"] == "/console/login/code/"
    assert client.get("/console/").status_code == 302  # not signed in by the password alone
    wrong = client.post("/console/login/code/", {"code": "000000" if totp(secret) != "000000" else "111111"})
    assert wrong.status_code == 422
    device.refresh_from_db()
    device.throttling_failure_count = 0  # django-otp's back-off after a failure; not what is tested here
    device.throttling_failure_timestamp = None
    device.save()
    code = totp(secret, time.time() + 30)  # the next step's code: not the one used at enrolment
    r = client.post("/console/login/code/", {"code": code})
    assert r.status_code == 302 and r["Location"] == "/console/search/"
    assert client.get("/console/").status_code == 200

    # The same code again is a replay.
    replay = Client()
    _sign_in(replay, "agent")
    assert replay.post("/console/login/code/", {"code": code}).status_code == 422


def test_backup_code_signs_in_once(city, agent_client):
    _secret, codes = _enrol(agent_client)
    client = Client()
    _sign_in(client, "agent")
    assert client.post("/console/login/code/", {"code": codes[0]}).status_code == 302
    assert client.get("/console/").status_code == 200
    again = Client()
    _sign_in(again, "agent")
    assert again.post("/console/login/code/", {"code": codes[0]}).status_code == 422


def test_five_wrong_codes_end_the_attempt(city, agent_client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    _enrol(agent_client)
    client = Client()
    _sign_in(client, "agent")
    for _ in range(4):
        assert client.post("/console/login/code/", {"code": "zzzzzzzz"}).status_code == 422
    r = client.post("/console/login/code/", {"code": "zzzzzzzz"})
    assert r.status_code == 302 and r["Location"] == "/console/login/"
    assert client.get("/console/login/code/").status_code == 302


def test_a_password_only_session_of_a_user_with_a_device_is_ended(city, agent_client):
    _enrol(agent_client)
    sneaky = Client()
    sneaky.force_login(city.users["agent"])  # e.g. a sign-in form that skipped the code
    r = sneaky.get("/console/")
    assert r.status_code == 302 and r["Location"].startswith("/console/login/")
    assert sneaky.get("/console/").status_code == 302


def test_turning_off_needs_a_code_and_is_audited(city, agent_client):
    secret, _ = _enrol(agent_client)
    assert agent_client.post("/console/account/security/",
                             {"action": "disable", "code": "12345678"}).status_code == 422
    r = agent_client.post("/console/account/security/", {"action": "disable", "code": totp(secret, time.time() + 30)})
    assert r.status_code == 302
    assert not TOTPDevice.objects.filter(user=city.users["agent"]).exists()
    assert AuditRecord.objects.filter(action="2fa.disable").exists()
    client = Client()
    assert _sign_in(client, "agent")["Location"] == "/console/"


def test_required_roles_must_enrol_first(city, settings):
    settings.GOVCRM_2FA_REQUIRED_ROLES = ["supervisor"]
    client = Client()
    _sign_in(client, "supervisor")
    r = client.get("/console/")
    assert r.status_code == 302 and r["Location"] == "/console/account/security/"
    assert client.get("/api/v1/cases").status_code == 403
    page = client.get("/console/account/security/")
    assert page.status_code == 200 and "Turn off" not in page.content.decode()
    _enrol(client)
    assert client.get("/console/").status_code == 200
    # Other roles are not asked.
    other = Client()
    _sign_in(other, "agent")
    assert other.get("/console/").status_code == 200


def test_admin_sign_in_goes_through_the_console_and_its_second_factor(city):
    root = get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    client = Client()
    r = client.get("/admin/login/?next=/admin/")
    assert r.status_code == 302 and r["Location"].startswith("/console/login/?next=/admin/")
    # The superuser enrols, then signs in to the admin with password and code.
    client.force_login(root)
    secret, _ = _enrol(client)
    admin_client = Client()
    assert _sign_in(admin_client, "root", next_url="/admin/")["Location"] == "/console/login/code/"
    r = admin_client.post("/console/login/code/", {"code": totp(secret, time.time() + 30)})
    assert r["Location"] == "/admin/"
    assert admin_client.get("/admin/").status_code == 200
