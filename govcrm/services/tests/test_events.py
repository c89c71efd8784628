"""The contract of the event log: one event per step, `application_event` sent only after the commit."""

from __future__ import annotations

import pytest
from django.db import transaction

from govcrm.services import actions
from govcrm.services.events import application_event

from .factories import SUBMITTED, senior_form, uploads, world

pytestmark = pytest.mark.django_db


def test_the_signal_follows_the_commit_and_a_failing_receiver_undoes_nothing(django_capture_on_commit_callbacks):
    w = world()
    item = w.item("senior-allowance")
    seen = []

    def receiver(sender, event, **kwargs):
        seen.append((event.application.number, event.seq, event.kind))

    def broken(sender, event, **kwargs):
        raise RuntimeError("receiver down")

    application_event.connect(receiver, dispatch_uid="test.receiver")
    application_event.connect(broken, dispatch_uid="test.broken")
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            app = actions.application_submit(service=item, citizen=w.citizen, raw_form=senior_form(),
                                             uploads=uploads(item), now=SUBMITTED)
        assert seen == []  # nothing is announced before the commit
        for callback in callbacks:
            callback()
        kinds = [k for _n, _s, k in seen]
        assert kinds == list(app.events.order_by("seq").values_list("kind", flat=True))
        assert kinds[:2] == ["started", "material_uploaded"] and "submitted" in kinds and "task_created" in kinds
        assert [s for _n, s, _k in seen] == list(range(1, len(seen) + 1))

        seen.clear()

        def withdraw_then_fail():
            with transaction.atomic():
                actions.application_withdraw(application_id=app.pk, citizen=w.citizen)
                raise RuntimeError("rolled back")

        with django_capture_on_commit_callbacks(execute=True) as callbacks, \
                pytest.raises(RuntimeError, match="rolled back"):
            withdraw_then_fail()
        assert callbacks == []
        assert seen == []  # a rolled-back step announces nothing
        app.refresh_from_db()
        assert app.status == "submitted"
    finally:
        application_event.disconnect(dispatch_uid="test.receiver")
        application_event.disconnect(dispatch_uid="test.broken")
