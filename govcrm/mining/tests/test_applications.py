"""The service-application event log (govcrm.services ApplicationEvent, per its README contract)."""

import datetime as dt

import pytest

from govcrm.mining.analysis import discover, variants
from govcrm.mining.queries import Filters, event_log
from govcrm.organization.queries import actor_for_user
from govcrm.services.models import Application, ApplicationEvent
from govcrm.services.tests.factories import SUBMITTED, world

pytestmark = pytest.mark.django_db


def application(w, number, service, unit, steps):
    """Historical applications written as the contract allows: no process, events only."""
    app = Application.objects.create(number=number, service=w.item(service), citizen=w.citizen, unit=unit,
                                     created_at=SUBMITTED, status="approved")
    for seq, (kind, step, hours) in enumerate(steps, start=1):
        ApplicationEvent.objects.create(application=app, seq=seq, kind=kind, step=step, unit=unit,
                                        at=SUBMITTED + dt.timedelta(hours=hours))
    return app


def test_application_log_variants_times_and_scope():
    w = world()
    code = "senior-allowance"
    civil, market = w.units["civil"], w.units["market"]
    steps = [("submitted", "", 0), ("task_completed", "review", 5), ("approved", "", 6)]
    application(w, "SQ2026112700001", code, civil, steps)
    application(w, "SQ2026112700002", code, civil, [*steps[:2], ("task_completed", "review", 9), ("approved", "", 30)])
    application(w, "SQ2026112700003", "business-licence-change", market, steps)
    supervisor = actor_for_user(w.users["supervisor"])
    log = event_log(supervisor, Filters(source="applications"))
    assert len(log.traces) == 3
    found = dict(variants(log.traces))
    assert found[("submitted", "review:task_completed", "approved")] == 2
    edges = {(e.source, e.target): e for e in discover(log.traces).edges}
    review = edges[("submitted", "review:task_completed")]
    assert review.count == 3 and review.mean_s == 5 * 3600
    assert edges[("review:task_completed", "approved")].mean_s == (1 + 1 + 21) * 3600 / 3
    # a unit manager mines only the applications of its subtree
    manager = actor_for_user(w.users["civil_manager"])
    assert {t.key for t in event_log(manager, Filters(source="applications")).traces} == {
        "SQ2026112700001", "SQ2026112700002"}
    assert {t.key for t in event_log(supervisor, Filters(source="applications", category="business")).traces} == {
        "SQ2026112700003"}
