"""Whether a reply has the parts a good 12345 reply has, in Chinese or in English.

Rules:
- Parts, each found by a short list of cue words: addressing the citizen (您好, Dear…), facts
  found (经查, 核实, inspected…), action taken or decision (已…修复/处理/整改, repaired, will…),
  basis (根据, 《…》, regulation…), contact for follow-up (联系电话, 如有疑问, a phone number…),
  closing (感谢, regards…).
- The basis counts only when the message asks about a rule or an entitlement (政策, 是否, 能否,
  policy, allowed…); otherwise its weight is shared among the other parts.
- Length sanity: the substance is the reply without its greeting, date, closing and
  "forwarded to …" phrases; under `SHORT` it scores 0, from `LONG` it scores 1 (Chinese in
  characters, English in words). In the Teddy Cup data a reply judged not interpretable has a
  median of 34 characters and a good one 301.
- A reply with no facts and no action and less substance than `BOILERPLATE_UNDER` (one that
  only says the message was received or forwarded, 已转…调查/处理/办复) is boilerplate: its
  completeness is capped at `BOILERPLATE_CAP`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

CUES = {
    "greeting": (r"您好|你好|网友|尊敬的|市民|同志|先生|女士",
                 r"\b(?:dear|hello|hi|good (?:morning|afternoon)|thank you for (?:contacting|your))\b"),
    "facts": (r"经查|经核实|经调查|核查|核实|调查|了解到|据了解|经了解|现场|查明|勘察|勘查|走访|排查|检测|监测|"
              r"目前|属于|系|确实|不存在|没有",
              r"\b(?:investigat\w*|inspect\w*|found|checked|visited|confirmed|surveyed|examined|assessed)\b"),
    "action": (r"已(?!转|收悉|收到|受理)[^，。；,;]{0,12}?(?:修复|维修|处理|整改|解决|完成|清理|更换|拆除|安装|"
               r"落实|办理|发放|恢复|疏通|查处|罚款|关停|取缔|纠正|退还|补发)|责令|要求|安排|将于|计划|拟|决定|"
               r"予以|立案|处罚|整改|督促|协调|解决|无法|不予|可以|符合|具备|同意|暂不|正在|已向|已于",
               r"\b(?:repaired|fixed|replaced|resolved|removed|cleaned|scheduled|arranged|ordered|fined|"
               r"will|have been|has been|decided|installed|restored|refunded)\b"),
    "basis": (r"根据|依据|按照|依照|规定|《|条例|办法|政策|文件精神|标准",
              r"\b(?:according to|under (?:the|section)|regulation\w*|ordinance|by-?law|policy|section \d|act\b|"
              r"rules?)\b"),
    "contact": (r"联系电话|电话|联系|如有疑问|如有异议|咨询|热线|\d{7,}|微信|邮箱",
                r"\b(?:contact|call|phone|telephone|e-?mail|questions?|reach us|\d{3}[-\s]?\d{4})\b"),
    "closing": (r"感谢|谢谢|支持|理解|监督|关心|祝|此复",
                r"\b(?:thank\w*|sincerely|regards|appreciate)\b"),
}
WEIGHTS = {"greeting": 0.1, "facts": 0.2, "action": 0.25, "basis": 0.1, "contact": 0.1, "closing": 0.05,
           "length": 0.2}
_COMPILED = {part: (re.compile(zh), re.compile(en, re.IGNORECASE)) for part, (zh, en) in CUES.items()}

_ASKS_RULE = re.compile(r"政策|规定|是否|能否|可否|可不可以|合法|违法|标准|补贴|条件|资格|怎么办理|如何办理|"
                        r"\b(?:policy|allowed|legal|illegal|eligible|entitled|rules?|permit\w*)\b", re.IGNORECASE)
_FORWARDED = re.compile(r"已?(?:转交|转至|转给|转到|转|交由|交)[^，。；]{0,15}?"
                        r"(?:调查|处理|核实|核查|办复|核处|处置|办理|研究)|"
                        r"\b(?:(?:has|have) been |was |were )?(?:forwarded|passed on|referred) to\b[^.]*",
                        re.IGNORECASE)
_RECEIVED = re.compile(r"(?:您的)?(?:留言|来信|问题)(?:已)?收悉|来信收悉|现(?:将有关情况)?回复如下|"
                       r"\b(?:we (?:have )?received your (?:message|request|report))\b", re.IGNORECASE)
_DATE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_GREETING_LINE = re.compile(r"^[^，。！!:：]{0,30}?(?:您好|你好)[！!，,：:。]?|^(?:dear|hello|hi)\b[^,\n]*,?",
                            re.IGNORECASE)
_CLOSING_LINE = re.compile(r"(?:感谢|谢谢|祝)[^。！!]*[。！!]?\s*$|(?:thank you|regards|sincerely)[^.]*\.?\s*$",
                           re.IGNORECASE)

SHORT = {"zh": 40, "en": 15}
LONG = {"zh": 150, "en": 60}
BOILERPLATE_CAP = 0.3
BOILERPLATE_UNDER = {"zh": 60, "en": 25}


def language_of(text: str, hint: str = "zh-hans") -> str:
    """'zh' or 'en': by the script of the text, by the hint when the text says nothing."""
    letters = sum(1 for ch in text if ch.isalpha())
    if not letters:
        return "en" if hint.lower().startswith("en") else "zh"
    cjk = len(_CJK.findall(text))
    return "zh" if cjk / letters > 0.3 else "en"


def substance(reply: str) -> str:
    """The reply without greeting, dates, 'received / forwarded' phrases and closing."""
    text = _DATE.sub("", reply.strip())
    text = _GREETING_LINE.sub("", text.strip())
    text = _RECEIVED.sub("", text)
    text = _CLOSING_LINE.sub("", text.strip())
    return text.strip(" \t\n\u3000，。！!、：:")


def length_units(text: str, language: str) -> int:
    if language == "zh":
        return len(_CJK.findall(text)) + len(re.findall(r"[A-Za-z0-9]+", text))
    return len(re.findall(r"[A-Za-z0-9']+", text)) + len(_CJK.findall(text))


@dataclass(frozen=True)
class Parts:
    found: frozenset[str]
    basis_needed: bool
    length: float  # 0–1
    boilerplate: bool
    forwarded_only: bool


def parts_of(reply: str, message: str, language: str) -> Parts:
    lang = language_of(reply, language)
    found = set()
    for part, (zh, en) in _COMPILED.items():
        if (zh if lang == "zh" else en).search(reply) or (en if lang == "zh" else zh).search(reply):
            found.add(part)
    core = substance(reply)
    units = length_units(core, lang)
    length = min(1.0, max(0.0, (units - SHORT[lang]) / (LONG[lang] - SHORT[lang])))
    forwarded = _FORWARDED.search(reply) is not None
    # Facts or action that are only the forwarding phrase ("已转交…调查处理") do not count.
    without_forwarding = _FORWARDED.sub("", reply)
    real_facts = "facts" in found and _matches("facts", without_forwarding, lang)
    real_action = "action" in found and _matches("action", without_forwarding, lang)
    if not real_facts:
        found.discard("facts")
    if not real_action:
        found.discard("action")
    boilerplate = not real_facts and not real_action and units < BOILERPLATE_UNDER[lang]
    return Parts(frozenset(found), _ASKS_RULE.search(message) is not None, length, boilerplate,
                 forwarded and not real_facts and not real_action)


def _matches(part: str, text: str, lang: str) -> bool:
    zh, en = _COMPILED[part]
    return bool(zh.search(text) or en.search(text))


def completeness(parts: Parts) -> float:
    weights = dict(WEIGHTS)
    if not parts.basis_needed:
        spare = weights.pop("basis")
        total = sum(weights.values())
        weights = {k: v + spare * v / total for k, v in weights.items()}
    score = sum(w for part, w in weights.items() if part in parts.found)
    score += weights["length"] * parts.length
    if parts.boilerplate:
        score = min(score, BOILERPLATE_CAP)
    return round(min(1.0, score), 3)
