"""Repeated failed sign-ins lock the account (console and admin), per client and per account."""

import pytest
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory

from govcrm.common import lockout

LOGIN = "/console/login/"


def post_login(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address,
                       headers={"accept-language": "en"})


def test_five_failures_lock_the_account_from_that_address_even_with_the_right_password(city):
    client = Client()
    for _ in range(lockout.PER_CLIENT):
        assert post_login(client, "agent", "wrong").status_code == 200
    page = post_login(client, "agent", "pass-12345")
    assert page.status_code == 200 and "_auth_user_id" not in client.session
    assert "Too many failed sign-ins" in page.content.decode()
    # Another address is not locked by these five (the per-account bar is higher).
    other = Client()
    assert post_login(other, "agent", "pass-12345", address="10.0.0.2").status_code == 302


def test_the_message_is_in_the_callers_language(city):
    client = Client()
    for _ in range(lockout.PER_CLIENT):
        post_login(client, "agent", "wrong")
    page = client.post(LOGIN, {"username": "agent", "password": "pass-12345"}, REMOTE_ADDR="10.0.0.1",
                       headers={"accept-language": "zh-hans"})
    assert "登录失败次数过多" in page.content.decode()


def test_a_success_clears_the_count(city):
    client = Client()
    for _ in range(lockout.PER_CLIENT - 1):
        post_login(client, "agent", "wrong")
    assert post_login(client, "agent", "pass-12345").status_code == 302
    client.logout()
    for _ in range(lockout.PER_CLIENT - 1):
        post_login(client, "agent", "wrong")
    assert post_login(client, "agent", "pass-12345").status_code == 302


def test_many_addresses_lock_the_account_everywhere(city):
    client = Client()
    for i in range(lockout.PER_ACCOUNT):
        post_login(client, "dispatcher", "wrong", address=f"10.0.1.{i}")
    assert post_login(Client(), "dispatcher", "pass-12345", address="10.9.9.9").status_code == 200
    assert post_login(Client(), "agent", "pass-12345", address="10.9.9.9").status_code == 302  # others not


def test_the_lock_holds_in_the_backend_for_every_login_form(city):
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR="10.0.0.7")
    for _ in range(lockout.PER_CLIENT):
        assert authenticate(request, username="admin", password="wrong") is None
    assert authenticate(request, username="admin", password="pass-12345") is None
    admin = Client()
    page = admin.post("/console/login/", {"username": "admin", "password": "pass-12345"}, REMOTE_ADDR="10.0.0.7")
    assert page.status_code == 200 and "_auth_user_id" not in admin.session
    # The admin's own sign-in page is the console's (so the second factor applies there too).
    assert admin.post("/admin/login/", {"username": "admin", "password": "pass-12345"},
                      REMOTE_ADDR="10.0.0.7")["Location"].startswith("/console/login/")
    assert "_auth_user_id" not in admin.session


@pytest.mark.parametrize("name", ["", None])
def test_no_username_is_left_to_django(city, name):
    assert authenticate(RequestFactory().get("/"), username=name, password="x") is None
