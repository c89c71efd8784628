"""Accepting a proposal merges two citizen records: one person, one record, nothing lost."""

import pytest

from govcrm.cases.models import Case, CaseEvent
from govcrm.channels.models import Interaction
from govcrm.citizens.actions import citizen_find, citizen_find_or_create, citizen_input_clean
from govcrm.citizens.models import Citizen, Identity
from govcrm.common.errors import Forbidden, NotAllowed
from govcrm.identity.actions import citizen_merge, proposal_accept, proposal_reject
from govcrm.identity.models import CitizenMerge, MatchProposal
from govcrm.notifications.models import Notification

from .factories import citizen_with_case, id_number

pytestmark = pytest.mark.django_db
ID = id_number("110105", "19800314", "123")


@pytest.fixture
def duplicates(city):
    agent = city.actor("agent")
    older, case1 = citizen_with_case(agent, name="李雪梅", phone="13800138001",
                                     address="北京市朝阳区建国路88号3栋2单元501室")
    newer, case2 = citizen_with_case(agent, name="李雪梅", phone="13800138010", id_number=ID,
                                     address="朝阳区建国路８８号３幢２单元５０１",
                                     description="小区噪音扰民，晚上十点后施工。")
    _, case3 = citizen_with_case(agent, name="李雪梅", id_number=ID, description="楼道灯不亮。")
    assert case3.citizen_id == newer.pk  # found by the ID number at intake
    Interaction.objects.create(channel="phone", citizen=newer, case=case2, content="来电")
    proposal = MatchProposal.objects.create(
        kind="merge", pair_key=f"c:{older.pk}|c:{newer.pk}", citizen=older, other_citizen=newer, match_weight=18.2,
        match_probability=0.9997, levels={"name": 3, "phone": 1, "id_number": -1, "birth_date": -1, "address": 2},
        weights={"name": 7.1, "phone": 9.0, "id_number": 0, "birth_date": 0, "address": 2.1})
    return older, newer, [case1, case2, case3], proposal


def test_accept_merges_histories(city, duplicates):
    older, newer, cases, proposal = duplicates
    events_before = {c.pk: c.events.count() for c in cases}
    notifications = list(Notification.objects.filter(citizen=newer).values_list("pk", flat=True))
    identities_newer = list(Identity.objects.filter(citizen=newer).values_list("pk", flat=True))
    supervisor = city.actor("supervisor")

    proposal_accept(actor=supervisor, proposal_id=proposal.pk, note="同一人：手机号调换两位")

    newer.refresh_from_db()
    assert newer.merged_into_id == older.pk
    assert set(Case.objects.filter(citizen=older).values_list("pk", flat=True)) == {c.pk for c in cases}
    assert not Case.objects.filter(citizen=newer).exists()
    for case in cases[1:]:
        events = list(case.events.order_by("seq"))
        assert len(events) == events_before[case.pk] + 1  # history kept, one event added
        last = events[-1]
        assert last.action == "citizen_merge" and last.actor_name == "supervisor"
        assert last.data["from_citizen"] == newer.pk and last.data["to_citizen"] == older.pk
        assert last.from_status == last.to_status == case.status
    assert cases[0].events.count() == events_before[cases[0].pk]  # the survivor's own case is untouched
    assert set(Identity.objects.filter(citizen=older).values_list("kind", flat=True)) == {"phone", "id_card"}
    assert Identity.objects.filter(citizen=older, kind="phone").count() == 2
    assert Interaction.objects.filter(citizen=older, case=cases[1]).exists()
    assert set(Notification.objects.filter(pk__in=notifications).values_list("citizen_id", flat=True)) <= {older.pk}
    merge = CitizenMerge.objects.get(proposal=proposal)
    assert merge.survivor_id == older.pk and merge.merged_id == newer.pk and merge.by_name == "supervisor"
    assert sorted(merge.moved["cases.Case.citizen"]) == sorted(c.pk for c in cases[1:])
    assert sorted(merge.moved["citizens.Identity.citizen"]) == sorted(identities_newer)
    assert "channels.Interaction.citizen" in merge.moved
    proposal.refresh_from_db()
    assert proposal.status == "accepted" and proposal.decided_by_name == "supervisor"
    # the next intake with the merged record's ID number finds the surviving record
    assert citizen_find(kind="id_card", normalised=ID).pk == older.pk
    again = citizen_find_or_create(data=citizen_input_clean(name="李雪梅", id_number=ID))
    assert again.pk == older.pk
    with pytest.raises(NotAllowed):
        proposal_reject(actor=supervisor, proposal_id=proposal.pk)
    with pytest.raises(Exception, match="recorded once"):
        merge.delete()


def test_merge_is_one_transaction(city, duplicates, monkeypatch):
    _older, newer, _cases, proposal = duplicates

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(CitizenMerge.objects, "create", broken)
    with pytest.raises(RuntimeError):
        proposal_accept(actor=city.actor("admin"), proposal_id=proposal.pk)
    newer.refresh_from_db()
    assert newer.merged_into_id is None
    assert Case.objects.filter(citizen=newer).count() == 2
    assert not CaseEvent.objects.filter(action="citizen_merge").exists()
    assert MatchProposal.objects.get(pk=proposal.pk).status == "pending"


def test_reject_records_the_decision(city, duplicates):
    _older, newer, _cases, proposal = duplicates
    proposal_reject(actor=city.actor("supervisor"), proposal_id=proposal.pk, note="母女同名")
    proposal.refresh_from_db()
    assert proposal.status == "rejected" and proposal.note == "母女同名" and proposal.decided_at
    assert Citizen.objects.get(pk=newer.pk).merged_into_id is None
    assert not CitizenMerge.objects.exists()


@pytest.mark.parametrize("role", ["agent", "dispatcher", "analyst", "street_handler"])
def test_only_reviewers_decide(city, duplicates, role):
    _older, _newer, _cases, proposal = duplicates
    with pytest.raises(Forbidden):
        proposal_accept(actor=city.actor(role), proposal_id=proposal.pk)
    assert MatchProposal.objects.get(pk=proposal.pk).status == "pending"


def test_a_merged_record_cannot_be_merged_again_and_other_proposals_are_superseded(city, duplicates):
    _older, newer, _cases, proposal = duplicates
    third = Citizen.objects.create(name="李雪梅")
    other = MatchProposal.objects.create(kind="merge", pair_key=f"c:{newer.pk}|c:{third.pk}", citizen=newer,
                                         other_citizen=third, match_weight=12, match_probability=0.99)
    proposal_accept(actor=city.actor("admin"), proposal_id=proposal.pk)
    assert MatchProposal.objects.get(pk=other.pk).status == "superseded"
    with pytest.raises(NotAllowed):
        citizen_merge(actor=city.actor("admin"), survivor_id=third.pk, merged_id=newer.pk)
