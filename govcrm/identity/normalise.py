"""Comparable forms of names, phones, ID numbers, birth dates and addresses for matching.

Rules:
- Names: Unicode NFKC (full-width → half-width), no spaces or middle dots inside a Chinese name
  (张 三 = 张三, 阿卜杜·热合曼 = 阿卜杜热合曼); a Latin name is case-folded with single spaces. The
  surname is the first character of a Chinese name (a two-character compound surname such as
  欧阳 or 司马 counts whole), the first word of a Latin one. No pinyin: typos by similar
  characters are caught by character edit distance and Jaro-Winkler over characters.
- Phones: the national significant number (no +86).
- ID numbers: upper case; the birth date is read from characters 7-14 when the record has none.
- Addresses: NFKC, no whitespace or punctuation, 幢/号楼 → 栋, then cut into tokens after each
  administrative or street suffix (省 市 区 县 街道 镇 乡 路 街 巷 弄 号 栋 单元 室…), so that
  "北京市朝阳区建国路88号3栋2单元501室" and "朝阳区建国路８８号３幢２单元５０１" share most tokens.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐",
})
_NAME_DROP = re.compile(r"[\s·•．.]+")
_ADDRESS_DROP = re.compile(r"[\s,，。、;；:：#＃\-—_()（）]+")
_ADDRESS_TOKEN = re.compile(
    r".*?(?:自治区|自治州|特别行政区|省|市|盟|区|县|旗|街道|镇|乡|大道|路|街|巷|弄|胡同|村|小区|花园|公寓|号|栋|单元|层|楼|室)"
)


def _nfkc(value: str | None) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


def name(value: str | None) -> str:
    text = _nfkc(value)
    if text.isascii():
        return " ".join(text.casefold().split())
    return _NAME_DROP.sub("", text)


def surname(normalised_name: str) -> str:
    if not normalised_name:
        return ""
    if normalised_name.isascii():
        return normalised_name.split(" ", 1)[0]
    if normalised_name[:2] in COMPOUND_SURNAMES:
        return normalised_name[:2]
    return normalised_name[:1]


def phone(value: str | None) -> str:
    digits = re.sub(r"\D", "", _nfkc(value))
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def id_number(value: str | None) -> str:
    return re.sub(r"\s", "", _nfkc(value)).upper()


def birth_from_id(value: str) -> str:
    """YYYY-MM-DD from an 18-character resident ID, or '' when it holds no valid date."""
    if len(value) != 18:
        return ""
    try:
        return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14])).isoformat()
    except ValueError:
        return ""


def address(value: str | None) -> str:
    text = _ADDRESS_DROP.sub("", _nfkc(value))
    text = text.replace("号楼", "栋").replace("幢", "栋")
    return text.removesuffix("室")  # 501室 = 501


def address_tokens(normalised_address: str) -> list[str]:
    """Tokens of a normalised address; the rest after the last suffix is a token of its own."""
    if not normalised_address:
        return []
    tokens = _ADDRESS_TOKEN.findall(normalised_address)
    rest = normalised_address[sum(len(t) for t in tokens):]
    if rest:
        tokens.append(rest)
    return list(dict.fromkeys(tokens))
