"""The `govcrm open311` command, and the scrubbing of personal data from published free text."""

import io

import pytest
from django.core.management import CommandError, call_command

from govcrm.channels.open311.models import Open311Client
from govcrm.channels.open311.queries import client_by_key
from govcrm.channels.open311.redact import redact


@pytest.mark.django_db
def test_add_client_prints_a_working_key_once(city):
    out = io.StringIO()
    call_command("open311", "add-client", "fixmystreet", stdout=out)
    key = out.getvalue().strip()
    assert key.startswith("o311_") and len(key) > 40
    client = Open311Client.objects.get(name="fixmystreet")
    assert client_by_key(key) == client and client_by_key(key + "x") is None
    assert key not in str(Open311Client.objects.values().get())
    with pytest.raises(CommandError):
        call_command("open311", "add-client", "fixmystreet", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("open311", "add-client", "bad name!", stdout=io.StringIO())
    listing = io.StringIO()
    call_command("open311", "list", stdout=listing)
    assert "fixmystreet" in listing.getvalue() and key not in listing.getvalue()
    call_command("open311", "deactivate", "fixmystreet", stdout=io.StringIO())
    assert client_by_key(key) is None
    with pytest.raises(CommandError):
        call_command("open311", "deactivate", "fixmystreet", stdout=io.StringIO())


@pytest.mark.parametrize(("text", "names", "expected"), [
    ("请打13800138000联系", (), "请打***联系"),
    ("call +86 138-0013-8000 now", (), "call *** now"),
    ("座机010-62345678", (), "座机***"),
    ("mail wang.wu@example.org", (), "mail ***"),
    ("身份证11010519491231002X", (), "身份证***"),
    ("张先生您好，张三反映的问题已处理", ("张三",), "***您好，***反映的问题已处理"),
    ("Dear Jane Citizen, thanks jane", ("Jane Citizen",), "Dear ***, thanks ***"),
    ("2024-05-03修好了，工单20240503000012", (), "2024-05-03修好了，工单20240503000012"),
    ("路灯12号杆，3盏", (), "路灯12号杆，3盏"),
    ("", (), ""),
])
def test_redact(text, names, expected):
    assert redact(text, names=names) == expected
