"""Every catalogue of the project (the project's and each app's) is fully translated into Simplified
Chinese with its placeholders kept, and its committed .mo matches the .po."""

import gettext
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
CATALOGUES = sorted(ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))


def _joined(block: str, keyword: str) -> str:
    m = re.search(rf'^{re.escape(keyword)} "(.*)"$\n?((?:^".*"$\n?)*)', block, re.M)
    if m is None:
        return ""
    parts = [m.group(1), *re.findall(r'^"(.*)"$', m.group(2), re.M)]
    return "".join(parts).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def entries(po: Path) -> list[tuple[str | None, str, str, bool]]:
    out = []
    for block in po.read_text(encoding="utf-8").split("\n\n")[1:]:
        if "msgid " not in block or block.lstrip().startswith("#~"):
            continue
        plural = "msgid_plural " in block
        context = _joined(block, "msgctxt") or None
        out.append((context, _joined(block, "msgid"), _joined(block, "msgstr[0]" if plural else "msgstr"), plural))
    return out


def test_there_are_catalogues():
    assert len(CATALOGUES) >= 3


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT).parents[3]) or "root")
def test_catalogue_is_complete_and_compiled(po):
    text = po.read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    found = entries(po)
    assert [msgid for _ctx, msgid, msgstr, _p in found if not msgstr] == []
    lost = [msgid for _ctx, msgid, msgstr, _p in found
            if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr))]
    assert lost == [], "a translation lost or added a placeholder"
    with po.with_suffix(".mo").open("rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog
    stale = []
    for ctx, msgid, msgstr, plural in found:
        key = f"{ctx}\x04{msgid}" if ctx else msgid
        if catalog.get((key, 0) if plural else key) != msgstr:
            stale.append(msgid)
    assert stale == [], f"run compilemessages for {po}"
