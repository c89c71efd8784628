"""The authorisation matrix: every endpoint × every kind of caller, against the expected table below.

Callers (the columns): an anonymous browser; a citizen signed in to the portal (one-time code by
e-mail, `channels/portal/signin.py`) who owns case S; an account with no staff role; each role of
the `city` fixture — the centre's agent, dispatcher, supervisor, analyst and administrator, and the
units' people: the urban department's handler, the East District's manager, the Heping street
handler, the Anding street handler, the water company's handler and the West District's handler.

Objects (the placeholders in the URLs):
- S: the citizen's SMS case with a photo (`att`), dispatched to the Heping street office. In scope for
  the centre, the street handler and the district manager above it; out of scope for the other units.
- W: another citizen's case dispatched to the water company.
- N: a case just registered, not dispatched (no unit sees it).
- R: a 举报 (report) dispatched to the Heping street: the unit sees the case, never the reporter.
- F: the citizen's case waiting for its follow-up 回访.
- topic, warning: a hot topic and its early warning (`topics`).
- KA: a published knowledge article owned by the Heping street office; KV: a draft of it; KX: an
  article with only a draft; gap: a console search that found nothing.

Outcomes: 200/201/204/4xx are HTTP statuses; `LGN` is a redirect to a sign-in page (the console's,
or the admin's); `302` is any other redirect (POST/redirect/GET after a move, the portal's pages).

Nothing changes on GET (but a knowledge gap counted where a row says so), and a refused request
(401/403/404/405/422/429 or LGN) leaves the database exactly as it was (`_state`).
Each caller runs in a savepoint rolled back afterwards, so all start from the same state.

Coverage is derived, not listed by hand: every operation of the NinjaAPI's OpenAPI document and
every named URL pattern of the project (but the admin's, which are derived from the registered
models) must have a row, so that a new endpoint without a row fails `test_every_endpoint_has_a_row`.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from PIL import Image

pytestmark = pytest.mark.django_db

COLUMNS = ("anon", "cit", "nost", "agt", "dsp", "sup", "ana", "adm", "urb", "dmg", "sth", "st2", "wat", "oth")
USERNAMES = {"agt": "agent", "dsp": "dispatcher", "sup": "supervisor", "ana": "analyst", "adm": "admin",
             "urb": "urban_handler", "dmg": "district_manager", "sth": "street_handler",
             "st2": "street2_handler", "wat": "water_handler", "oth": "other_handler"}
REFUSED = frozenset({"401", "403", "404", "405", "422", "429", "LGN"})
CITIZEN_EMAIL = "zhang.san@example.cn"


@dataclass(frozen=True)
class Row:
    endpoint: str  # "GET /api/v1/cases/{number}" (OpenAPI) or a URL name ("console:case")
    method: str
    url: str  # with placeholders of `World`: {S}, {att}, {warning}…
    expect: str  # one outcome per column of COLUMNS; "|" only groups them for the eye
    data: dict | str | None = None  # form fields, or a JSON body (str) for the API
    headers: dict = field(default_factory=dict)
    needs: tuple[str, ...] = ()  # objects of `World` the row needs but does not name in its URL
    get_writes: tuple[str, ...] = ()  # tables a GET may add to (a log of what was asked); else none

    def expected(self) -> dict[str, str]:
        codes = self.expect.replace("|", " ").split()
        assert len(codes) == len(COLUMNS), f"{self.endpoint}: {len(codes)} outcomes for {len(COLUMNS)} columns"
        return dict(zip(COLUMNS, codes, strict=True))


def get(endpoint, url, expect, **kw):
    return Row(endpoint, "GET", url, expect, **kw)


def post(endpoint, url, expect, data=None, **kw):
    return Row(endpoint, "POST", url, expect, data if data is not None else {}, **kw)


def api(endpoint, url, expect, body=None, **kw):
    method = endpoint.split()[0]
    return Row(endpoint, method, url, expect, None if body is None else json.dumps(body), **kw)


# --- the expected table ---------------------------------------------------------------------------
# The REST API: bearer tokens for staff; the citizen's and the no-role account's browser sessions.
# A case outside the caller's scope is 404 (its existence is not revealed); a role that may not make
# a move gets 403; the category tree is public reference data.
API_ROWS = [
    #   endpoint                                   url                                     anon cit nost | agt dsp sup ana adm | urb dmg sth st2 wat oth  # noqa: E501
    api("GET /api/v1/categories", "/api/v1/categories",                             "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    api("GET /api/v1/units", "/api/v1/units",                                       "401 401 403 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    api("GET /api/v1/areas", "/api/v1/areas",                                       "401 401 403 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    api("GET /api/v1/cases", "/api/v1/cases",                                       "401 401 403 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    api("GET /api/v1/cases/{number}", "/api/v1/cases/{S}",                          "401 401 403 | 200 200 200 200 200 | 404 200 200 404 404 404"),  # noqa: E501
    api("GET /api/v1/cases/{number}", "/api/v1/cases/{W}",                          "401 401 403 | 200 200 200 200 200 | 404 404 404 404 200 404"),  # noqa: E501
    api("GET /api/v1/cases/{number}", "/api/v1/cases/{N}",                          "401 401 403 | 200 200 200 200 200 | 404 404 404 404 404 404"),  # noqa: E501
    # Registering a case is intake: the centre's working roles, as in the console.
    api("POST /api/v1/cases", "/api/v1/cases",                                      "401 401 403 | 201 201 201 403 201 | 403 403 403 403 403 403",  # noqa: E501
        body={"category": "urban.lighting.out", "case_type": "complaint", "description": "路灯坏了",
              "area": "d1s1g1"}),
    # A registration answered 202 (peak-hour receipts): polled by the roles that may register; N has none.
    api("GET /api/v1/receipts/{number}", "/api/v1/receipts/{N}",                    "401 401 403 | 404 404 404 403 404 | 403 403 403 403 403 403"),  # noqa: E501
    api("POST /api/v1/cases/{number}/actions/{action}", "/api/v1/cases/{S}/actions/accept",
        #                                                                            anon cit nost | agt dsp sup ana adm | urb dmg sth st2 wat oth  # noqa: E501
        "401 401 403 | 403 403 403 403 403 | 404 200 200 404 404 404", body={}),
    api("POST /api/v1/cases/{number}/actions/{action}", "/api/v1/cases/{N}/actions/dispatch",
        "401 401 403 | 200 200 200 403 200 | 404 404 404 404 404 404", body={"unit": "gov-d1s1"}),
    api("POST /api/v1/cases/{number}/actions/{action}", "/api/v1/cases/{W}/actions/note",
        "401 401 403 | 200 200 200 200 200 | 404 404 404 404 200 404", body={"reason": "已电话联系市民"}),
    api("POST /api/v1/cases/{number}/actions/{action}", "/api/v1/cases/{S}/actions/supervise",
        "401 401 403 | 403 403 200 403 200 | 404 403 403 404 404 404", body={"reason": "请加快办理"}),
    api("GET /api/v1/citizens/lookup", "/api/v1/citizens/lookup?phone=13800138000",
        "401 401 403 | 200 200 200 200 200 | 404 404 404 404 404 404", needs=("S",)),
    api("GET /api/v1/citizens/{citizen_id}", "/api/v1/citizens/{S_citizen}",
        "401 401 403 | 200 200 200 200 200 | 404 200 200 404 404 404"),
    # The reporter of a 举报 stays with the centre, even for the unit handling the case.
    api("GET /api/v1/citizens/{citizen_id}", "/api/v1/citizens/{R_citizen}",
        "401 401 403 | 200 200 200 200 200 | 404 404 404 404 404 404"),
    # The knowledge base: valid published articles for any signed-in account (the same answers are
    # public on the portal's /help/); a draft is not found.
    api("GET /api/v1/knowledge/articles", "/api/v1/knowledge/articles",
        "401 401 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),
    api("GET /api/v1/knowledge/articles/{article_id}", "/api/v1/knowledge/articles/{KA}",
        "401 401 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),
    api("GET /api/v1/knowledge/articles/{article_id}", "/api/v1/knowledge/articles/{KX}",
        "401 401 404 | 404 404 404 404 404 | 404 404 404 404 404 404"),
    api("GET /api/v1/knowledge/search", "/api/v1/knowledge/search?q=路灯",
        "401 401 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),
    # The API's own description is public (no data in it).
    get("api:openapi-json", "/api/v1/openapi.json",
        "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),
    get("api:openapi-view", "/api/v1/docs",
        "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),
]

# The console (/console/…) and the console pages of other apps. Staff only; a case out of scope is 404.
CONSOLE_ROWS = [
    #   URL name                     url                                          anon cit nost | agt dsp sup ana adm | urb dmg sth st2 wat oth  # noqa: E501
    get("console:dashboard", "/console/",                                     "LGN LGN 403 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    get("console:login", "/console/login/",                                   "200 200 302 | 302 302 302 302 302 | 302 302 302 302 302 302"),  # noqa: E501
    post("console:logout", "/console/logout/",                                "302 302 302 | 302 302 302 302 302 | 302 302 302 302 302 302"),  # noqa: E501
    post("console:language", "/console/language/",                            "302 302 302 | 302 302 302 302 302 | 302 302 302 302 302 302",  # noqa: E501
         data={"language": "en", "next": "/console/"}),
    get("console:login_code", "/console/login/code/",                         "302 302 302 | 302 302 302 302 302 | 302 302 302 302 302 302"),  # noqa: E501
    get("console:security", "/console/account/security/",                     "LGN LGN 403 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    # The set-up QR code exists only while the caller sets up a second factor.
    get("console:security_qr", "/console/account/security/qr.svg",            "LGN LGN 403 | 404 404 404 404 404 | 404 404 404 404 404 404"),  # noqa: E501
    get("console:queue", "/console/queues/to_dispatch/",                      "LGN LGN 403 | 200 200 404 404 200 | 404 404 404 404 404 404"),  # noqa: E501
    get("console:queue", "/console/queues/to_accept/",                        "LGN LGN 403 | 404 404 404 404 404 | 200 200 200 200 200 200"),  # noqa: E501
    get("console:case", "/console/cases/{S}/",                                "LGN LGN 403 | 200 200 200 200 200 | 404 200 200 404 404 404"),  # noqa: E501
    get("console:case", "/console/cases/{W}/",                                "LGN LGN 403 | 200 200 200 200 200 | 404 404 404 404 200 404"),  # noqa: E501
    post("console:case_action", "/console/cases/{S}/actions/accept/",         "LGN LGN 403 | 403 403 403 403 403 | 404 302 302 404 404 404"),  # noqa: E501
    post("console:case_action", "/console/cases/{N}/actions/dispatch/",       "LGN LGN 403 | 302 302 302 403 302 | 404 404 404 404 404 404",  # noqa: E501
         data={"dispatch-unit": "gov-d1s1"}),
    post("console:case_action", "/console/cases/{W}/actions/transfer/",       "LGN LGN 403 | 403 302 302 403 302 | 404 404 404 404 403 404",  # noqa: E501
         data={"transfer-unit": "gov-d1s1", "transfer-reason": "不属于本单位"}),
    get("console:case_attachment", "/console/cases/{S}/files/{att}/",         "LGN LGN 403 | 200 200 200 200 200 | 404 200 200 404 404 404"),  # noqa: E501
    # The attachment of S asked for under another case's number.
    get("console:case_attachment", "/console/cases/{W}/files/{att}/",         "LGN LGN 403 | 404 404 404 404 404 | 404 404 404 404 404 404"),  # noqa: E501
    get("console:citizen", "/console/citizens/{S_citizen}/",                  "LGN LGN 403 | 200 200 200 403 200 | 403 403 403 403 403 403"),  # noqa: E501
    get("console:intake", "/console/intake/",                                 "LGN LGN 403 | 200 200 200 403 200 | 403 403 403 403 403 403"),  # noqa: E501
    post("console:intake", "/console/intake/",                                "LGN LGN 403 | 302 302 302 403 302 | 403 403 403 403 403 403",  # noqa: E501
         data={"phone": "13700137000", "citizen_name": "钱七", "language": "zh-hans", "category": "urban.lighting.out",
               "case_type": "complaint", "urgency": "normal", "description": "建设路路灯不亮", "area": "d1s1g1"}),
    get("console:intake_lookup", "/console/intake/lookup?phone=13800138000",  "LGN LGN 403 | 200 200 200 403 200 | 403 403 403 403 403 403",  # noqa: E501
        needs=("S",)),
    # The next best action beside the caller lookup: the centre's intake roles, like the lookup itself.
    get("personal:nba", "/console/personal/citizens/{S_citizen}/nba",          "LGN LGN 403 | 200 200 200 403 200 | 403 403 403 403 403 403"),  # noqa: E501
    get("console:intake_categories", "/console/intake/categories?category_q=路灯",
        "LGN LGN 403 | 200 200 200 403 200 | 403 403 403 403 403 403"),
    get("console:search", "/console/search/?q=路灯",                           "LGN LGN 403 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    # Hot topics and warnings: supervisors, analysts and administrators see; supervisors and administrators decide.
    get("topics:list", "/console/topics/",                                    "LGN LGN 403 | 403 403 200 200 200 | 403 403 403 403 403 403"),  # noqa: E501
    get("topics:topic", "/console/topics/{topic}/",                           "LGN LGN 403 | 403 403 200 200 200 | 403 403 403 403 403 403"),  # noqa: E501
    get("topics:warnings", "/console/topics/warnings/",                       "LGN LGN 403 | 403 403 200 200 200 | 403 403 403 403 403 403"),  # noqa: E501
    get("topics:warning", "/console/topics/warnings/{warning}/",              "LGN LGN 403 | 403 403 200 200 200 | 403 403 403 403 403 403"),  # noqa: E501
    post("topics:warning_dismiss", "/console/topics/warnings/{warning}/dismiss/",
         "LGN LGN 403 | 403 403 302 403 302 | 403 403 403 403 403 403", data={"note": "已知"}),
    post("topics:warning_convert", "/console/topics/warnings/{warning}/convert/",
         "LGN LGN 403 | 403 403 302 403 302 | 403 403 403 403 403 403",
         data={"category": "economy.utilities.water", "unit": "", "urgency": "normal", "title": "", "description": ""}),
    # The dashboards (analytics): supervisors, analysts and administrators see the city, a unit manager
    # its subtree; the other roles are refused. A warehouse refreshed from S and W is there.
    get("analytics:overview", "/dashboards/",                                 "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403",  # noqa: E501
        needs=("warehouse",)),
    get("analytics:rankings", "/dashboards/rankings/",                        "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403",  # noqa: E501
        needs=("warehouse",)),
    get("analytics:export", "/dashboards/export/overview/months.csv",         "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403",  # noqa: E501
        needs=("warehouse",)),
    get("analytics:export", "/dashboards/export/rankings/ranking.xlsx",       "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403",  # noqa: E501
        needs=("warehouse",)),
    # Scheduled reports (reports): the dashboards' roles. A city report for the centre's three, a district
    # report for its manager too; subscribing needs an e-mail address, which these accounts lack (422);
    # a subscription is ended by its owner or an administrator (another's is not found).
    get("reports:list", "/console/reports/",                                  "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403"),  # noqa: E501
    get("reports:download", "/console/reports/{report}.pdf",                  "LGN LGN 403 | 403 403 200 200 200 | 403 404 403 403 403 403"),  # noqa: E501
    get("reports:download", "/console/reports/{report_d1}.xlsx",              "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403"),  # noqa: E501
    get("reports:subscriptions", "/console/reports/subscriptions/",           "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403"),  # noqa: E501
    post("reports:subscriptions", "/console/reports/subscriptions/",          "LGN LGN 403 | 403 403 422 422 422 | 403 422 403 403 403 403",  # noqa: E501
         data={"kind": "weekly", "language": "en", "pdf": "1"}),
    post("reports:subscription_delete", "/console/reports/subscriptions/{subscription}/delete/",
         "LGN LGN 403 | 403 403 302 404 302 | 403 404 403 403 403 403"),
    # Portal use and citizen segments: the city's supervisors, analysts and administrators only (the
    # outreach list masked for analysts; a supervisor's clear read is audited as a sensitive read).
    get("analytics:web", "/dashboards/web/",                                  "LGN LGN 403 | 403 403 200 200 200 | 403 403 403 403 403 403",  # noqa: E501
        needs=("warehouse",)),
    get("analytics:web_export", "/dashboards/web/export/funnel.xlsx",         "LGN LGN 403 | 403 403 200 200 200 | 403 403 403 403 403 403",  # noqa: E501
        needs=("warehouse",)),
    get("analytics:segments", "/dashboards/segments/",                        "LGN LGN 403 | 403 403 200 200 200 | 403 403 403 403 403 403",  # noqa: E501
        needs=("warehouse",)),
    get("analytics:segments_export", "/dashboards/segments/export.csv",       "LGN LGN 403 | 403 403 200 200 200 | 403 403 403 403 403 403",  # noqa: E501
        needs=("warehouse",)),
    get("analytics:outreach", "/dashboards/segments/0/outreach.csv",          "LGN LGN 403 | 403 403 200 200 200 | 403 403 403 403 403 403",  # noqa: E501
        needs=("warehouse",)),
    get("analytics:categories", "/dashboards/categories/",                    "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403",  # noqa: E501
        needs=("warehouse",)),
    get("analytics:deadlines", "/dashboards/deadlines/",                      "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403",  # noqa: E501
        needs=("warehouse",)),
    get("analytics:channels", "/dashboards/channels/",                        "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403",  # noqa: E501
        needs=("warehouse",)),
    get("analytics:map", "/dashboards/map/",                                  "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403",  # noqa: E501
        needs=("warehouse",)),
    get("analytics:export", "/dashboards/export/map/clusters.xlsx",           "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403",  # noqa: E501
        needs=("warehouse",)),
    get("analytics:export", "/dashboards/export/deadlines/units.csv",         "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403",  # noqa: E501
        needs=("warehouse",)),
    # The dispatch loop: the quality page (not agents), suggestions at intake, accepting a suggestion.
    get("intelligence:quality", "/console/dispatch/",                         "LGN LGN 403 | 403 200 200 200 200 | 403 403 403 403 403 403"),  # noqa: E501
    get("intelligence:suggest", "/console/dispatch/suggest?description=路灯不亮",
        "LGN LGN 403 | 200 200 200 403 200 | 403 403 403 403 403 403"),
    post("intelligence:accept", "/console/dispatch/cases/{N}/accept/",         "LGN LGN 403 | 302 302 302 403 302 | 403 403 403 403 403 403"),  # noqa: E501
    # Duplicate incidents (并案): proposals at intake for the centre's intake roles; the case panel wherever the
    # case is visible (units see the incident, not proposals); merging for dispatchers, supervisors, admins.
    get("incidents:similar", "/console/incidents/similar?description=路灯坏了",
        "LGN LGN 403 | 200 200 200 403 200 | 403 403 403 403 403 403"),
    get("incidents:case", "/console/incidents/cases/{S}/",                    "LGN LGN 403 | 200 200 200 200 200 | 404 200 200 404 404 404"),  # noqa: E501
    post("incidents:merge", "/console/incidents/merge/",                      "LGN LGN 403 | 403 302 302 403 302 | 403 403 403 403 403 403",  # noqa: E501
         data={"lead": "{N}", "cases": "{S}", "reason": "同一路灯"}),
    # Applications for public services (services app): the centre reads every application (to answer
    # callers), the responsible unit's subtree reads and works on it; only its handlers and managers
    # may accept (claim) a task, and a task not yet accepted cannot be decided (409).
    get("applications:queue", "/console/applications/",                      "LGN LGN 403 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    get("applications:detail", "/console/applications/{APP}/",               "LGN LGN 403 | 200 200 200 200 200 | 404 200 200 404 404 404"),  # noqa: E501
    post("applications:claim", "/console/applications/{APP}/tasks/{WI}/claim/", "LGN LGN 403 | 403 403 403 403 403 | 404 302 302 404 404 404"),  # noqa: E501
    post("applications:complete", "/console/applications/{APP}/tasks/{WI}/complete/", "LGN LGN 403 | 403 403 403 403 403 | 404 409 409 404 404 404",  # noqa: E501
         data={"decision": "approve"}),
    get("applications:material", "/console/applications/{APP}/materials/{MAT}/", "LGN LGN 403 | 200 200 200 200 200 | 404 200 200 404 404 404",  # noqa: E501
        get_writes=("audit.AuditRecord",)),
    # Webhook deliveries to department systems (integration): administrators only; a retry is a POST.
    get("integration:deliveries", "/console/integration/",                    "LGN LGN 403 | 403 403 403 403 200 | 403 403 403 403 403 403"),  # noqa: E501
    get("integration:delivery", "/console/integration/deliveries/{dead}/",    "LGN LGN 403 | 403 403 403 403 200 | 403 403 403 403 403 403"),  # noqa: E501
    post("integration:retry", "/console/integration/deliveries/{dead}/retry/",
         "LGN LGN 403 | 403 403 403 403 302 | 403 403 403 403 403 403"),
    # Registries and duplicate citizen records (identity): supervisors and administrators only. An
    # administrator sees the ID numbers of a proposal in clear (an audited sensitive read).
    get("identity:proposals", "/console/identity/",                             "LGN LGN 403 | 403 403 200 403 200 | 403 403 403 403 403 403"),  # noqa: E501
    get("identity:proposal", "/console/identity/proposals/{proposal}/",       "LGN LGN 403 | 403 403 200 403 200 | 403 403 403 403 403 403"),  # noqa: E501
    post("identity:proposal_accept", "/console/identity/proposals/{proposal}/accept/", "LGN LGN 403 | 403 403 302 403 302 | 403 403 403 403 403 403",  # noqa: E501
         data={"note": "同一人"}),
    post("identity:proposal_reject", "/console/identity/proposals/{proposal}/reject/", "LGN LGN 403 | 403 403 302 403 302 | 403 403 403 403 403 403",  # noqa: E501
         data={"note": "不同的人"}),
    post("identity:run", "/console/identity/run/",                              "LGN LGN 403 | 403 403 302 403 302 | 403 403 403 403 403 403"),  # noqa: E501
    get("identity:imports", "/console/identity/registries/",                    "LGN LGN 403 | 403 403 200 403 200 | 403 403 403 403 403 403"),  # noqa: E501
    post("identity:imports", "/console/identity/registries/",                   "LGN LGN 403 | 403 403 422 403 422 | 403 403 403 403 403 403",  # noqa: E501
         data={"kind": "residents", "source": "民政局"}),
    get("identity:import", "/console/identity/registries/{regimport}/",       "LGN LGN 403 | 403 403 200 403 200 | 403 403 403 403 403 403"),  # noqa: E501
    # The call centre's staff pages (hotline centre roles).
    get("callcentre:pop", "/channels/cti/pop/",                               "LGN LGN 403 | 200 200 200 403 200 | 403 403 403 403 403 403"),  # noqa: E501
    post("callcentre:link", "/channels/cti/calls/no-such-call/link",          "LGN LGN 403 | 422 422 422 403 422 | 403 403 403 403 403 403",  # noqa: E501
         data={"case": "{S}"}),
    get("callcentre:followups", "/channels/cti/followups/",                   "LGN LGN 403 | 200 200 200 403 200 | 403 403 403 403 403 403"),  # noqa: E501
    get("callcentre:followup", "/channels/cti/followups/{F}/",                "LGN LGN 403 | 200 200 200 403 200 | 403 403 403 403 403 403"),  # noqa: E501
    post("callcentre:followup", "/channels/cti/followups/{F}/",               "LGN LGN 403 | 302 302 302 403 302 | 403 403 403 403 403 403",  # noqa: E501
         data={"reached": "yes", "resolved": "yes", "satisfied": "yes", "rating": "5", "note": ""}),
    get("fax:upload", "/channels/fax/upload/",                                "LGN LGN 403 | 200 200 200 403 200 | 403 403 403 403 403 403"),  # noqa: E501
    # Process mining: supervisors, analysts and administrators see the city, a unit manager its subtree.
    get("mining:overview", "/console/mining/",                                "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403"),  # noqa: E501
    get("mining:export_xes", "/console/mining/export.xes",                    "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403"),  # noqa: E501
    get("mining:export_csv", "/console/mining/export.csv",                    "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403"),  # noqa: E501
]

# The knowledge base in the console. KA is owned by the Heping street office: knowledge managers are
# supervisors and administrators (every article) and unit managers (their subtree's articles: the
# district manager); the gap list and figures add analysts; article suggestions at intake are the
# centre's. KV is a draft of KA; gap a search that found nothing.
ARTICLE_TEXT = {"language": "zh-hans", "title": "路灯报修", "keywords": "", "body": "路灯不亮请拨打12345。",
                "note": ""}
KNOWLEDGE_ROWS = [
    #   URL name                 url                                                anon cit nost | agt dsp sup ana adm | urb dmg sth st2 wat oth  # noqa: E501
    get("knowledge:list", "/console/knowledge/",                                "LGN LGN 403 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    get("knowledge:new", "/console/knowledge/new/",                             "LGN LGN 403 | 403 403 200 403 200 | 403 200 403 403 403 403"),  # noqa: E501
    post("knowledge:new", "/console/knowledge/new/",                            "LGN LGN 403 | 403 403 302 403 302 | 403 302 403 403 403 403",  # noqa: E501
         data={**ARTICLE_TEXT, "key": "new-article", "owner_unit": "gov-d1s1", "owner_staff": "", "categories": "",
               "valid_from": "", "valid_until": ""}),
    get("knowledge:article", "/console/knowledge/{KA}/",                        "LGN LGN 403 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    get("knowledge:edit", "/console/knowledge/{KA}/edit/zh-hans/",              "LGN LGN 403 | 403 403 200 403 200 | 403 200 403 403 403 403"),  # noqa: E501
    post("knowledge:edit", "/console/knowledge/{KA}/edit/zh-hans/",             "LGN LGN 403 | 403 403 302 403 302 | 403 302 403 403 403 403",  # noqa: E501
         data=ARTICLE_TEXT),
    post("knowledge:settings", "/console/knowledge/{KA}/settings/",             "LGN LGN 403 | 403 403 302 403 302 | 403 302 403 403 403 403",  # noqa: E501
         data={"owner_unit": "gov-d1s1", "owner_staff": "", "categories": "", "valid_from": "", "valid_until": ""}),
    post("knowledge:publish", "/console/knowledge/versions/{KV}/publish/",      "LGN LGN 403 | 403 403 302 403 302 | 403 302 403 403 403 403"),  # noqa: E501
    post("knowledge:unpublish", "/console/knowledge/{KA}/unpublish/zh-hans/",   "LGN LGN 403 | 403 403 302 403 302 | 403 302 403 403 403 403"),  # noqa: E501
    get("knowledge:gaps", "/console/knowledge/gaps/",                           "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403"),  # noqa: E501
    post("knowledge:gap_dismiss", "/console/knowledge/gaps/{gap}/dismiss/",     "LGN LGN 403 | 403 403 302 403 302 | 403 302 403 403 403 403"),  # noqa: E501
    get("knowledge:deflection", "/console/knowledge/deflection/",               "LGN LGN 403 | 403 403 200 200 200 | 403 200 403 403 403 403"),  # noqa: E501
    get("knowledge:suggest", "/console/knowledge/suggest?description=路灯不亮", "LGN LGN 403 | 200 200 200 403 200 | 403 403 403 403 403 403"),  # noqa: E501
    # Self-service answers on the portal: public.
    # A search that finds nothing is counted as a knowledge gap: the one write a GET may make.
    get("help:search", "/help/?q=路灯",                                          "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200",  # noqa: E501
        get_writes=("knowledge.KnowledgeGap",)),
    get("help:article", "/help/{KA}/",                                          "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    get("help:article", "/help/{KX}/",                                          "404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 404"),  # noqa: E501
    get("help:offers", "/help/offers?description=路灯不亮了",                    "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    post("help:answer", "/help/{KA}/answer/",                                   "302 302 302 | 302 302 302 302 302 | 302 302 302 302 302 302",  # noqa: E501
         data={"token": "0b7c1c9e-3f7a-4a1e-9d59-2f3c1c0b9a11", "kb_answer": "yes", "description": "路灯不亮了"}),
    get("help:thanks", "/help/{KA}/answered/",                                  "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
]

# The citizen portal at /: open pages; a case's page only for the browser that proved it (its code)
# or the signed-in citizen whose case it is; the others are sent to the tracking form.
PORTAL_ROWS = [
    #   URL name                 url                                   anon cit nost | agt dsp sup ana adm | urb dmg sth st2 wat oth  # noqa: E501
    get("portal:index", "/",                                       "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    get("portal:categories", "/categories/?category_q=路灯",        "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    get("portal:submitted", "/submitted/{S}/",                     "404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 404"),  # noqa: E501
    get("portal:track", "/track/",                                 "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    get("portal:case", "/track/{S}/",                              "302 200 302 | 302 302 302 302 302 | 302 302 302 302 302 302"),  # noqa: E501
    get("portal:case", "/track/{W}/",                              "302 302 302 | 302 302 302 302 302 | 302 302 302 302 302 302"),  # noqa: E501
    post("portal:feedback", "/track/{F}/feedback/",                "404 302 404 | 404 404 404 404 404 | 404 404 404 404 404 404",  # noqa: E501
         data={"resolved": "yes", "satisfied": "yes", "rating": "5", "comment": ""}),
    post("portal:reopen", "/track/{W}/reopen/",                    "404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 404",  # noqa: E501
         data={"reason": "还是没修好"}),
    get("portal:mine", "/mine/",                                   "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    post("portal:forget", "/mine/forget/",                         "302 302 302 | 302 302 302 302 302 | 302 302 302 302 302 302"),  # noqa: E501
    get("portal:signin", "/signin/",                               "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    get("portal:signin_code", "/signin/code/",                     "302 302 302 | 302 302 302 302 302 | 302 302 302 302 302 302"),  # noqa: E501
    post("portal:signout", "/signout/",                            "302 302 302 | 302 302 302 302 302 | 302 302 302 302 302 302"),  # noqa: E501
    # Suggestions and reminders: a page for everyone, personal only for the signed-in citizen.
    get("for_you:index", "/for-you/",                              "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    # The service catalogue: open pages; applying needs a citizen signed in to the portal, and an
    # application is seen (and withdrawn) only by its citizen.
    get("services:catalogue", "/services/",                        "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    get("services:item", "/services/{SVC}/",                       "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    get("services:apply", "/services/{SVC}/apply/",                "403 200 403 | 403 403 403 403 403 | 403 403 403 403 403 403"),  # noqa: E501
    post("services:apply", "/services/{SVC}/apply/",               "403 422 403 | 403 403 403 403 403 | 403 403 403 403 403 403",  # noqa: E501
         data={"name": ""}),
    get("services:mine", "/services/mine/",                        "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    get("services:application", "/services/applications/{APP}/",  "404 200 404 | 404 404 404 404 404 | 404 404 404 404 404 404"),  # noqa: E501
    post("services:withdraw", "/services/applications/{APP}/withdraw/", "404 302 404 | 404 404 404 404 404 | 404 404 404 404 404 404"),  # noqa: E501
    get("healthz", "/healthz",                                     "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    post("set_language", "/i18n/setlang/",                         "302 302 302 | 302 302 302 302 302 | 302 302 302 302 302 302",  # noqa: E501
         data={"language": "en", "next": "/"}),
]

# Machine interfaces: Open311 (GET public, POST with a client's api_key, never a session) and the
# channels' webhooks (their own shared secret or signature): a staff session opens nothing there.
MACHINE_ROWS = [
    #   URL name                   url                                               anon cit nost | agt dsp sup ana adm | urb dmg sth st2 wat oth  # noqa: E501
    get("open311:base", "/open311/v2/",                                          "404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 404"),  # noqa: E501
    get("open311:discovery", "/open311/v2/discovery.json",                       "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    get("open311:services", "/open311/v2/services.json",                         "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    get("open311:service", "/open311/v2/services/urban.lighting.out.json",       "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    get("open311:requests", "/open311/v2/requests.json",                         "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    # Only requests that came in by Open311 are public there: S (an SMS) is not, whoever asks.
    get("open311:request", "/open311/v2/requests/{S}.json",                      "404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 404"),  # noqa: E501
    get("open311:token", "/open311/v2/tokens/{S}.json",                          "404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 404"),  # noqa: E501
    get("open311:updates", "/open311/v2/servicerequestupdates.json",             "200 200 200 | 200 200 200 200 200 | 200 200 200 200 200 200"),  # noqa: E501
    post("open311:requests", "/open311/v2/requests.json",                        "403 403 403 | 403 403 403 403 403 | 403 403 403 403 403 403",  # noqa: E501
         data={"service_code": "urban.lighting.out", "lat": "30.66", "long": "104.06", "description": "路灯坏了"}),
    post("open311:updates", "/open311/v2/servicerequestupdates.json",            "403 403 403 | 403 403 403 403 403 | 403 403 403 403 403 403",  # noqa: E501
         data={"service_request_id": "{S}", "update_id": "1", "status": "OPEN", "description": "还没修",
               "updated_datetime": "2026-01-01T00:00:00+08:00"}),
    get("open311:<path>", "/open311/v2/anything/else.json",                       "404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 404"),  # noqa: E501
    post("callcentre:events", "/channels/cti/events",                            "401 401 401 | 401 401 401 401 401 | 401 401 401 401 401 401",  # noqa: E501
         data=json.dumps({"event": "ringing", "call_id": "c1", "caller": "13800138000"})),
    post("sms:inbound", "/channels/sms/inbound",                                 "403 403 403 | 403 403 403 403 403 | 403 403 403 403 403 403",  # noqa: E501
         data={"from": "13800138000", "text": "路灯坏了", "id": "m1"}),
    post("wechat:endpoint", "/channels/wechat/?signature=x&timestamp=1&nonce=2",   "403 403 403 | 403 403 403 403 403 | 403 403 403 403 403 403",  # noqa: E501
         data="<xml><ToUserName>gh</ToUserName></xml>"),
]

# The admin (/admin/): only staff accounts of Django's own (the administrator is one, as in the demo).
# Each registered model's list and add page, derived below from the admin site's registry.
ADMIN_EXPECT = "LGN LGN LGN | LGN LGN LGN LGN 200 | LGN LGN LGN LGN LGN LGN"
ADMIN_ROWS = [
    get("admin:index", "/admin/", ADMIN_EXPECT),
    # A change posted by anyone but the administrator stores nothing.
    post("admin:organization_unit_add", "/admin/organization/unit/add/",
         "LGN LGN LGN | LGN LGN LGN LGN 302 | LGN LGN LGN LGN LGN LGN",
         data={"code": "new-unit", "name_zh": "新单位", "name_en": "New unit", "kind": "agency", "parent": "",
               "area": "", "active": "on", "contact_email": ""}),
]


# Records that only the system writes (audit log, task results, cases, tokens…) have no add page:
# the administrator gets 403 there, as each ModelAdmin's has_add_permission says.
ADMIN_NO_ADD = ADMIN_EXPECT.replace("200", "403")


def admin_model_rows() -> list[Row]:
    request = RequestFactory().get("/admin/")
    request.user = get_user_model()(is_active=True, is_staff=True, is_superuser=True)
    rows = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        rows.append(get(f"admin:{opts.app_label}_{opts.model_name}_changelist", base, ADMIN_EXPECT))
        add = ADMIN_EXPECT if model_admin.has_add_permission(request) else ADMIN_NO_ADD
        rows.append(get(f"admin:{opts.app_label}_{opts.model_name}_add", f"{base}add/", add))
    return rows


def all_rows() -> list[Row]:
    return [*API_ROWS, *CONSOLE_ROWS, *KNOWLEDGE_ROWS, *PORTAL_ROWS, *MACHINE_ROWS, *ADMIN_ROWS, *admin_model_rows()]


# --- the world the rows act on --------------------------------------------------------------------


class World:
    """The small city's cases, citizen, attachment, topic and warning, made only when a row needs them."""

    def __init__(self, city):
        self.city = city
        self._made: dict[str, object] = {}

    def __getitem__(self, key: str):  # str.format_map
        if key not in self._made:
            self._made[key] = getattr(self, f"make_{key}")()
        return self._made[key]

    def fill(self, text: str) -> str:
        return text.format_map(self)

    # cases
    def make_S(self):  # noqa: N802 - the placeholder's name
        from govcrm.cases.tests.factories import move
        from govcrm.channels.intake import IntakeMessage, intake_receive
        from govcrm.channels.uploads import clean_image
        from govcrm.citizens.actions import citizen_input_clean

        png = io.BytesIO()
        Image.new("RGB", (8, 8), "blue").save(png, "PNG")
        case = intake_receive(IntakeMessage(
            channel="sms", text="和平街12号路灯坏了，附照片", external_id="authz-1",
            citizen=citizen_input_clean(name="张三", phone="13800138000", email=CITIZEN_EMAIL),
            attachments=(clean_image(png.getvalue(), "lamp.png"),))).case
        move(self.city.actor("dispatcher"), case, "dispatch", unit=self.city.street1.code)
        return case.number

    def make_S_citizen(self):  # noqa: N802
        from govcrm.cases.models import Case

        return Case.objects.get(number=self["S"]).citizen_id

    def make_att(self):
        from govcrm.channels.models import Attachment

        return Attachment.objects.get(interaction__case__number=self["S"]).pk

    def _registered(self, citizen: dict, **fields):
        from govcrm.cases.tests.factories import register

        return register(self.city.actor("agent"), citizen=citizen, **fields)

    def make_W(self):  # noqa: N802
        from govcrm.cases.tests.factories import move

        case = self._registered({"name": "李四", "phone": "+8613900139000"}, description="自来水管漏水")
        move(self.city.actor("dispatcher"), case, "dispatch", unit=self.city.water.code)
        return case.number

    def make_N(self):  # noqa: N802
        return self._registered({"name": "王五", "phone": "+8613600136000"}).number

    def make_R(self):  # noqa: N802
        from govcrm.cases.tests.factories import move

        case = self._registered({"name": "赵六", "phone": "+8613500135000"}, case_type="report",
                                description="和平街有人占道经营")
        move(self.city.actor("dispatcher"), case, "dispatch", unit=self.city.street1.code)
        return case.number

    def make_R_citizen(self):  # noqa: N802
        from govcrm.cases.models import Case

        return Case.objects.get(number=self["R"]).citizen_id

    def make_F(self):  # noqa: N802
        from govcrm.cases.tests.factories import move

        city = self.city
        self["S"]  # the citizen record first, with its e-mail address
        case = self._registered({"name": "张三", "phone": "+8613800138000"})
        move(city.actor("dispatcher"), case, "dispatch", unit=city.street1.code)
        move(city.actor("street_handler"), case, "accept")
        move(city.actor("street_handler"), case, "reply", reply="路灯已修复。")
        move(city.actor("dispatcher"), case, "review")
        return case.number

    def _detected(self):
        from govcrm.topics.actions import topics_detect
        from govcrm.topics.models import Topic, Warning
        from govcrm.topics.tests.factories import incident

        cases = incident(self.city.actor("agent"))
        run = topics_detect()
        self._made["topic"] = Topic.objects.get(run=run, links__case=cases[0]).pk
        self._made["warning"] = Warning.objects.get(kind=Warning.Kind.TOPIC).pk

    def make_topic(self):
        self._detected()
        return self._made["topic"]

    def make_warning(self):
        self._detected()
        return self._made["warning"]

    # the analytics warehouse (its file is the test's own, see _own_warehouse)
    def make_warehouse(self):
        from govcrm.analytics.actions import warehouse_refresh

        self["S"], self["W"]
        warehouse_refresh(full=True)
        return ""

    # integration: a webhook delivery of W's registration that ran out of attempts (a dead letter)
    def make_dead(self):
        from govcrm.integration.actions import subscriber_create
        from govcrm.integration.models import Delivery

        subscriber_create(name="water system", url="http://127.0.0.1:9/events", unit=self.city.water)
        self["W"]
        Delivery.objects.filter(subject=self["W"]).update(status=Delivery.Status.DEAD, attempts=10)
        return Delivery.objects.filter(subject=self["W"]).first().pk

    # scheduled reports: stored reports (their bytes need not be a whole file here) and a subscription
    def _report(self, unit):
        import datetime as dt

        from django.utils import timezone

        from govcrm.reports.models import Report

        return Report.objects.create(kind="weekly", period_start=dt.date(2026, 3, 2), period_end=dt.date(2026, 3, 8),
                                     scope_path=unit.path if unit else "", scope_unit=unit, language="zh-hans",
                                     as_of=timezone.now(), pdf=b"%PDF-1.4", xlsx=b"PK").pk

    def make_report(self):
        return self._report(None)

    def make_report_d1(self):
        return self._report(self.city.district)

    def make_subscription(self):
        from govcrm.reports.models import Subscription

        return Subscription.objects.create(user=self.city.users["supervisor"], kind="weekly", language="zh-hans").pk

    # knowledge
    def make_KA(self):  # noqa: N802
        from govcrm.knowledge.tests.factories import ArticleFactory, ArticleVersionFactory

        article = ArticleFactory(key="street-lights", owner_unit=self.city.street1)
        ArticleVersionFactory(article=article, number=1, title="路灯不亮怎么办",
                              body="路灯不亮可拨打12345或在网站报修。")
        return article.pk

    def make_KV(self):  # noqa: N802
        from govcrm.knowledge.models import ArticleVersion, VersionStatus
        from govcrm.knowledge.tests.factories import ArticleVersionFactory

        article = ArticleVersion.objects.get(article_id=self["KA"]).article
        return ArticleVersionFactory(article=article, number=2, status=VersionStatus.DRAFT, title="路灯不亮怎么办",
                                     body="路灯不亮可拨打12345、在网站或微信报修。").pk

    def make_KX(self):  # noqa: N802
        from govcrm.knowledge.models import VersionStatus
        from govcrm.knowledge.tests.factories import ArticleFactory, ArticleVersionFactory

        article = ArticleFactory(key="draft-only", owner_unit=self.city.street1)
        ArticleVersionFactory(article=article, number=1, status=VersionStatus.DRAFT, title="草稿")
        return article.pk

    def make_gap(self):
        from govcrm.knowledge.actions import gap_record

        return gap_record(query="居住证续签需要哪些材料", channel="console").pk

    # services: the senior allowance run by the Heping street office, applied for by the citizen of S
    def make_SVC(self):  # noqa: N802
        from govcrm.services.catalogue import ITEMS
        from govcrm.services.loading import load_processes
        from govcrm.services.models import ServiceItem

        load_processes()
        row = next(r for r in ITEMS if r["code"] == "senior-allowance")
        fields = {k: v for k, v in row.items() if k not in {"code", "unit"}}
        return ServiceItem.objects.create(code=row["code"], unit=self.city.street1, online=True, **fields).code

    def make_APP(self):  # noqa: N802
        from govcrm.citizens.models import Citizen
        from govcrm.services.actions import Upload, application_submit
        from govcrm.services.models import ServiceItem
        from govcrm.services.tests.factories import PDF, senior_form

        service = ServiceItem.objects.get(code=self["SVC"])
        return application_submit(
            service=service, citizen=Citizen.objects.get(pk=self["S_citizen"]), raw_form=senior_form(),
            uploads=[Upload(key=k, name=f"{k}.pdf", data=PDF) for k in ("id_card", "hukou")]).number

    def make_WI(self):  # noqa: N802
        from govcrm.services.models import WorkItem

        return WorkItem.objects.get(application__number=self["APP"], state="open").pk

    def make_MAT(self):  # noqa: N802
        from govcrm.services.models import ApplicationMaterial

        return ApplicationMaterial.objects.filter(application__number=self["APP"]).first().pk

    # identity resolution
    def make_proposal(self):
        from govcrm.citizens.models import Citizen
        from govcrm.identity.models import MatchProposal

        older, newer = Citizen.objects.create(name="李雪梅"), Citizen.objects.create(name="李雪梅")
        return MatchProposal.objects.create(
            kind="merge", pair_key=f"c:{older.pk}|c:{newer.pk}", citizen=older, other_citizen=newer,
            match_weight=15.0, match_probability=0.999, levels={"name": 3}, weights={"name": 7.0}).pk

    def make_regimport(self):
        from govcrm.identity.actions import registry_import
        from govcrm.organization.queries import SYSTEM

        data = "姓名,身份证号\n张伟,110105198003141239\n".encode()
        return registry_import(actor=SYSTEM, data=data, file_name="户籍.csv", kind="residents", source="公安局").pk

    # callers
    def prepare_callers(self, *, tokens: bool = True) -> None:
        """Accounts and API tokens, made once before the rows run (not inside a caller's savepoint)."""
        from govcrm.organization.actions import api_token_create

        user_model = get_user_model()
        self.outsider = user_model.objects.create_user("outsider", password="pass-12345")
        # The administrator may use Django's admin, as the demo's administrator does.
        user_model.objects.filter(username="admin").update(is_staff=True, is_superuser=True)
        self.tokens = {col: api_token_create(username=name) for col, name in USERNAMES.items()} if tokens else {}

    def client(self, column: str) -> Client:
        client = Client()
        if column == "anon":
            return client
        if column == "cit":
            self.citizen_sign_in(client)
            return client
        if column == "nost":
            client.force_login(self.outsider)
            return client
        user = get_user_model().objects.get(username=USERNAMES[column])
        client.force_login(user)
        if column in self.tokens:
            client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {self.tokens[column]}"
        return client

    @staticmethod
    def citizen_sign_in(client: Client) -> None:
        """The portal's sign-in as a citizen does it: a code by e-mail, typed back."""
        assert client.post("/signin/", {"identity": CITIZEN_EMAIL}).status_code == 302
        code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
        assert client.post("/signin/code/", {"code": code}).status_code == 302


