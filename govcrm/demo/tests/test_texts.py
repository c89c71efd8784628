"""Demo texts: fragments never merge under segmentation, so the fast search text is the real one."""

import random

from govcrm.cases import search
from govcrm.demo import city, phrases
from govcrm.demo.texts import TextBuilder, ends_cleanly, join


def test_every_chinese_fragment_ends_with_a_boundary():
    pieces = [*phrases.ZH_GREETINGS, *phrases.ZH_WHO, *phrases.ZH_SINCE, *phrases.ZH_IMPACT, *phrases.ZH_PRAISE]
    pieces += [p for asks in phrases.ZH_ASK.values() for p in asks]
    for leaf in phrases.LEAVES:
        pieces += [*leaf.zh_p, *leaf.zh_q]
        assert leaf.zh_t and leaf.zh_p and leaf.zh_q and leaf.en_t and leaf.en_p and leaf.en_q, leaf.code
    bad = [p for p in pieces if not ends_cleanly(p)]
    assert not bad


def test_search_text_equals_the_search_module():
    rng = random.Random(11)
    builder = TextBuilder()
    kinds = {"inquiry", "help", "complaint", "report", "suggestion", "praise"}
    for _ in range(1500):
        leaf = rng.choice(phrases.LEAVES)
        grid = rng.choice(city.GRIDS)
        english = rng.random() < 0.3
        lang = 1 if english else 0
        where = rng.choice(grid.roads + grid.compounds)[lang] if leaf.located else ""
        who = {"district": (grid.district.name_zh, grid.district.name_en)[lang],
               "street": (grid.street.name_zh, grid.street.name_en)[lang],
               "compound": grid.compounds[0][lang]}
        title, fragments = builder.compose(rng, leaf=leaf, case_type=rng.choice(sorted(kinds)), english=english,
                                           where=where, shop=rng.choice(phrases.SHOPS)[lang], who=who,
                                           unit_name="市城市管理局")
        address = f"示范市{who['district']}{who['street']}{where}{rng.randint(1, 120)}号" if where else ""
        description = join(fragments, english=english)
        assert builder.search_text(title, fragments, address) == search.search_text(title, description, address)
