"""A recent incident burst in the demo data, so that hot topics and a warning show on `make run`.

The generated cases are independent draws: the same incident is rarely reported twice. Real
hotlines see one burst main, one night-time building site, reported again and again across
channels within hours. `incidents_add` registers two such bursts in the last two days through
`cases.actions.case_register` (so each case has its real history and rule-based dispatch), then
moves each registration time to when the report came in, as the bulk generator's rows do.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from govcrm.cases.actions import CaseInput, case_register
from govcrm.cases.models import Case
from govcrm.citizens.actions import citizen_input_clean
from govcrm.organization.queries import SYSTEM

from .city import GRIDS

# (hours ago, channel, language, title, description); one list per incident
_WATER_MAIN = [
    (30, "phone", "zh-hans", "和平路口自来水管爆裂",
     "和平路与建设路路口自来水管爆裂，路面大量积水，车辆无法通行，请尽快抢修。"),
    (29, "wechat", "zh-hans", "和平路水管爆了", "和平路建设路路口地下水管爆裂，积水漫到人行道，已经一个小时了。"),
    (27, "portal", "zh-hans", "和平路口积水严重",
     "和平路与建设路路口自来水管爆裂后路面积水严重，行人只能绕行，请派人抢修水管。"),
    (26, "sms", "zh-hans", "水管爆裂停水", "和平路建设路路口水管爆裂，附近小区停水，积水很深，请尽快抢修。"),
    (24, "phone", "zh-hans", "和平路口水管爆裂", "和平路与建设路路口水管爆裂一天了，路面积水结冰，很危险，请抢修。"),
    (20, "email", "en", "Burst water main at Heping Road", "A water main burst at the Heping Road and Jianshe Road "
     "crossing; the road is flooded with water. Please repair the burst pipe."),
    (18, "open311", "en", "Flooded road, burst water pipe", "The water main at the Heping Road crossing burst and "
     "the road is flooded. Please send a crew to repair the pipe."),
]
_NIGHT_WORKS = [
    (40, "phone", "zh-hans", "工地夜间施工扰民", "幸福里小区旁边的工地每天夜里施工到凌晨两点，噪音很大，无法休息。"),
    (30, "wechat", "zh-hans", "工地夜间施工噪音", "幸福里小区东侧工地夜间施工，打桩噪音很大，吵得孩子睡不着。"),
    (16, "portal", "zh-hans", "夜间施工扰民", "幸福里小区旁工地夜间施工噪音扰民，凌晨还在打桩，请查处。"),
    (6, "phone", "zh-hans", "工地半夜打桩", "幸福里小区旁的工地半夜施工打桩，噪音扰民，请城管查处。"),
]
INCIDENTS = [("economy.utilities.water", 0, _WATER_MAIN), ("urban.construction.night", 7, _NIGHT_WORKS)]


def incidents_add(*, now: dt.datetime | None = None) -> list[Case]:
    """Register the demo incidents' reports, dated over the last two days."""
    now = now or timezone.now()
    made = []
    for category, grid_index, reports in INCIDENTS:
        grid = GRIDS[grid_index].place
        s, w, n, e = grid.box
        lat, lon = (s + n) / 2, (w + e) / 2
        for k, (hours, channel, language, title, text) in enumerate(reports):
            at = now - dt.timedelta(hours=hours)
            case = case_register(actor=SYSTEM, now=at, data=CaseInput(
                category=category, case_type="complaint", channel=channel, language=language, title=title,
                description=text, area=grid.code,
                lat=round(lat + 0.0003 * (k % 3 - 1), 6), lon=round(lon + 0.0003 * (k % 2), 6),
                citizen=citizen_input_clean(name="市民" if language == "zh-hans" else "Resident",
                                            phone=f"+86139{20260000 + 100 * grid_index + k:08d}"),
            ))
            # Registered "now" by the action; the report came in `hours` ago (auto_now_add cannot be told).
            Case.objects.filter(pk=case.pk).update(created_at=at)
            made.append(case)
    return made