def _outcome(response) -> str:
    if response.status_code in (301, 302, 303):
        location = response["Location"]
        if location.startswith((settings.LOGIN_URL, "/admin/login/")) and "next=" in location:
            return "LGN"
        return "302"
    return str(response.status_code)


def _counted_models() -> list:
    ours = {c.label for c in apps.get_app_configs() if c.name.startswith("govcrm.")}
    return [m for m in apps.get_models() if m._meta.app_label in ours and not m._meta.proxy]


def _state() -> dict:
    """What a refused request (or any GET) must not change: row counts of every GovCRM table (audit
    records of reads aside), and the cases' and warnings' decision fields. One query for the counts."""
    from govcrm.cases.models import Case
    from govcrm.topics.models import Warning

    models = _counted_models()
    quote = connection.ops.quote_name
    parts = []
    for m in models:
        sql = f"SELECT COUNT(*) FROM {quote(m._meta.db_table)}"  # noqa: S608 - our own table names
        if m._meta.label == "audit.AuditRecord":  # a refused move shows the case page again: its read is audited
            sql += " WHERE action <> 'citizen.read_sensitive'"
        parts.append(f"({sql})")
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        counts = dict(zip([m._meta.label for m in models], cursor.fetchone(), strict=True))
    counts["auth.User"] = get_user_model().objects.count()
    cases = list(Case.objects.order_by("pk").values_list(
        "number", "status", "version", "lead_unit_id", "category_id", "supervision_level", "citizen_id"))
    warnings = list(Warning.objects.order_by("pk").values_list("pk", "status"))
    return {"counts": counts, "cases": cases, "warnings": warnings}


