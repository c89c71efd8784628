"""Demo portal traffic: page views and searches of the last days, for `govcrm demo` (once, while
the tables are empty), so that /dashboards/web/ shows something on first use.

Visits follow a few scripted paths over the real demo content: from a search engine to a service
page; home → help search → an article found; home → catalogue search → a service → its
application form; searches for things the portal does not have (nothing found). Result counts
are those of the real searches (`knowledge.queries.suggestions`, `services.queries.catalogue`) on
the demo's articles and services. Sessions are random 32-hex strings, as the real hashes look.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.utils import timezone

from .models import PageView, PortalSearch
from .recorder import normalise_query

HELP_QUERIES = ("居住证", "社保卡挂失", "公积金提取", "垃圾分类", "噪音扰民", "路灯不亮", "停水", "医保报销",
                "residence permit", "养老金", "宠物狗办证", "二手房过户", "电动车上牌", "结婚登记")
SERVICE_QUERIES = ("营业执照", "居住证", "老年", "社保", "出生", "残疾", "公积金", "驾驶证补办", "护照")


@dataclass(frozen=True)
class DemoTraffic:
    page_views: int
    searches: int


def _articles() -> list[tuple[str, str]]:
    from govcrm.knowledge.queries import suggestions

    out = []
    for q in HELP_QUERIES:
        try:
            found = suggestions(q, limit=5)
        except Exception:  # a demo without a knowledge index still gets traffic
            found = []
        out.append((q, [str(s.article_id) for s in found]))
    return out


def _services() -> list[tuple[str, list[str]]]:
    from django.apps import apps

    if not apps.is_installed("govcrm.services"):
        return [(q, []) for q in SERVICE_QUERIES]
    from govcrm.services.queries import catalogue

    return [(q, [i.code for i in catalogue(query=q)][:10]) for q in SERVICE_QUERIES]


def portal_traffic_ensure(*, seed: int = 6, days: int = 60, visits_per_day: int = 120) -> DemoTraffic:
    """Add demo page views and searches over the last `days` if there are none yet."""
    if PageView.objects.exists():
        return DemoTraffic(0, 0)
    rng = random.Random(seed)  # noqa: S311 - demo data, not a secret
    articles, services = _articles(), _services()
    all_articles = sorted({a for _q, found in articles for a in found})
    all_services = sorted({s for _q, found in services for s in found})
    views: list[PageView] = []
    searches: list[PortalSearch] = []
    now = timezone.now()

    def page(at, session, route, path, *, kind="", ref="", referrer="", site="", query="", status=200):
        views.append(PageView(at=at, session=session, route=route, path=path, object_kind=kind, object_ref=ref,
                              referrer_path=referrer, referrer_site=site, search_query=query,
                              language=rng.choice(["zh-hans"] * 6 + ["en"]), status=status,
                              duration_ms=max(3, int(rng.lognormvariate(3.2, 0.6)))))

    for day in range(days, 0, -1):
        for _ in range(rng.randint(visits_per_day // 2, visits_per_day)):
            session = f"{rng.getrandbits(128):032x}"
            at = now - dt.timedelta(days=day, seconds=rng.randint(0, 86_000))
            step = dt.timedelta(seconds=rng.randint(20, 150))
            path = rng.random()
            if path < 0.25 and all_services:  # from a search engine straight to a service
                page(at, session, "services:item", "/services/<slug:code>/", kind="service",
                     ref=rng.choice(all_services), site=rng.choice(["www.baidu.com", "cn.bing.com", "m.sogou.com"]))
            elif path < 0.6:  # home, help search, an article (or nothing found)
                page(at, session, "portal:index", "/")
                q, found = rng.choice(articles)
                at += step
                page(at, session, "help:search", "/help/", referrer="/")
                searches.append(PortalSearch(at=at, session=session, kind="knowledge", query=normalise_query(q),
                                             results=len(found), language="zh-hans"))
                if found and rng.random() < 0.7:
                    at += step
                    page(at, session, "help:article", "/help/<int:article_id>/", kind="article",
                         ref=rng.choice(found[:3]), referrer="/help/", query=normalise_query(q))
            elif path < 0.85:  # catalogue search, a service, maybe its form
                page(at, session, "services:catalogue", "/services/", site="www.gov.cn" if rng.random() < 0.2 else "")
                q, found = rng.choice(services)
                searches.append(PortalSearch(at=at, session=session, kind="services", query=normalise_query(q),
                                             results=len(found), language="zh-hans"))
                if found:
                    code = rng.choice(found[:3])
                    at += step
                    page(at, session, "services:item", "/services/<slug:code>/", kind="service", ref=code,
                         referrer="/services/", query=normalise_query(q))
                    if rng.random() < 0.4:
                        at += step
                        page(at, session, "services:apply", "/services/<slug:code>/apply/", kind="service", ref=code,
                             referrer="/services/<slug:code>/")
            else:  # home and tracking a request
                page(at, session, "portal:index", "/")
                at += step
                page(at, session, "portal:track", "/track/", referrer="/")
            if all_articles and rng.random() < 0.05:  # an old bookmark
                page(at + step, session, "help:article", "/help/<int:article_id>/", kind="article",
                     ref=str(10**6 + rng.randint(1, 99)), status=404)
    PageView.objects.bulk_create(views, batch_size=2000)
    PortalSearch.objects.bulk_create(searches, batch_size=2000)
    return DemoTraffic(len(views), len(searches))
