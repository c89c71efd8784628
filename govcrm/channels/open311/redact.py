"""Scrubbing personal data out of free text before it leaves through the public GET resources.

The GET resources of Open311 need no api_key: anything in them is published. Structured personal
data (name, phone, e-mail of the citizen) is never put in them; free text written by people
(a description, a unit's reply) is passed through `redact`, which replaces with "***":
- e-mail addresses;
- resident ID numbers (17 digits and a check character);
- phone numbers: runs of 7 to 13 digits, possibly grouped by spaces or dashes and led by "+",
  except ISO dates (2024-05-03) — 14-digit case numbers are kept;
- the citizen's own name, its parts, and a Chinese surname followed by an honorific (张先生).
"""

from __future__ import annotations

import re

MASK = "***"
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
DIGIT_RUN_RE = re.compile(r"(?<![\d+])\+?\d(?:[ -]?\d){5,}(?!\d)")
DATE_RE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
CJK_RE = re.compile(r"[\u3400-\u9fff]")
HONORIFICS = "先生|女士|小姐|同志|老师|师傅"


def _phone(match: re.Match) -> str:
    text = match.group(0)
    digits = sum(c.isdigit() for c in text)
    if DATE_RE.fullmatch(text) or not 7 <= digits <= 13:
        return text
    return MASK


def redact(text: str | None, *, names: tuple[str, ...] = ()) -> str | None:
    """`text` without e-mail addresses, ID and phone numbers, and the given people's names."""
    if not text:
        return text
    text = EMAIL_RE.sub(MASK, text)
    text = ID_NUMBER_RE.sub(MASK, text)
    text = DIGIT_RUN_RE.sub(_phone, text)
    for name in names:
        name = (name or "").strip()
        if not name:
            continue
        if CJK_RE.search(name):
            text = text.replace(name, MASK) if len(name) >= 2 else text
            text = re.sub(f"{re.escape(name[0])}(?:{HONORIFICS})", MASK, text)
        else:
            for part in sorted({name, *name.split()}, key=len, reverse=True):
                if len(part) >= 2:
                    text = re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", MASK, text, flags=re.IGNORECASE)
    return text