def _diff(before: dict, after: dict, allowed: tuple[str, ...] = ()) -> dict:
    counts = {k: (v, after["counts"].get(k)) for k, v in before["counts"].items()
              if after["counts"].get(k) != v and k not in allowed}
    cases = set(after["cases"]) ^ set(before["cases"])
    warnings = set(after["warnings"]) ^ set(before["warnings"])
    return {"counts": counts, "cases": sorted(cases), "warnings": sorted(warnings)}


def _request(client: Client, row: Row, world: World):
    url = world.fill(row.url)
    if row.method == "GET":
        return client.get(url, headers=row.headers)
    if isinstance(row.data, str):
        content_type = "application/json" if row.data.startswith(("{", "[")) else "text/xml"
        return client.generic(row.method, url, row.data, content_type=content_type, headers=row.headers)
    data = {k: world.fill(v) if isinstance(v, str) else v for k, v in (row.data or {}).items()}
    return client.post(url, data, headers=row.headers)


def _row_id(row: Row) -> str:
    return f"{row.method} {row.url}"


@pytest.fixture(autouse=True)
def _own_warehouse(settings, tmp_path):
    """The dashboards read a warehouse file of the test's own, never one under $GOVCRM_HOME."""
    settings.GOVCRM_WAREHOUSE = tmp_path / "warehouse" / "matrix.duckdb"


