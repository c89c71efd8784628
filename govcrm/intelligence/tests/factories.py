"""A small bilingual set of labelled messages, made here (no outside data), for pipeline tests."""

from __future__ import annotations

import random

from govcrm.intelligence import classifier

LIGHT, NOISE, WATER, PARKING = ("urban.lighting.out", "environment.noise.commercial",
                                "economy.utilities.water", "transport.traffic.parking")

PLACES = ["和平街", "安定路", "东城区花园小区", "人民广场", "建设路12号", "西湖大道", "幸福里3栋", "学府路口"]
PLACES_EN = ["Heping Street", "Anding Road", "Garden Estate", "People's Square", "Lake Avenue", "School Road"]
PHRASES = {
    LIGHT: ["路灯不亮", "路灯坏了好几天", "晚上路灯全黑", "照明设施损坏", "路灯闪烁不亮"],
    NOISE: ["商铺音响噪音扰民", "酒吧晚上噪音很大", "广场舞音响太吵", "饭店排风扇噪声", "KTV噪音影响休息"],
    WATER: ["小区停水两天", "自来水水压太低", "水管爆裂没有水", "自来水发黄浑浊", "突然停水没有通知"],
    PARKING: ["车辆乱停占道", "违章停车堵住消防通道", "停车位被占用", "人行道上乱停车", "僵尸车长期占用车位"],
}
PHRASES_EN = {
    LIGHT: ["the street light is out", "street lights have been dark for days", "broken street lamp"],
    NOISE: ["loud music from the bar every night", "noise from the shop speakers", "karaoke noise at night"],
    WATER: ["no running water since yesterday", "the water pressure is very low", "the tap water is brown"],
    PARKING: ["cars parked on the sidewalk", "illegal parking blocks the fire lane", "abandoned car in a space"],
}
FILLER = ["请尽快处理", "已经反映多次", "希望相关部门解决", "影响居民生活", "谢谢"]


def message(label: str, rng: random.Random) -> tuple[str, str]:
    """(title, text) of one made-up message of this label, Chinese three times in four."""
    if rng.random() < 0.25:
        place, what = rng.choice(PLACES_EN), rng.choice(PHRASES_EN[label])
        return "", f"At {place}, {what}. Please fix it soon."
    place, what = rng.choice(PLACES), rng.choice(PHRASES[label])
    return f"{place}{what}", f"{place}{what}，{rng.choice(FILLER)}。{rng.choice(FILLER)}。"


def labelled(n_per_label: int = 20, seed: int = 1) -> tuple[list[list[str]], list[str]]:
    rng = random.Random(seed)
    docs, labels = [], []
    for label in (LIGHT, NOISE, WATER, PARKING):
        for _ in range(n_per_label):
            title, text = message(label, rng)
            docs.append(classifier.document(text, title))
            labels.append(label)
    return docs, labels
