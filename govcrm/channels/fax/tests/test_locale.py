"""Every string of the fax channel has its Chinese translation, with its placeholders, and the .mo is current."""

import gettext
import re
from pathlib import Path

PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _joined(block: str, keyword: str) -> str:
    m = re.search(rf'^{re.escape(keyword)} "(.*)"$\n?((?:^".*"$\n?)*)', block, re.M)
    if m is None:
        return ""
    parts = [m.group(1), *re.findall(r'^"(.*)"$', m.group(2), re.M)]
    return "".join(parts).replace('\\"', '"').replace("\\n", "\n")


def entries() -> list[tuple[str, str]]:
    text = PO.read_text(encoding="utf-8")
    return [(_joined(block, "msgid"), _joined(block, "msgstr"))
            for block in text.split("\n\n")[1:] if "msgid " in block]


def test_every_string_is_translated_with_its_placeholders():
    assert "#, fuzzy" not in PO.read_text(encoding="utf-8")
    found = entries()
    assert len(found) > 5
    assert [msgid for msgid, msgstr in found if not msgstr] == []
    assert [msgid for msgid, msgstr in found
            if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr))] == []


def test_the_committed_mo_matches_the_po():
    with PO.with_suffix(".mo").open("rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog
    assert [msgid for msgid, msgstr in entries() if catalog.get(msgid) != msgstr] == []
