"""A generated population of residents with known truth, for the matching tests and the benchmark.

Each person has a valid resident ID (check digit by python-stdnum), a mobile number, a birth date
and an address; some people have several records, each copy formatted differently and with up to
three fields wrong or missing, the errors a hotline and a department registry really make:
- names: a character replaced by a look-alike or sound-alike (张伟 → 张玮, 王 → 汪), a space typed
  inside the name, a full-width character;
- ID numbers: two adjacent digits of the sequence part swapped (the check character recomputed, as
  it is when the wrong number was taken down and validated), or missing;
- phones: two adjacent digits swapped, a different number, or missing;
- birth dates: missing (then taken from the ID), or one digit wrong;
- addresses: full-width digits, spaces, province/city left out, 栋/幢/号楼, 室 left out, moved house,
  or missing.
Hard negatives are planted too: household members share surname, address and sometimes the
phone; common names (张伟, 王芳) recur across unrelated people.

`population(n, seed=...)` returns `n` records as dicts with a `truth` key (the person).
"""

from __future__ import annotations

import datetime as dt
import random

from stdnum.cn import ric

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
# Weights: the first surnames are far more common (王 李 张 刘 陈 ≈ 30% of the population).
SURNAME_WEIGHTS = [max(1.0, 80.0 / (i + 1)) for i in range(len(SURNAMES))]
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红玲建国文辉力斌宇浩凯鹏飞俊峰欣怡婷雪琳晨阳"
    "晓丹宁波东海林志鑫子涵梓轩博文佳琪思源嘉欣雨泽瑞一诺梦婷颖慧晶燕兰凤春梅丹金海兵新亮成龙"
)
SIMILAR = {
    "王": "汪", "汪": "王", "张": "章", "章": "张", "李": "里", "刘": "柳", "陈": "程", "程": "陈", "杨": "扬",
    "黄": "皇", "徐": "许", "许": "徐", "林": "琳", "郑": "正", "吴": "武", "周": "舟", "赵": "肖", "孙": "荪",
    "伟": "玮", "芳": "方", "娜": "那", "敏": "民", "静": "净", "丽": "莉", "强": "墙", "磊": "蕾", "军": "君",
    "洋": "阳", "勇": "永", "艳": "燕", "杰": "洁", "娟": "鹃", "涛": "滔", "明": "铭", "超": "朝", "秀": "绣",
    "霞": "侠", "平": "萍", "刚": "钢", "桂": "贵", "英": "瑛", "华": "桦", "玉": "钰", "红": "虹", "玲": "铃",
    "国": "帼", "文": "雯", "辉": "晖", "力": "立", "斌": "彬", "宇": "雨", "浩": "皓", "凯": "恺", "鹏": "朋",
    "飞": "菲", "俊": "骏", "峰": "锋", "欣": "鑫", "怡": "宜", "婷": "亭", "雪": "雷", "琳": "林", "晨": "辰",
    "阳": "洋", "晓": "小", "丹": "舟", "宁": "柠", "波": "坡", "东": "冬", "海": "梅", "志": "智", "鑫": "欣",
    "子": "紫", "涵": "含", "梓": "子", "轩": "宣", "博": "搏", "佳": "家", "琪": "棋", "思": "恩", "源": "原",
    "嘉": "佳", "雨": "宇", "泽": "择", "瑞": "端", "诺": "若", "梦": "孟", "颖": "影", "慧": "惠", "晶": "品",
    "燕": "艳", "兰": "岚", "凤": "风", "春": "椿", "梅": "海", "金": "全", "兵": "冰", "新": "欣", "亮": "量",
    "成": "诚", "龙": "隆", "一": "壹",
}
PLACES = (  # (province, city, district) of the address
    ("北京市", "", "朝阳区"), ("北京市", "", "海淀区"), ("北京市", "", "东城区"),
    ("上海市", "", "浦东新区"), ("上海市", "", "徐汇区"), ("广东省", "深圳市", "南山区"),
    ("广东省", "广州市", "天河区"), ("浙江省", "杭州市", "西湖区"), ("江苏省", "南京市", "鼓楼区"),
    ("四川省", "成都市", "武侯区"), ("湖北省", "武汉市", "洪山区"), ("陕西省", "西安市", "雁塔区"),
)
# Area codes of the resident ID (where it was first issued, not where the person lives now): districts
# that existed for every birth year generated, so that python-stdnum accepts the number.
ID_AREAS = ("110101", "110105", "110108", "310101", "310104", "310106", "310109")
STREETS = "建国人民解放中山和平长江黄河新华朝阳光明幸福友谊胜利团结文化青年学府科技创业"
PHONE_PREFIXES = ("138", "139", "136", "135", "137", "150", "151", "158", "186", "187", "188", "177", "199", "189")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _id_number(rng: random.Random, area: str, birth: dt.date) -> str:
    body = f"{area}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")  # the function drops a last (check) character


