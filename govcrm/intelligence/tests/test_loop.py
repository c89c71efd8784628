"""Dispatch in the loop: suggestion at intake, automatic dispatch above the threshold, feedback,
the console card, the dispatch-quality page and drift — through the real actions and views."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from govcrm.cases.models import CaseEvent, Category
from govcrm.cases.tests.factories import dispatch_rule, move, register
from govcrm.cases.workflow import Status
from govcrm.channels.intake import UNCLASSIFIED
from govcrm.intelligence import classifier, queries, store
from govcrm.intelligence.actions import case_suggest
from govcrm.intelligence.models import DispatchThreshold, Feedback, Suggestion
from govcrm.organization.queries import SYSTEM

from .factories import LIGHT, NOISE, labelled

LIGHT_TEXT = "和平街路灯不亮，晚上全黑，请尽快处理。"


@pytest.fixture(scope="module")
def trained():
    docs, labels = labelled(20)
    return classifier.train(docs, labels, folds=0, jobs=1)


@pytest.fixture
def model(city, trained, settings, tmp_path):
    settings.GOVCRM_HOME = tmp_path
    return store.model_save(trained=trained, source="test")


@pytest.fixture
def rules(city):
    dispatch_rule(LIGHT, city.street1)
    dispatch_rule(NOISE, city.district)


def threshold(code: str, value: float) -> DispatchThreshold:
    return DispatchThreshold.objects.create(category=Category.objects.get(code=code), threshold=value)


def intake(city, django_capture_on_commit_callbacks, text=LIGHT_TEXT):
    """A message from a channel that has no category (SMS, e-mail …): the classifier's case."""
    with django_capture_on_commit_callbacks(execute=True):
        case = register(city.actor("agent"), category=UNCLASSIFIED, description=text, channel="sms")
    case.refresh_from_db()
    return case


def test_above_the_threshold_the_case_is_reclassified_and_dispatched(city, model, rules,
                                                                    django_capture_on_commit_callbacks):
    threshold("urban", 0.5)  # set on the first level: applies to the whole subtree
    case = intake(city, django_capture_on_commit_callbacks)
    s = Suggestion.objects.get(case=case)
    assert s.label == LIGHT and s.category.code == LIGHT and s.unit == city.street1
    assert s.outcome == Suggestion.Outcome.AUTO and s.threshold == 0.5 and s.model == model
    assert case.status == Status.DISPATCHED and case.lead_unit == city.street1 and case.category.code == LIGHT
    actions = list(CaseEvent.objects.filter(case=case).values_list("action", "actor_name"))
    assert actions == [("register", "agent"), ("reclassify", "system"), ("dispatch", "system")]
    dispatch = CaseEvent.objects.get(case=case, action="dispatch")
    assert dispatch.data["classifier"] == {"model": model.version, "confidence": s.confidence}
    assert Feedback.objects.count() == 0  # the system's own moves are not feedback


def test_below_the_threshold_the_dispatcher_decides_with_the_suggestion(city, model, rules,
                                                                       django_capture_on_commit_callbacks):
    threshold(LIGHT, 1.0)
    case = intake(city, django_capture_on_commit_callbacks)
    s = Suggestion.objects.get(case=case)
    assert s.outcome == Suggestion.Outcome.PENDING and s.confidence < 1.0
    assert case.status == Status.REGISTERED and case.category.code == UNCLASSIFIED


def test_no_threshold_no_automatic_dispatch(city, model, rules, django_capture_on_commit_callbacks):
    case = intake(city, django_capture_on_commit_callbacks)
    assert Suggestion.objects.get(case=case).outcome == Suggestion.Outcome.PENDING
    assert case.status == Status.REGISTERED


def test_no_rule_for_the_area_no_automatic_dispatch(city, model, django_capture_on_commit_callbacks):
    threshold("urban", 0.5)
    case = intake(city, django_capture_on_commit_callbacks)
    s = Suggestion.objects.get(case=case)
    assert s.unit is None and s.outcome == Suggestion.Outcome.PENDING and case.status == Status.REGISTERED


def test_without_a_model_nothing_is_suggested(city, rules, django_capture_on_commit_callbacks):
    case = intake(city, django_capture_on_commit_callbacks)
    assert not Suggestion.objects.filter(case=case).exists() and case.status == Status.REGISTERED