@pytest.mark.parametrize("row", all_rows(), ids=_row_id)
def test_matrix(city, row: Row):
    world = World(city)
    world.prepare_callers(tokens=row.url.startswith("/api/"))
    for key in [*re.findall(r"\{(\w+)\}", row.url + json.dumps(row.data)), *row.needs]:
        world[key]  # made before the savepoints, so that every caller meets the same objects
    expected = row.expected()
    wrong, changed = [], []
    for column in COLUMNS:
        savepoint = transaction.savepoint()
        try:
            client = world.client(column)
            mail.outbox.clear()
            before = _state()
            outcome = _outcome(_request(client, row, world))
            if outcome != expected[column]:
                wrong.append(f"{column}: expected {expected[column]}, got {outcome}")
            if row.method == "GET" or outcome in REFUSED:
                diff = _diff(before, _state(), allowed=row.get_writes if row.method == "GET" else ())
                if any(diff.values()):
                    changed.append(f"{column}: {row.method} answered {outcome} but the database changed: {diff}")
        finally:
            transaction.savepoint_rollback(savepoint)
            cache.clear()
    assert not wrong and not changed, f"{row.endpoint} {row.method} {row.url}\n" + "\n".join(wrong + changed)


# --- every endpoint has a row ---------------------------------------------------------------------


