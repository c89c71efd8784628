"""Cases for topic tests, registered through the real intake action (then dated into the past)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from govcrm.cases.models import Case
from govcrm.cases.tests.factories import register
from govcrm.organization.queries import Actor

# One incident — a burst water main at Heping Road 12 — told four times in Chinese, twice in English
# (words do not cross languages: only the same category in the same place bridges them).
BURST_MAIN = [
    ("和平路12号水管爆裂", "和平路12号门前自来水管爆裂，路面大量积水，车辆无法通行，请尽快抢修。", "wechat"),
    ("和平路水管爆了", "和平路12号附近地下水管爆裂，积水漫到人行道，已经两个小时了。", "phone"),
    ("和平路12号路面积水", "和平路12号水管爆裂，自来水一直往外冒，路面积水很深，请尽快抢修。", "sms"),
    ("和平路12号积水", "和平路12号自来水管爆裂后路面积水严重，行人只能绕行，请派人抢修水管。", "portal"),
]
BURST_MAIN_EN = [
    ("Burst water main on Heping Road", "A water main burst in front of 12 Heping Road, the road is flooded "
     "with water. Please repair the burst pipe quickly.", "email"),
    ("Flooded road, burst pipe", "The water main at 12 Heping Road burst this morning and the road is flooded. "
     "Please send someone to repair the pipe.", "open311"),
]
UNRELATED = [
    ("小区噪音扰民", "幸福小区楼下烧烤店每天营业到凌晨两点，噪音很大，影响休息。", "environment.noise.commercial"),
    ("Pension question", "How do I apply for my pension when I retire next year, and which documents "
     "are needed?", "labour.insurance.pension"),
    ("路灯不亮", "建设街5号路灯坏了一周，晚上很黑。", "urban.lighting.out"),
]


def register_at(actor: Actor, when: dt.datetime, **fields) -> Case:
    """A case registered through `case_register`, with its registration time moved to `when`."""
    case = register(actor, **fields)
    Case.objects.filter(pk=case.pk).update(created_at=when)
    case.refresh_from_db()
    return case


def incident(actor: Actor, *, now: dt.datetime | None = None, hours_apart: int = 5) -> list[Case]:
    now = now or timezone.now()
    return [register_at(actor, now - dt.timedelta(hours=1 + k * hours_apart), title=title, description=text,
                        channel=channel, category="economy.utilities.water", area="d1s1g1",
                        lat=30.6601 + k * 0.0002, lon=104.0601)
            for k, (title, text, channel) in enumerate(BURST_MAIN)]