def test_suggesting_twice_keeps_the_first_suggestion(city, model, rules, django_capture_on_commit_callbacks):
    threshold("urban", 0.5)
    case = intake(city, django_capture_on_commit_callbacks)
    again = case_suggest(case_id=case.pk)
    assert again.pk == Suggestion.objects.get(case=case).pk
    assert CaseEvent.objects.filter(case=case, action="dispatch").count() == 1


def test_a_busy_queue_is_suggested_in_batches(city, model, rules, monkeypatch):
    """The job of one case also suggests the others still waiting, in one prediction; their own
    jobs then find the suggestion made. Each is stored and acted on as if alone."""
    from govcrm.intelligence import proposals
    from govcrm.intelligence.tasks import suggest_dispatch

    threshold("urban", 0.5)
    waiting = [register(city.actor("agent"), category=UNCLASSIFIED, description=LIGHT_TEXT, channel="sms")
               for _ in range(3)]  # registered while the worker was busy: no suggestion yet
    by_rule = register(city.actor("agent"), category=LIGHT, description=LIGHT_TEXT, channel="sms")
    assert not Suggestion.objects.exists()
    calls = []
    original = proposals.classifier.predict
    monkeypatch.setattr(proposals.classifier, "predict", lambda m, docs, **kw: calls.append(len(docs)) or
                        original(m, docs, **kw))
    suggest_dispatch.call(waiting[1].pk)
    assert calls == [4]  # its own case first, then the others without a suggestion, oldest first
    assert Suggestion.objects.get(case=by_rule).outcome == Suggestion.Outcome.INFO  # dispatched by rule
    for case in waiting:
        case.refresh_from_db()
        assert Suggestion.objects.get(case=case).outcome == Suggestion.Outcome.AUTO
        assert case.status == Status.DISPATCHED and case.lead_unit == city.street1
    for case in waiting:
        suggest_dispatch.call(case.pk)
    assert calls == [4] and CaseEvent.objects.filter(action="dispatch").count() == 4


def test_a_case_dispatched_by_rule_gets_an_informative_suggestion(city, model, rules,
                                                                 django_capture_on_commit_callbacks):
    threshold("urban", 0.5)
    with django_capture_on_commit_callbacks(execute=True):
        case = register(city.actor("agent"), category=LIGHT, description=LIGHT_TEXT)
    s = Suggestion.objects.get(case=case)
    assert s.outcome == Suggestion.Outcome.INFO
    assert CaseEvent.objects.filter(case=case, action="dispatch").count() == 1


def test_a_dispatcher_choosing_another_unit_is_stored_as_a_correction(city, model, rules,
                                                                     django_capture_on_commit_callbacks):
    case = intake(city, django_capture_on_commit_callbacks)
    dispatcher = city.actor("dispatcher")
    move(dispatcher, case, "reclassify", category=NOISE)
    move(dispatcher, case, "dispatch", unit=city.district.code)
    kinds = list(Feedback.objects.filter(case=case).order_by("event_seq").values_list("kind", flat=True))
    assert kinds == [Feedback.Kind.RECLASSIFY, Feedback.Kind.CORRECTION]
    fb = Feedback.objects.get(case=case, kind=Feedback.Kind.CORRECTION)
    assert fb.predicted_label == LIGHT and fb.from_unit == city.street1 and fb.to_unit == city.district
    assert fb.to_category.code == NOISE and fb.suggestion.case_id == case.pk


def test_a_return_that_ends_in_another_unit_is_feedback(city, model, rules, django_capture_on_commit_callbacks):
    threshold("urban", 0.5)
    case = intake(city, django_capture_on_commit_callbacks)
    assert case.lead_unit == city.street1
    move(city.actor("street_handler"), case, "return", reason_code="not_our_duty", reason="不是我们的")
    move(city.actor("dispatcher"), case, "dispatch", unit=city.urban.code)
    fb = Feedback.objects.get(case=case)
    assert fb.kind == Feedback.Kind.RETURN and fb.from_unit == city.street1 and fb.to_unit == city.urban


