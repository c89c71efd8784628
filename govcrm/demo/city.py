"""The demo city 示范市: areas, units, staff, dispatch rules and deadline policies.

Rules:
- `city_ensure()` is idempotent: it creates what is missing, found by code or username, and
  never changes what exists (an administrator's edits survive a second `govcrm demo`).
- Six districts of four streets (towns in the county) of three or four community grids, each
  with a population and a bounding box inside the city's, so generated coordinates fall in
  the grid of the case. Names are bilingual everywhere.
- Units: the 12345 centre at the root; municipal departments, utilities and district
  governments under it; street offices under their district. District and street units are
  bound to their area.
- Dispatch rules cover most leaf categories: street-level nuisances go to the street office of
  the area, utilities to their company, policy matters to their department, and a few go to the
  district government, which passes them down to a street. `UNROUTED` categories have no rule
  on purpose, so that the dispatcher's queue fills.
- Every demo account has the password `DEMO_PASSWORD`; `demo_accounts()` lists the main ones.
  Every other unit has a `handler_<unit>` account as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from govcrm.cases.models import Category, DeadlinePolicy, DispatchRule
from govcrm.organization.models import Area, Role, StaffProfile, Unit
from govcrm.reports.demo import demo_subscriptions_ensure

DEMO_PASSWORD = "govcrm-demo"  # noqa: S105 - the documented password of the demo accounts
CITY = ("city", "示范市", "Demo City", 3_210_000)
# south, west, north, east
CITY_BOX = (30.40, 114.00, 30.80, 114.60)


@dataclass(frozen=True)
class Place:
    code: str
    name_zh: str
    name_en: str
    population: int
    box: tuple[float, float, float, float]
    parent: str
    level: str  # Area.Level


# (code, short zh, short en, population, is county) ; streets: (short zh, short en, weight)
_DISTRICTS = (
    ("d1", "东城", "Dongcheng", 620_000, False,
     (("和平", "Heping", 5), ("安定", "Anding", 4), ("东华", "Donghua", 3), ("朝阳", "Chaoyang", 4))),
    ("d2", "西城", "Xicheng", 580_000, False,
     (("西湖", "Xihu", 4), ("金融街", "Jinrongjie", 3), ("德胜", "Desheng", 4), ("白塔", "Baita", 3))),
    ("d3", "南湖", "Nanhu", 710_000, False,
     (("南湖", "Nanhu", 5), ("滨江", "Binjiang", 4), ("青山", "Qingshan", 3), ("梅园", "Meiyuan", 3))),
    ("d4", "北山", "Beishan", 430_000, False,
     (("北山", "Beishan", 3), ("龙泉", "Longquan", 4), ("松林", "Songlin", 2), ("石桥", "Shiqiao", 3))),
    ("d5", "高新", "Gaoxin", 360_000, False,
     (("科技城", "Kejicheng", 3), ("软件园", "Ruanjianyuan", 2), ("创新", "Chuangxin", 3),
      ("未来城", "Weilaicheng", 2))),
    ("d6", "临江", "Linjiang", 510_000, True,
     (("临江", "Linjiang", 4), ("白沙", "Baisha", 3), ("桃源", "Taoyuan", 2), ("清河", "Qinghe", 2))),
)
_CN_NUM = "一二三四"
_ROAD_STEMS = (
    ("和平", "Heping"), ("解放", "Jiefang"), ("建设", "Jianshe"), ("人民", "Renmin"), ("中山", "Zhongshan"),
    ("长江", "Changjiang"), ("黄河", "Huanghe"), ("新华", "Xinhua"), ("胜利", "Shengli"), ("光明", "Guangming"),
    ("文化", "Wenhua"), ("青年", "Qingnian"), ("友谊", "Youyi"), ("民主", "Minzhu"), ("团结", "Tuanjie"),
    ("幸福", "Xingfu"), ("复兴", "Fuxing"), ("东风", "Dongfeng"), ("红旗", "Hongqi"), ("工农", "Gongnong"),
    ("滨河", "Binhe"), ("望江", "Wangjiang"), ("桂花", "Guihua"), ("梧桐", "Wutong"), ("银杏", "Yinxing"),
    ("玉兰", "Yulan"), ("金桥", "Jinqiao"), ("南环", "Nanhuan"), ("北环", "Beihuan"), ("西苑", "Xiyuan"),
    ("东湖", "Donghu"), ("翠微", "Cuiwei"), ("学府", "Xuefu"), ("科技", "Keji"), ("创业", "Chuangye"),
    ("振兴", "Zhenxing"), ("龙腾", "Longteng"), ("凤凰", "Fenghuang"), ("春晖", "Chunhui"), ("秋实", "Qiushi"),
    ("长安", "Chang'an"), ("永安", "Yong'an"), ("太平", "Taiping"), ("康宁", "Kangning"), ("广场", "Guangchang"),
    ("车站", "Chezhan"), ("机场", "Jichang"), ("高铁", "Gaotie"), ("锦绣", "Jinxiu"), ("云台", "Yuntai"),
)
_ROAD_SUFFIX = (("路", "Road"), ("街", "Street"), ("大道", "Avenue"))
_COMPOUND_STEMS = (
    ("阳光", "Yangguang"), ("锦绣", "Jinxiu"), ("翠竹", "Cuizhu"), ("枫林", "Fenglin"), ("金色", "Jinse"),
    ("玉泉", "Yuquan"), ("春天", "Chuntian"), ("和谐", "Hexie"), ("碧水", "Bishui"), ("蓝湾", "Lanwan"),
    ("紫荆", "Zijing"), ("海棠", "Haitang"), ("丽景", "Lijing"), ("华府", "Huafu"), ("御景", "Yujing"),
    ("东方", "Dongfang"), ("世纪", "Shiji"), ("星河", "Xinghe"), ("名都", "Mingdu"), ("龙湖", "Longhu"),
    ("绿洲", "Lüzhou"), ("香榭", "Xiangxie"), ("书香", "Shuxiang"), ("怡景", "Yijing"), ("锦华", "Jinhua"),
    ("盛世", "Shengshi"), ("润园", "Runyuan"), ("天悦", "Tianyue"), ("嘉和", "Jiahe"), ("半岛", "Bandao"),
    ("湖滨", "Hubin"), ("桃李", "Taoli"), ("康馨", "Kangxin"), ("福星", "Fuxing"), ("安居", "Anju"),
    ("富华", "Fuhua"), ("雅苑", "Yayuan"), ("清华", "Qinghua"), ("新城", "Xincheng"), ("水岸", "Shui'an"),
    ("云顶", "Yunding"), ("金茂", "Jinmao"), ("万象", "Wanxiang"), ("长青", "Changqing"), ("红叶", "Hongye"),
    ("荷塘", "Hetang"), ("月湖", "Yuehu"), ("铂悦", "Boyue"), ("景苑", "Jingyuan"), ("融城", "Rongcheng"),
    ("幸福里", "Xingfuli"), ("百合", "Baihe"), ("桂园", "Guiyuan"), ("怡和", "Yihe"), ("宝龙", "Baolong"),
    ("国际", "Guoji"),
)
_COMPOUND_SUFFIX = (("花园", "Garden"), ("小区", "Estate"), ("家园", "Homes"))


@dataclass(frozen=True)
class Grid:
    """A community grid with the roads and compounds where its cases happen."""

    place: Place
    street: Place
    district: Place
    roads: tuple[tuple[str, str], ...]  # (zh, en)
    compounds: tuple[tuple[str, str], ...]


def _split(box, parts: int, index: int, *, vertical: bool):
    s, w, n, e = box
    if vertical:
        step = (e - w) / parts
        return (s, w + step * index, n, w + step * (index + 1))
    step = (n - s) / parts
    return (s + step * index, w, s + step * (index + 1), e)


def _places() -> tuple[list[Place], list[Grid]]:
    city = Place(CITY[0], CITY[1], CITY[2], CITY[3], CITY_BOX, "", Area.Level.CITY)
    places = [city]
    grids: list[Grid] = []
    street_no = 0
    for d_index, (code, zh, en, population, county, streets) in enumerate(_DISTRICTS):
        row, col = divmod(d_index, 3)
        box = _split(_split(CITY_BOX, 2, row, vertical=False), 3, col, vertical=True)
        district = Place(code, f"{zh}{'县' if county else '区'}", f"{en} {'County' if county else 'District'}",
                         population, box, city.code, Area.Level.DISTRICT)
        places.append(district)
        total = sum(w for *_x, w in streets)
        for s_index, (s_zh, s_en, weight) in enumerate(streets):
            srow, scol = divmod(s_index, 2)
            sbox = _split(_split(box, 2, srow, vertical=False), 2, scol, vertical=True)
            town = county and s_index > 0
            street = Place(f"{code}s{s_index + 1}", f"{s_zh}{'镇' if town else '街道'}",
                           f"{s_en} {'Town' if town else 'Street'}", population * weight // total, sbox, code,
                           Area.Level.STREET)
            places.append(street)
            n_grids = 4 if street_no % 2 else 3
            for g in range(n_grids):
                gbox = _split(sbox, n_grids, g, vertical=True)
                grid = Place(f"{street.code}g{g + 1}", f"{s_zh}{_CN_NUM[g]}社区", f"{s_en} Community {g + 1}",
                             street.population // n_grids, gbox, street.code, Area.Level.GRID)
                places.append(grid)
                roads = tuple(
                    (_ROAD_STEMS[(street_no * 3 + g + k * 7) % len(_ROAD_STEMS)][0]
                     + _ROAD_SUFFIX[(street_no + k) % 3][0],
                     _ROAD_STEMS[(street_no * 3 + g + k * 7) % len(_ROAD_STEMS)][1] + " "
                     + _ROAD_SUFFIX[(street_no + k) % 3][1])
                    for k in range(3)
                )
                compounds = []
                for k in range(2):
                    i = len(grids) * 2 + k  # 56 stems x 3 suffixes: coprime, so every pair differs
                    stem = _COMPOUND_STEMS[i % len(_COMPOUND_STEMS)]
                    suffix = _COMPOUND_SUFFIX[i % len(_COMPOUND_SUFFIX)]
                    compounds.append((stem[0] + suffix[0], f"{stem[1]} {suffix[1]}"))
                grids.append(Grid(grid, street, district, roads, tuple(compounds)))
            street_no += 1
    return places, grids


PLACES, GRIDS = _places()

# Units: (code, parent code, kind, zh, en)
CENTRE = ("centre", None, Unit.Kind.CENTRE, "市12345政务服务便民热线中心", "12345 Citizen Service Hotline Centre")
DEPARTMENTS = (
    ("urban", "市城市管理局", "City Urban Management Bureau"),
    ("environment", "市生态环境局", "Ecology and Environment Bureau"),
    ("transport", "市交通运输局", "Transport Bureau"),
    ("hrss", "市人力资源和社会保障局", "Human Resources and Social Security Bureau"),
    ("health", "市卫生健康委员会", "Health Commission"),
    ("education", "市教育局", "Education Bureau"),
    ("civil", "市民政局", "Civil Affairs Bureau"),
    ("market", "市市场监督管理局", "Market Regulation Administration"),
    ("housing", "市住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    ("police", "市公安局", "Public Security Bureau"),
    ("agriculture", "市农业农村局", "Agriculture and Rural Affairs Bureau"),
    ("resources", "市自然资源和规划局", "Natural Resources and Planning Bureau"),
    ("culture", "市文化广电旅游局", "Culture, Radio, Television and Tourism Bureau"),
    ("govservices", "市政务服务和大数据管理局", "Government Services and Big Data Administration"),
)
SUB_DEPARTMENTS = (("traffic-police", "police", "市公安局交通管理支队", "Traffic Police Division"),)
AGENCIES = (
    ("water", "市自来水有限公司", "City Water Supply Company"),
    ("power", "国网示范市供电公司", "State Grid Demo City Power Supply Company"),
    ("gas", "市燃气集团", "City Gas Group"),
    ("heating", "市热力有限公司", "City Heating Company"),
    ("telecom", "中国电信示范市分公司", "China Telecom Demo City Branch"),
)


def district_unit_code(area_code: str) -> str:
    return f"gov-{area_code}"


def _unit_rows() -> list[tuple[str, str | None, str, str, str, str | None]]:
    """(code, parent, kind, zh, en, area code) in creation order (parents first)."""
    rows = [(*CENTRE, None)]
    rows += [(code, "centre", Unit.Kind.DEPARTMENT, zh, en, None) for code, zh, en in DEPARTMENTS]
    rows += [(code, parent, Unit.Kind.DEPARTMENT, zh, en, None) for code, parent, zh, en in SUB_DEPARTMENTS]
    rows += [(code, "centre", Unit.Kind.AGENCY, zh, en, None) for code, zh, en in AGENCIES]
    for place in PLACES:
        if place.level == Area.Level.DISTRICT:
            rows.append((district_unit_code(place.code), "centre", Unit.Kind.DISTRICT, f"{place.name_zh}人民政府",
                         f"{place.name_en} Government", place.code))
    for place in PLACES:
        if place.level == Area.Level.STREET:
            town = place.name_zh.endswith("镇")
            rows.append((district_unit_code(place.code), district_unit_code(place.parent), Unit.Kind.STREET,
                         f"{place.name_zh}{'人民政府' if town else '办事处'}",
                         f"{place.name_en} {'Government' if town else 'Office'}", place.code))
    return rows


UNIT_ROWS = _unit_rows()

# Where each leaf category goes: ("street"|"district", co-units) or ("unit", code, co-units).
ROUTES: dict[str, tuple] = {
    "urban.roads.pothole": ("unit", "urban", ()),
    "urban.roads.manhole": ("unit", "urban", ()),
    "urban.roads.sidewalk": ("street", ()),
    "urban.lighting.out": ("street", ()),
    "urban.lighting.daytime": ("unit", "urban", ()),
    "urban.greening.trees": ("street", ()),
    "urban.greening.parks": ("unit", "urban", ()),
    "urban.property.service": ("district", ()),
    "urban.property.fees": ("unit", "housing", ()),
    "urban.property.lift": ("unit", "market", ("housing",)),
    "urban.construction.night": ("street", ("urban",)),
    "urban.construction.illegal": ("district", ()),
    "environment.noise.commercial": ("street", ()),
    "environment.noise.traffic": ("unit", "environment", ()),
    "environment.air.smoke": ("unit", "environment", ("market",)),
    "environment.air.dust": ("unit", "environment", ("housing",)),
    "environment.water.river": ("unit", "environment", ()),
    "environment.water.sewage": ("unit", "environment", ("water",)),
    "environment.sanitation.garbage": ("street", ()),
    "environment.sanitation.toilets": ("street", ()),
    "transport.bus.route": ("unit", "transport", ()),
    "transport.bus.service": ("unit", "transport", ()),
    "transport.taxi.fare": ("unit", "transport", ()),
    "transport.traffic.signal": ("unit", "traffic-police", ()),
    "transport.traffic.parking": ("unit", "traffic-police", ()),
    "labour.wages.arrears": ("unit", "hrss", ()),
    "labour.insurance.pension": ("unit", "hrss", ()),
    "labour.insurance.medical": ("unit", "hrss", ()),
    "labour.employment.training": ("unit", "hrss", ()),
    "labour.employment.contract": ("unit", "hrss", ()),
    "health.hospital.service": ("unit", "health", ()),
    "health.hospital.fees": ("unit", "health", ("market",)),
    "health.public.food": ("unit", "market", ()),
    "health.public.epidemic": ("unit", "health", ()),
    "education.school.enrolment": ("unit", "education", ()),
    "education.school.fees": ("unit", "education", ()),
    "civil.elderly.allowance": ("unit", "civil", ()),
    "civil.elderly.homes": ("unit", "civil", ()),
    "civil.assistance.minimum": ("district", ()),
    "civil.marriage.registry": ("unit", "civil", ()),
    "commerce.consumer.refund": ("unit", "market", ()),
    "commerce.consumer.prepaid": ("unit", "market", ()),
    "land.housing.certificate": ("unit", "resources", ()),
    "agriculture.land.contract": ("unit", "agriculture", ()),
    "agriculture.subsidy.grain": ("unit", "agriculture", ()),
    "economy.market.license": ("unit", "market", ()),
    "economy.market.pricing": ("unit", "market", ()),
    "economy.utilities.water": ("unit", "water", ()),
    "economy.utilities.power": ("unit", "power", ()),
    "economy.utilities.gas": ("unit", "gas", ()),
    "economy.utilities.heating": ("unit", "heating", ()),
    "security.police.fraud": ("unit", "police", ()),
    "security.police.order": ("unit", "police", ()),
    "security.residence.hukou": ("unit", "police", ()),
    "security.residence.idcard": ("unit", "police", ()),
    "technology.telecom.network": ("unit", "telecom", ()),
    "technology.telecom.billing": ("unit", "telecom", ()),
}
# No rule on purpose: the dispatcher decides, and picks this unit ("district": the area's).
UNROUTED: dict[str, str] = {
    "education.culture.venues": "culture",
    "commerce.tourism.scenic": "culture",
    "land.expropriation.compensation": "district",
    "government.services.efficiency": "govservices",
    "government.services.hotline": "govservices",
    "discipline.conduct.misconduct": "govservices",
}
# Where a case goes when its first unit returns it as not its duty, by first-level category.
DEPARTMENT_OF = {
    "urban": "urban", "environment": "environment", "transport": "transport", "labour": "hrss",
    "health": "health", "education": "education", "civil": "civil", "commerce": "market", "land": "resources",
    "agriculture": "agriculture", "economy": "market", "security": "police", "government": "govservices",
    "discipline": "govservices", "technology": "market",
}
# category code → {urgency: (accept hours, contact hours, reply working days)}
DEADLINE_POLICIES: dict[str, dict[str, tuple[int, int, int]]] = {
    "economy.utilities": {"normal": (2, 8, 3), "urgent": (1, 2, 1), "critical": (1, 1, 1)},
    "urban.roads.manhole": {"normal": (2, 4, 2), "urgent": (1, 2, 1), "critical": (1, 1, 1)},
    "urban.property.lift": {"normal": (2, 4, 3), "urgent": (1, 2, 1), "critical": (1, 1, 1)},
    "health.public": {"normal": (2, 8, 3), "urgent": (1, 2, 1), "critical": (1, 1, 1)},
    "labour.wages": {"normal": (4, 16, 10), "urgent": (2, 8, 5), "critical": (1, 4, 3)},
    "land": {"normal": (8, 24, 15), "urgent": (4, 16, 10), "critical": (2, 8, 5)},
    "agriculture": {"normal": (8, 24, 10), "urgent": (4, 16, 5), "critical": (2, 8, 3)},
    "security.police.fraud": {"normal": (1, 2, 3), "urgent": (1, 1, 2), "critical": (1, 1, 1)},
    "education.school.enrolment": {"normal": (4, 16, 7), "urgent": (2, 8, 3), "critical": (1, 4, 2)},
    "civil.assistance": {"normal": (4, 16, 10), "urgent": (2, 8, 5), "critical": (1, 4, 2)},
}


# --- staff ---------------------------------------------------------------------------------------
# (username, role, unit code, listed by `demo_accounts`)
_MAIN_ACCOUNTS = (
    ("admin", Role.ADMIN, "centre"),
    ("agent", Role.AGENT, "centre"),
    ("dispatcher", Role.DISPATCHER, "centre"),
    ("supervisor", Role.SUPERVISOR, "centre"),
    ("analyst", Role.ANALYST, "centre"),
    ("handler_urban", Role.HANDLER, "urban"),
    ("manager_urban", Role.MANAGER, "urban"),
    ("handler_d1", Role.HANDLER, "gov-d1"),
    ("manager_d1", Role.MANAGER, "gov-d1"),
    ("handler_street", Role.HANDLER, "gov-d1s1"),
    ("manager_street", Role.MANAGER, "gov-d1s1"),
    ("handler_water", Role.HANDLER, "water"),
)
_MORE_CENTRE = (
    *((f"agent{i}", Role.AGENT, "centre") for i in range(2, 9)),
    ("dispatcher2", Role.DISPATCHER, "centre"),
    ("dispatcher3", Role.DISPATCHER, "centre"),
    ("supervisor2", Role.SUPERVISOR, "centre"),
)


def _handler_name(unit_code: str) -> str:
    return f"handler_{unit_code.removeprefix('gov-')}"


def staff_rows() -> list[tuple[str, str, str]]:
    """Every demo account: the main ones, more centre staff, and a handler for each other unit."""
    rows = [*_MAIN_ACCOUNTS, *_MORE_CENTRE]
    staffed = {unit for _u, role, unit in rows if role == Role.HANDLER}
    for code, *_rest in UNIT_ROWS:
        if code != "centre" and code not in staffed:
            rows.append((_handler_name(code), Role.HANDLER, code))
    return rows


def demo_accounts() -> list[tuple[str, str, str]]:
    """(username, role, unit name) of the main demo accounts, for `govcrm up` to print."""
    names = {code: f"{zh} / {en}" for code, _p, _k, zh, en, _a in UNIT_ROWS}
    return [(username, str(role), names[unit]) for username, role, unit in _MAIN_ACCOUNTS]


# --- creating it -----------------------------------------------------------------------------------


def _ensure_areas() -> dict[str, Area]:
    existing = {a.code: a for a in Area.objects.filter(code__in=[p.code for p in PLACES])}
    for place in PLACES:
        if place.code in existing:
            continue
        area = Area(code=place.code, name_zh=place.name_zh, name_en=place.name_en, level=place.level,
                    population=place.population, parent=existing.get(place.parent))
        area.save()
        existing[place.code] = area
    return existing


def _ensure_units(areas: dict[str, Area]) -> dict[str, Unit]:
    existing = {u.code: u for u in Unit.objects.filter(code__in=[r[0] for r in UNIT_ROWS])}
    for code, parent, kind, zh, en, area in UNIT_ROWS:
        if code in existing:
            continue
        unit = Unit(code=code, parent=existing.get(parent) if parent else None, kind=kind, name_zh=zh,
                    name_en=en, area=areas.get(area) if area else None)
        unit.save()
        existing[code] = unit
    return existing


# Staff e-mail addresses (the scheduled reports are mailed to them); a reserved example domain.
DEMO_STAFF_MAIL_DOMAIN = "staff.example.org"


def _ensure_staff(units: dict[str, Unit]) -> None:
    user_model = get_user_model()
    rows = staff_rows()
    existing = set(user_model.objects.filter(username__in=[r[0] for r in rows]).values_list("username", flat=True))
    password = make_password(DEMO_PASSWORD)  # hashed once: argon2 is slow on purpose
    for username, role, unit in rows:
        if username in existing:
            continue
        is_admin = username == "admin"
        user = user_model.objects.create(username=username, password=password, is_staff=is_admin,
                                         is_superuser=is_admin, email=f"{username}@{DEMO_STAFF_MAIL_DOMAIN}")
        StaffProfile.objects.create(user=user, role=role, unit=units[unit])


def _ensure_rules(areas: dict[str, Area], units: dict[str, Unit]) -> None:
    categories = {c.code: c for c in Category.objects.filter(code__in=list(ROUTES))}
    have = set(DispatchRule.objects.values_list("category__code", "area__code"))
    streets = [p for p in PLACES if p.level == Area.Level.STREET]
    districts = [p for p in PLACES if p.level == Area.Level.DISTRICT]
    for leaf, route in ROUTES.items():
        category = categories.get(leaf)
        if category is None:
            continue
        if route[0] == "unit":
            targets = [(None, units[route[1]])]
            co = route[2]
        else:
            places = streets if route[0] == "street" else districts
            targets = [(areas[p.code], units[district_unit_code(p.code)]) for p in places]
            co = route[1]
        for area, unit in targets:
            if (leaf, area.code if area else None) in have:
                continue
            rule = DispatchRule.objects.create(category=category, area=area, unit=unit)
            if co:
                rule.co_units.set([units[c] for c in co])


def _ensure_policies() -> None:
    categories = {c.code: c for c in Category.objects.filter(code__in=list(DEADLINE_POLICIES))}
    have = set(DeadlinePolicy.objects.filter(category__isnull=False).values_list("category__code", "urgency"))
    for code, by_urgency in DEADLINE_POLICIES.items():
        if code not in categories:
            continue
        for urgency, (accept, contact, reply) in by_urgency.items():
            if (code, urgency) not in have:
                DeadlinePolicy.objects.create(category=categories[code], urgency=urgency, accept_hours=accept,
                                              contact_hours=contact, reply_days=reply)


def city_ensure() -> None:
    """Create whatever of the demo city is missing; leave the rest alone."""
    with transaction.atomic():
        areas = _ensure_areas()
        units = _ensure_units(areas)
        _ensure_staff(units)
        demo_subscriptions_ensure()  # the scheduled reports the demo's supervisor and a manager receive
        _ensure_rules(areas, units)
        _ensure_policies()
