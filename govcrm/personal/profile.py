"""A citizen's profile for personalisation, from data we hold — and what it makes likely or excludes.

Rules:
- **Age** comes from the resident ID number (digits 7–14 are the birth date), decrypted in this
  process only to compute the age; neither the number nor the birth date leaves this module
  except as `born` for the date rules in `notices.py`. No ID number: age unknown.
- **Kind**: an enterprise is offered only services tagged for businesses, employers or safety;
  a person may be offered a business service (a sole trader 个体户), without a boost.
- **Eligibility by age**: a service with an age rule (`ProactiveRule.min_age`) is not recommended
  to someone known to be younger; unknown age does not exclude it.
- **Boosts** (added up, each a fraction of the score): a tag that fits the age (60+: `elderly`;
  22–45: `family`), the kind (`business` for enterprises), and the first-level categories of the
  citizen's cases of the last two years (a call about a school place raises `education`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .notices import age_on

ENTERPRISE_TAGS = frozenset({"business", "employment", "safety"})
# case category prefix -> tags it makes more relevant
CATEGORY_TAGS = {
    "civil.elderly": ("elderly",), "labour.insurance.pension": ("elderly", "insurance"),
    "education": ("education", "family"), "security.residence": ("residence",),
    "land.housing": ("housing",), "urban.property": ("housing",), "labour": ("employment",),
    "economy.market": ("business",), "commerce": ("business",), "health": ("health",),
    "transport": ("transport",), "civil.assistance": ("welfare", "allowance"), "civil.marriage": ("family",),
}
TAG_BOOST = 0.5
AGE_BOOST = 1.0
KIND_BOOST = 1.0


@dataclass(frozen=True)
class Profile:
    citizen_id: int
    enterprise: bool
    born: dt.date | None
    categories: tuple[str, ...]  # case category codes of the last two years
    age: int | None = None

    @classmethod
    def build(cls, *, citizen_id: int, enterprise: bool, born: dt.date | None, categories: Iterable[str],
              today: dt.date) -> Profile:
        return cls(citizen_id, enterprise, born, tuple(categories), age_on(born, today) if born else None)


def born_from_id_number(number: str) -> dt.date | None:
    """The birth date in an 18-digit resident ID number (already validated when stored)."""
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except (ValueError, IndexError):
        return None


def eligible(profile: Profile, tags: Iterable[str], min_age: int | None) -> bool:
    if profile.enterprise:
        return bool(ENTERPRISE_TAGS & set(tags))
    return not (min_age is not None and profile.age is not None and profile.age < min_age)


def interested_tags(profile: Profile) -> dict[str, float]:
    weights: dict[str, float] = {}
    if profile.enterprise:
        weights["business"] = KIND_BOOST
    if profile.age is not None:
        if profile.age >= 60:
            weights["elderly"] = AGE_BOOST
        elif 22 <= profile.age <= 45:
            weights["family"] = weights.get("family", 0) + TAG_BOOST
    for code in profile.categories:
        for prefix, tags in CATEGORY_TAGS.items():
            if code == prefix or code.startswith(prefix + "."):
                for tag in tags:
                    weights[tag] = weights.get(tag, 0) + TAG_BOOST
    return weights


def boosts(profile: Profile, item_tags: Mapping[str, Iterable[str]]) -> dict[str, float]:
    """item code -> boost (≥ 0): the strongest interest among its tags, capped at 2."""
    interest = interested_tags(profile)
    out = {}
    for item, tags in item_tags.items():
        b = max((interest.get(t, 0.0) for t in tags), default=0.0)
        if b > 0:
            out[item] = min(b, 2.0)
    return out
