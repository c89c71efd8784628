"""Proposals at intake and on a case, merge → one reply to every reporter, unmerge, role scoping."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from govcrm.cases.models import Case, CaseEvent
from govcrm.cases.tests.factories import move, register
from govcrm.channels.sms.tests.provider import SmsProvider
from govcrm.common.errors import DomainError, Forbidden, NotAllowed
from govcrm.common.testing.processes import SmtpSink
from govcrm.incidents.actions import incident_merge, incident_unmerge
from govcrm.incidents.queries import Draft, incident_for, lead_state, similar_to_case, similar_to_draft
from govcrm.notifications.actions import notification_sweep
from govcrm.notifications.models import Notification

pytestmark = pytest.mark.django_db

LAMP = "和平街12号门口的路灯坏了三天，晚上很黑。"
LAMP_EN = "The streetlight in front of 12 Heping Street has been out for three days."


def at_heping(actor, text, **kw):
    return register(actor, description=text, lat=39.9000, lon=116.4000, **kw)


def test_chinese_intake_proposes_the_open_case_nearby_not_the_far_old_or_unrelated(city):
    agent = city.actor("agent")
    same = at_heping(agent, "和平街12号的路灯坏了，晚上一片漆黑")
    far = register(agent, description=LAMP, lat=39.99, lon=116.49)
    unrelated = at_heping(agent, "楼下餐馆每天半夜噪音扰民", category="environment.noise.commercial")
    old = at_heping(agent, LAMP)
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=12))
    closed = at_heping(agent, LAMP)
    move(city.actor("dispatcher"), closed, "withdraw", reason="打错了")
    found = similar_to_draft(agent, Draft(description=LAMP, lat=39.9001, lon=116.4001, category="urban.lighting.out"))
    assert [s.case.number for s in found] == [same.number]
    assert {far.number, unrelated.number, old.number, closed.number}.isdisjoint(s.case.number for s in found)
    with translation.override("en"):
        why = " ".join(found[0].why)
    assert "路灯" in why and "m away" in why
    with translation.override("zh-hans"):
        assert "相距" in " ".join(found[0].why)


def test_english_intake_proposes_by_grid_without_coordinates(city):
    agent = city.actor("agent")
    same = register(agent, description="Streetlight out in front of 12 Heping Street, dark at night", language="en")
    register(agent, description="Karaoke bar noise every night", language="en",
             category="environment.noise.commercial")
    street = register(agent, description=LAMP_EN, area="d1s1")  # same street, not the same grid: still proposed
    other_district = register(agent, description=LAMP_EN, area="d2")
    found = {s.case.number: s for s in similar_to_draft(agent, Draft(description=LAMP_EN, area="d1s1g1"))}
    assert set(found) == {same.number, street.number} and other_district.number not in found
    with translation.override("en"):
        assert "Same community grid" in found[same.number].why and "Same street" in found[street.number].why


def test_only_the_centre_sees_proposals(city):
    case = at_heping(city.actor("agent"), LAMP)
    for role in ("street_handler", "district_manager", "analyst"):
        with pytest.raises(Forbidden):
            similar_to_case(city.actor(role), case)
        with pytest.raises(Forbidden):
            similar_to_draft(city.actor(role), Draft(description=LAMP))


def _email_reporter(agent, text):
    return register(agent, description=text, lat=39.9002, lon=116.4002, channel="email", language="en",
                    citizen={"name": "Ann Lee", "email": "ann@example.org", "language": "en"})


def test_merge_one_reply_reaches_each_reporter_through_their_own_channel_once(city, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    provider = SmsProvider(settings.GOVCRM_SMS_SECRET).start()
    settings.GOVCRM_SMS_API_URL = provider.url
    agent, dispatcher = city.actor("agent"), city.actor("dispatcher")
    try:
        with SmtpSink() as smtp:
            settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
            lead = at_heping(agent, LAMP)  # SMS to +8613800138000
            by_mail = _email_reporter(agent, LAMP_EN)
            by_sms = at_heping(agent, "和平街12号路灯坏了", citizen={"name": "李四", "phone": "+8613900139000"})
            move(dispatcher, lead, "dispatch", unit="gov-d1s1")
            assert by_sms.number in [s.case.number for s in similar_to_case(dispatcher, lead)]
            incident_merge(actor=dispatcher, lead=lead.number, cases=[by_mail.number, by_sms.number],
                           similarity={by_sms.number: {"score": 0.8, "text": 0.6}})
            by_mail.refresh_from_db()
            assert (by_mail.status, by_mail.close_reason, by_mail.merged_into_id) == ("closed", "merged", lead.pk)
            merge = by_sms.events.get(action="merge")
            assert merge.data == {"into": lead.number, "similarity": {"score": 0.8, "text": 0.6}} and merge.public
            assert lead.events.filter(action="merged_in").count() == 2
            assert lead_state(by_mail).status == "dispatched" and lead_state(by_mail).reply == ""
            notification_sweep()
            provider_before, mails_before = len(provider.messages), len(smtp.messages)

            handler = city.actor("street_handler")
            move(handler, lead, "accept")
            move(handler, lead, "reply", reply="路灯已于今日修复。The streetlight was repaired today.")
            notification_sweep()
            assert not Notification.objects.filter(kind="replied").exists()  # not before the centre's review
            move(dispatcher, lead, "review")
            for _ in range(2):  # a second sweep sends nothing again
                notification_sweep(now=timezone.now() + dt.timedelta(hours=1))
    finally:
        provider.stop()
    replied = Notification.objects.filter(kind="replied").order_by("case_id")
    assert sorted((n.case.number, n.channel, n.status) for n in replied) == sorted(
        [(lead.number, "sms", "sent"), (by_mail.number, "email", "sent"), (by_sms.number, "sms", "sent")])
    texts = [m["text"] for m in provider.messages[provider_before:]]
    assert sum("路灯已于今日修复" in t for t in texts) == 2
    assert sum(by_sms.number in t for t in texts) == 1 and sum(lead.number in t for t in texts) == 2  # accept + reply
    mails = smtp.messages[mails_before:]
    assert len(mails) == 1 and mails[0]["To"] == "ann@example.org"
    assert by_mail.number in mails[0]["Subject"] and "repaired today" in mails[0].get_content()
    event = CaseEvent.objects.get(case=by_mail, action="incident_reply")
    assert event.public and event.data["lead"] == lead.number
    assert lead_state(by_mail).reply.startswith("路灯已于今日修复")
    with pytest.raises(NotAllowed):  # after the reply a merged case stays with its lead
        incident_unmerge(actor=dispatcher, case=by_mail.number, reason="不是同一件事")


def test_unmerge_before_the_reply_restores_the_case(city):
    agent, dispatcher = city.actor("agent"), city.actor("dispatcher")
    lead, other = at_heping(agent, LAMP), at_heping(agent, LAMP)
    move(dispatcher, other, "dispatch", unit="gov-d1s1")
    incident_merge(actor=dispatcher, lead=lead.number, cases=[other.number])
    assert incident_for(lead).followers == [Case.objects.get(pk=other.pk)]
    with pytest.raises(DomainError):
        incident_unmerge(actor=dispatcher, case=other.number, reason="")  # a reason is required
    with pytest.raises(Forbidden):
        incident_unmerge(actor=agent, case=other.number, reason="不是同一件事")
    incident_unmerge(actor=dispatcher, case=other.number, reason="不是同一件事")
    other.refresh_from_db()
    assert (other.status, other.close_reason, other.merged_into_id, other.closed_at) == ("dispatched", "", None, None)
    assert incident_for(lead) is None
    assert lead.events.filter(action="unmerged_out").exists()
    assert list(other.events.values_list("action", flat=True))[-2:] == ["merge", "unmerge"]


def test_merge_is_refused_whole_for_bad_input_and_roles(city):
    agent, dispatcher = city.actor("agent"), city.actor("dispatcher")
    lead, a, b = at_heping(agent, LAMP), at_heping(agent, LAMP), at_heping(agent, LAMP)
    with pytest.raises(Forbidden):
        incident_merge(actor=agent, lead=lead.number, cases=[a.number])
    with pytest.raises(Forbidden):
        incident_merge(actor=city.actor("street_handler"), lead=lead.number, cases=[a.number])
    with pytest.raises(DomainError):
        incident_merge(actor=dispatcher, lead=lead.number, cases=[lead.number])
    with pytest.raises(DomainError):  # the second case does not exist: the first is not merged either
        incident_merge(actor=dispatcher, lead=lead.number, cases=[a.number, "20990101000001"])
    assert Case.objects.get(pk=a.pk).status == "registered"
    incident_merge(actor=dispatcher, lead=lead.number, cases=[a.number])
    with pytest.raises(NotAllowed):  # a lead with merged cases is not merged itself
        incident_merge(actor=dispatcher, lead=b.number, cases=[lead.number])
    with pytest.raises(DomainError):  # a merged case is closed: nothing is merged into it
        incident_merge(actor=dispatcher, lead=a.number, cases=[b.number])
    assert not similar_to_case(dispatcher, Case.objects.get(pk=a.pk))  # nor proposed for it