def _api_operations() -> set[str]:
    from config.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1")
    return {f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops}


def _named_patterns(resolver=None, namespace: str = "", prefix: str = "") -> set[str]:
    """Names of the project's URL patterns ("console:case"), or "ns:<route>" for an unnamed one.

    The admin is covered by `admin_model_rows` and the API by its OpenAPI operations."""
    resolver = resolver or get_resolver()
    names = set()
    for p in resolver.url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            if route in ("admin/", "api/v1/"):
                continue
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            names |= _named_patterns(p, ns, route)
        elif isinstance(p, URLPattern):
            names.add(f"{namespace}{p.name}" if p.name else f"{namespace}<{route.rsplit('<', 1)[-1].split('>')[0]}>")
    return names


def test_every_endpoint_has_a_row():
    rows = {row.endpoint for row in all_rows()}
    api_ops = _api_operations()
    assert api_ops - rows == set(), "API operations without a row in the authorisation matrix"
    assert {r for r in rows if r.split()[0] in ("GET", "POST", "PUT", "PATCH", "DELETE")} - api_ops == set(), \
        "rows for API operations that no longer exist"
    pages = _named_patterns()
    assert pages - rows == set(), "URL patterns without a row in the authorisation matrix"
    assert len(api_ops) >= 8 and len(pages) >= 50  # the derivation itself works