def _swap(rng: random.Random, text: str, lo: int, hi: int) -> str:
    i = rng.randint(lo, hi - 2)
    if text[i] == text[i + 1]:
        i = lo if text[lo] != text[lo + 1] else i
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def _person(rng: random.Random, household: dict | None) -> dict:
    if household:
        sur, place, street, number, building = (household[k] for k in ("surname", "place", "street", "no", "bld"))
    else:
        sur = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
        place = rng.choice(PLACES)
        street, number, building = rng.choice(STREETS) + rng.choice(STREETS), rng.randint(1, 300), rng.randint(1, 30)
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 65))
    unit, room = rng.randint(1, 6), rng.randint(1, 28) * 100 + rng.randint(1, 4)
    phone = household["phone"] if household and rng.random() < 0.3 else (
        rng.choice(PHONE_PREFIXES) + f"{rng.randint(0, 10**8 - 1):08d}")
    if household:
        unit, room = household["unit"], household["room"]
    return {
        "name": sur + given, "surname": sur, "birth": birth, "id_number": _id_number(rng, rng.choice(ID_AREAS), birth),
        "phone": phone, "place": place, "street": street, "no": number, "bld": building, "unit": unit, "room": room,
    }


def _address(rng: random.Random, p: dict, *, variant: bool) -> str:
    province, city, district = p["place"]
    building = rng.choice(("栋", "幢", "号楼")) if variant else "栋"
    room = str(p["room"]) + ("" if variant and rng.random() < 0.5 else "室")
    parts = [province, city, district, f"{p['street']}路", f"{p['no']}号", f"{p['bld']}{building}", f"{p['unit']}单元",
             room]
    if variant:
        if rng.random() < 0.5:
            parts = parts[2:]  # province and city left out
        text = (" " if rng.random() < 0.3 else "").join(parts)
        return text.translate(FULL_WIDTH) if rng.random() < 0.4 else text
    return "".join(parts)


def _name_typo(rng: random.Random, name: str) -> str:
    positions = [i for i, ch in enumerate(name) if ch in SIMILAR]
    if positions and rng.random() < 0.85:
        i = rng.choice(positions)
        return name[:i] + SIMILAR[name[i]] + name[i + 1:]
    return name[0] + " " + name[1:]  # a space typed after the surname


FAULTS = ("name", "id_number", "phone", "birth_date", "address")
FAULT_COUNTS = (0, 1, 1, 2, 2, 3)  # how many fields of a copy are wrong or missing: mostly one or two


def record(rng: random.Random, p: dict, *, copy: bool) -> dict:
    """One record of person `p`; a copy is formatted differently and has up to three fields wrong or missing."""
    name, id_number, phone = p["name"], p["id_number"], p["phone"]
    birth: str = p["birth"].isoformat()
    address = _address(rng, p, variant=copy)
    faults = rng.sample(FAULTS, rng.choice(FAULT_COUNTS)) if copy else []
    if "name" in faults:
        name = _name_typo(rng, name)
    if "id_number" in faults:
        if rng.random() < 0.7:
            id_number = ""
        else:
            body = _swap(rng, id_number[:17], 14, 17)
            id_number = body + ric.calc_check_digit(body + "0")  # the function drops a last (check) character
    if "phone" in faults:
        roll = rng.random()
        if roll < 0.5:
            phone = ""
        elif roll < 0.75:
            phone = _swap(rng, phone, 3, 11)
        else:
            phone = rng.choice(PHONE_PREFIXES) + f"{rng.randint(0, 10**8 - 1):08d}"  # a new number
    if "birth_date" in faults:
        if rng.random() < 0.8 or birth[-2:] in ("29", "30", "31"):
            birth = ""
        else:
            birth = f"{birth[:-1]}{(int(birth[-1]) + 1) % 10}"
    if "address" in faults:
        if rng.random() < 0.6:
            address = ""
        else:
            moved = dict(p, street=rng.choice(STREETS) + rng.choice(STREETS), no=rng.randint(1, 300))
            address = _address(rng, moved, variant=False)
    return {"name": name, "id_number": id_number, "phone": phone, "birth_date": birth, "address": address}


def population(n: int, *, seed: int = 12345, duplicate_share: float = 0.3) -> list[dict]:
    """`n` records; about `duplicate_share` of them are extra copies of a person already there."""
    rng = random.Random(seed)  # noqa: S311 - test data, reproducible by seed, not a secret
    records: list[dict] = []
    people: list[dict] = []
    while len(records) < n:
        household = None
        if people and rng.random() < 0.08:  # a household member of someone already there
            head = rng.choice(people)
            household = {k: head[k] for k in ("surname", "place", "street", "no", "bld", "unit", "room", "phone")}
        person = _person(rng, household)
        person["truth"] = len(people)
        people.append(person)
        records.append({**record(rng, person, copy=False), "truth": person["truth"]})
        while len(records) < n and rng.random() < duplicate_share / (1 + duplicate_share) * 1.4:
            records.append({**record(rng, person, copy=True), "truth": person["truth"]})
    rng.shuffle(records)
    return records
