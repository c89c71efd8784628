"""Titles, descriptions and addresses of demo cases, and their search text without re-segmenting.

Rules:
- A description is a sequence of fragments from `phrases.py`. Chinese fragments end with
  full-width punctuation and English ones are joined by spaces, and jieba segments each run of
  word characters on its own, so the terms of a whole text are the terms of its fragments in
  order, each kept once. `search_text` therefore equals `cases.search.search_text(title,
  description, address)` while segmenting each distinct fragment only once (tests check it).
- Slots are filled before a fragment is segmented, so a memo entry is always a final string.
"""

from __future__ import annotations

import random
import re

from govcrm.cases import search

from . import phrases
from .lifecycle import picker

# Characters jieba keeps inside one segmentation block (its `re_han_default`); a fragment must
# end with something else so that it never merges with the next one.
_BLOCK_CHAR = re.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&._%\-]")


def ends_cleanly(fragment: str) -> bool:
    return not _BLOCK_CHAR.match(fragment[-1:])


# Segmented terms of every fragment seen by this process (a few tens of thousands of short strings).
_TERMS: dict[str, tuple[str, ...]] = {}


class TextBuilder:
    """Composes case texts; segments each distinct fragment once per process."""

    def terms(self, fragment: str) -> tuple[str, ...]:
        found = _TERMS.get(fragment)
        if found is None:
            found = _TERMS[fragment] = tuple(search.terms(fragment))
        return found

    def search_text(self, title: str, fragments: list[str], address: str) -> str:
        terms = self.terms
        words = [w for fragment in (title, *fragments, address) if fragment for w in terms(fragment)]
        return " ".join(dict.fromkeys(words))  # each word once, where it first occurs

    def compose(self, rng: random.Random, *, leaf: phrases.Leaf, case_type: str, english: bool, where: str,
                shop: str, who: dict[str, str], unit_name: str, pick=None) -> tuple[str, list[str]]:
        """(title, description fragments) of one case. `where` is empty for cases without a place."""
        choice = pick or picker(rng)
        r = rng.random
        fill = {"where": where, "shop": shop}
        if english:
            stem = choice(leaf.en_t)
            title = f"{stem} on {where}" if where and r() < 0.6 else stem
            frags = [choice(phrases.EN_GREETINGS)] if r() < 0.4 else []
            if where and r() < 0.4:
                frags.append(choice(phrases.EN_WHO).format(**who))
            if case_type == "praise":
                frags.append(choice(phrases.EN_PRAISE).format(unit=unit_name))
                return title, frags
            if case_type == "inquiry":
                if r() < 0.4:
                    frags.append(choice(leaf.en_p).format(**fill))
                frags.append(choice(leaf.en_q).format(**fill))
                frags.append(choice(phrases.EN_ASK["inquiry"]))
                return title, frags
            frags.append(choice(leaf.en_p).format(**fill))
            if r() < 0.6:
                frags.append(choice(phrases.EN_SINCE))
            if r() < 0.5:
                frags.append(choice(phrases.EN_IMPACT))
            frags.append(choice(phrases.EN_ASK[case_type]))
            return title, frags
        stem = choice(leaf.zh_t)
        title = f"{where}{stem}" if where and r() < 0.6 else stem
        frags = [choice(phrases.ZH_GREETINGS)] if r() < 0.5 else []
        if where and r() < 0.5:
            frags.append(choice(phrases.ZH_WHO).format(**who))
        if case_type == "praise":
            frags.append(choice(phrases.ZH_PRAISE).format(unit=unit_name))
            return title, frags
        if case_type == "inquiry":
            if r() < 0.4:
                frags.append(choice(leaf.zh_p).format(**fill))
            frags.append(choice(leaf.zh_q).format(**fill))
            frags.append(choice(phrases.ZH_ASK["inquiry"]))
            return title, frags
        frags.append(choice(leaf.zh_p).format(**fill))
        if r() < 0.7:
            frags.append(choice(phrases.ZH_SINCE))
        if r() < 0.6:
            frags.append(choice(phrases.ZH_IMPACT))
        frags.append(choice(phrases.ZH_ASK[case_type]))
        return title, frags


def join(fragments: list[str], *, english: bool) -> str:
    return (" " if english else "").join(fragments)