def test_every_column_is_a_distinct_caller(city):
    world = World(city)
    world.prepare_callers()
    seen = {}
    for column in COLUMNS:
        client = world.client(column)
        seen[column] = (client.session.get("_auth_user_id"), client.defaults.get("HTTP_AUTHORIZATION"),
                        client.session.get("portal_identity", {}).get("value"))
    assert len(set(seen.values())) == len(COLUMNS)
    assert seen["cit"][2] == CITIZEN_EMAIL



# --- what the lists show --------------------------------------------------------------------------
# The lists answer 200 to every staff member (above); what they list is the caller's scope.
#                   S  W  N  R   (see the module docstring)
LIST_SCOPE = {
    "agt": "S W N R", "dsp": "S W N R", "sup": "S W N R", "ana": "S W N R", "adm": "S W N R",
    "urb": "", "dmg": "S R", "sth": "S R", "st2": "", "wat": "W", "oth": "",
}


@pytest.mark.parametrize("column", list(LIST_SCOPE))
def test_lists_show_only_the_cases_in_scope(city, column):
    world = World(city)
    world.prepare_callers()
    numbers = {world[key]: key for key in ("S", "W", "N", "R")}
    client = world.client(column)
    listed = {c["number"] for c in client.get("/api/v1/cases?page_size=500").json()["items"]}
    assert sorted(numbers[n] for n in listed & numbers.keys()) == sorted(LIST_SCOPE[column].split())
    found = client.get("/console/search/", {"q": "和平街"}).content.decode()  # words of S, N and R, not W
    assert sorted(k for n, k in numbers.items() if n in found) == sorted(set(LIST_SCOPE[column].split()) - {"W"})


@pytest.mark.parametrize(("language", "words"), [("en", "Only hotline centre staff"), ("zh-hans", "只有热线中心")])
def test_a_refused_registration_says_why_in_the_callers_language(city, language, words):
    world = World(city)
    world.prepare_callers()
    client = world.client("ana")
    body = {"category": "urban.lighting.out", "case_type": "complaint", "description": "路灯坏了"}
    r = client.post("/api/v1/cases", json.dumps(body), content_type="application/json",
                    headers={"Accept-Language": language})
    assert r.status_code == 403 and words in r.json()["message"] and r.json()["code"] == "forbidden"