def test_the_same_unit_as_suggested_is_no_feedback(city, model, rules, django_capture_on_commit_callbacks):
    case = intake(city, django_capture_on_commit_callbacks)
    move(city.actor("dispatcher"), case, "reclassify", category=LIGHT)
    move(city.actor("dispatcher"), case, "dispatch", unit=city.street1.code)
    assert list(Feedback.objects.filter(case=case).values_list("kind", flat=True)) == [Feedback.Kind.RECLASSIFY]


def test_the_case_page_shows_the_suggestion_and_dispatches_as_suggested(city, model, rules, client,
                                                                       django_capture_on_commit_callbacks):
    case = intake(city, django_capture_on_commit_callbacks)
    client.force_login(city.users["dispatcher"])
    page = client.get(reverse("console:case", args=[case.number]))
    html = page.content.decode()
    assert "派单建议" in html and "路灯不亮" in html and "和平街道办事处" in html
    assert reverse("intelligence:accept", args=[case.number]) in html
    client.post(reverse("intelligence:accept", args=[case.number]))
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.lead_unit == city.street1 and case.category.code == LIGHT
    assert not Feedback.objects.filter(case=case, kind=Feedback.Kind.CORRECTION).exists()


def test_a_unit_handler_sees_no_suggestion_and_cannot_accept_one(city, model, rules, client,
                                                                 django_capture_on_commit_callbacks):
    case = intake(city, django_capture_on_commit_callbacks)
    client.force_login(city.users["street_handler"])
    assert client.post(reverse("intelligence:accept", args=[case.number])).status_code == 403
    case.refresh_from_db()
    assert case.status == Status.REGISTERED


def test_accept_is_post_only(city, model, rules, client, django_capture_on_commit_callbacks):
    case = intake(city, django_capture_on_commit_callbacks)
    client.force_login(city.users["dispatcher"])
    assert client.get(reverse("intelligence:accept", args=[case.number])).status_code == 405
    case.refresh_from_db()
    assert case.status == Status.REGISTERED


def test_a_waiting_case_without_a_stored_suggestion_is_suggested_on_display_only(city, rules, client, trained,
                                                                                 settings, tmp_path):
    case = register(city.actor("agent"), category=UNCLASSIFIED, description=LIGHT_TEXT, channel="sms")
    settings.GOVCRM_HOME = tmp_path
    store.model_save(trained=trained, source="test")  # trained after the case arrived
    client.force_login(city.users["agent"])
    html = client.get(reverse("console:case", args=[case.number])).content.decode()
    assert "派单建议" in html and "路灯不亮" in html
    assert not Suggestion.objects.exists()  # nothing stored on GET


def test_intake_suggestions_while_typing(city, model, client):
    client.force_login(city.users["agent"])
    html = client.get(reverse("intelligence:suggest"), {"description": "小区突然停水两天了"}).content.decode()
    assert 'data-category="economy.utilities.water"' in html
    assert client.get(reverse("intelligence:suggest"), {"description": ""}).content.decode().count("data-category") == 0
    client.force_login(city.users["street_handler"])
    assert client.get(reverse("intelligence:suggest"), {"description": "停水"}).status_code == 403


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_the_quality_page_shows_rates_per_category(city, model, rules, client, lang,
                                                   django_capture_on_commit_callbacks):
    threshold("urban", 0.5)
    case = intake(city, django_capture_on_commit_callbacks)
    move(city.actor("street_handler"), case, "return", reason_code="not_our_duty", reason="不是我们的")
    move(city.actor("dispatcher"), case, "dispatch", unit=city.urban.code)
    client.force_login(city.users["supervisor"])
    page = client.get(reverse("intelligence:quality"), headers={"accept-language": lang})
    assert page.status_code == 200
    urban = next(r for r in page.context["rows"] if r.code == "urban")
    assert (urban.suggested, urban.suggested_right, urban.auto, urban.dispatched) == (1, 1, 1, 1)
    assert urban.first_dispatch_accuracy == 0.0 and urban.return_rate == 1.0
    html = page.content.decode()
    assert ("Dispatch quality" if lang == "en" else "派单质量") in html
    assert "100.0%" in html and model.version in html


def test_the_quality_page_is_not_for_unit_staff(city, client):
    client.force_login(city.users["street_handler"])
    assert client.get(reverse("intelligence:quality")).status_code == 403


