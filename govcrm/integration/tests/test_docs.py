"""The receiver check docs/integration.md gives department IT verifies a real delivery, and refuses forgeries."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from govcrm.cases.tests.factories import register
from govcrm.integration.signing import header_value

from .factories import subscriber
from .receiver import Receiver

DOC = Path(__file__).resolve().parents[3] / "docs" / "integration.md"
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _documented_verify():
    block = re.search(r"```python\n(# Python 3, standard library only.*?)```", DOC.read_text(encoding="utf-8"),
                      re.S).group(1)
    namespace: dict = {}
    exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation's snippet
    return namespace["verify_govcrm"]


def test_the_documented_snippet_verifies_a_real_delivery(city):
    verify_govcrm = _documented_verify()
    receiver = Receiver()
    try:
        secret = subscriber(receiver.url)[1]
        receiver.secret = secret
        register(city.actor("agent"))
    finally:
        receiver.stop()
    # The delivery as the receiver got it (raw body, header) passes the documented check…
    got = receiver.all()[0]
    assert verify_govcrm(got.raw, got.headers["X-GovCRM-Signature"], secret)
    assert not verify_govcrm(got.raw, got.headers["X-GovCRM-Signature"], "whsec_other")
    body = b'{"specversion":"1.0","id":"x"}'
    now = int(time.time())
    assert verify_govcrm(body, header_value([secret], now, body), secret)
    assert verify_govcrm(body, header_value(["whsec_new", secret], now, body), secret)  # during a rotation
    # …and forgeries and replays do not.
    assert not verify_govcrm(body + b" ", header_value([secret], now, body), secret)
    assert not verify_govcrm(body, header_value(["whsec_other"], now, body), secret)
    assert not verify_govcrm(body, header_value([secret], now - 301, body), secret)
    assert not verify_govcrm(body, "", secret)
    assert not verify_govcrm(body, f"t={now}", secret)
