"""Every string of this app has its Chinese translation, and the committed .mo matches the .po."""

import gettext
import re
from pathlib import Path

PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _joined(block: str, keyword: str) -> str:
    m = re.search(rf'^{re.escape(keyword)} "(.*)"$\n?((?:^".*"$\n?)*)', block, re.M)
    if m is None:
        return ""
    parts = [m.group(1), *re.findall(r'^"(.*)"$', m.group(2), re.M)]
    return "".join(parts).replace('\\"', '"').replace("\\n", "\n")


def entries() -> list[tuple[str, str, bool]]:
    out = []
    for block in PO.read_text(encoding="utf-8").split("\n\n")[1:]:
        if "msgid " not in block:
            continue
        plural = "msgid_plural " in block
        out.append((_joined(block, "msgid"), _joined(block, "msgstr[0]" if plural else "msgstr"), plural))
    return out


def test_every_string_is_translated():
    assert "#, fuzzy" not in PO.read_text(encoding="utf-8")
    found = entries()
    assert found
    assert [msgid for msgid, msgstr, _plural in found if not msgstr] == []


def test_placeholders_survive_translation():
    for msgid, msgstr, _plural in entries():
        assert sorted(re.findall(r"%\(\w+\)[sd]", msgid)) == sorted(re.findall(r"%\(\w+\)[sd]", msgstr)), msgid


def test_the_committed_mo_matches_the_po():
    with PO.with_suffix(".mo").open("rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog
    stale = [msgid for msgid, msgstr, plural in entries()
             if catalog.get((msgid, 0) if plural else msgid) != msgstr]
    assert stale == [], "run compilemessages in govcrm/channels/callcentre"