def _suggestions(model, case, n: int, *, bad: int, days_ago: float):
    at = timezone.now() - dt.timedelta(days=days_ago)
    for i in range(n):
        Suggestion.objects.create(case=case if i == 0 else _case_copy(case), model=model, label=LIGHT,
                                  confidence=0.3 if i < bad else 0.95, threshold=0.8,
                                  outcome=Suggestion.Outcome.PENDING, created_at=at)


def _case_copy(case):
    return register(SYSTEM, category=UNCLASSIFIED, description=case.description, channel="sms", citizen=None)


def test_drift_warns_when_unsure_suggestions_rise(city, model):
    base = register(SYSTEM, category=UNCLASSIFIED, description=LIGHT_TEXT, channel="sms", citizen=None)
    _suggestions(model, base, 40, bad=4, days_ago=20)  # baseline: 10% unsure
    steady = queries.dispatch_drift()
    assert steady.recent_n == 0 and not steady.warning
    _suggestions(model, _case_copy(base), 40, bad=16, days_ago=1)  # this week: 40% unsure
    drift = queries.dispatch_drift()
    assert drift.recent_n == 40 and drift.baseline_n == 40
    assert drift.recent_rate == 0.4 and drift.baseline_rate == 0.1
    assert drift.p_value < 0.01 and drift.warning


def test_no_drift_warning_for_a_stable_share(city, model):
    base = register(SYSTEM, category=UNCLASSIFIED, description=LIGHT_TEXT, channel="sms", citizen=None)
    _suggestions(model, base, 40, bad=4, days_ago=20)
    _suggestions(model, _case_copy(base), 40, bad=5, days_ago=1)
    drift = queries.dispatch_drift()
    assert drift.recent_rate == 0.125 and not drift.warning


def test_a_changed_model_file_is_refused(city, model, settings):
    path = settings.GOVCRM_HOME / model.path
    store._loaded.clear()
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(store.ModelFileError):
        store.load(model)


def test_the_saved_version_has_its_metadata(city, model, settings):
    meta = json.loads((settings.GOVCRM_HOME / model.path).with_name("meta.json").read_text(encoding="utf-8"))
    assert meta["version"] == model.version and meta["n"] == 80 and model.active
    assert sorted(meta["labels"]) == sorted(model.labels)


def test_drift_counts_unsure_and_corrected_in_the_database(city, model, django_assert_num_queries):
    """Unsure: below the category's threshold, or below UNSURE without one; corrected: any feedback."""
    base = register(SYSTEM, category=UNCLASSIFIED, description=LIGHT_TEXT, channel="sms", citizen=None)
    at = timezone.now() - dt.timedelta(days=1)
    rows = [(0.5, None, False), (0.7, None, False), (0.9, 0.8, True), (0.85, 0.8, False), (0.79, 0.8, False)]
    for i, (confidence, limit, corrected) in enumerate(rows):
        case = base if i == 0 else _case_copy(base)
        s = Suggestion.objects.create(case=case, model=model, label=LIGHT, confidence=confidence, threshold=limit,
                                      outcome=Suggestion.Outcome.PENDING, created_at=at)
        if corrected:
            Feedback.objects.create(case=case, suggestion=s, kind=Feedback.Kind.CORRECTION, event_seq=1,
                                    created_at=at)
    with django_assert_num_queries(2) as ctx:  # one aggregate per window, not a row per suggestion
        drift = queries.dispatch_drift()
    assert all("COUNT(" in q["sql"].upper() and "GROUP BY" not in q["sql"].upper() for q in ctx.captured_queries)
    assert drift.recent_n == 5 and drift.recent_rate == 3 / 5  # 0.5 < UNSURE, corrected, 0.79 < 0.8


def test_quality_counts_suggestions_grouped_in_the_database(city, model, rules, django_assert_num_queries,
                                                            django_capture_on_commit_callbacks):
    threshold("urban", 0.5)
    for _ in range(3):
        intake(city, django_capture_on_commit_callbacks)
    with django_assert_num_queries(3) as ctx:  # categories, cases per category, suggestions per (category, outcome)
        rows = queries.dispatch_quality(days=30)
    assert "GROUP BY" in ctx.captured_queries[-1]["sql"].upper()
    urban = next(r for r in rows if r.code == "urban")
    assert (urban.suggested, urban.suggested_right, urban.auto) == (3, 3, 3)
