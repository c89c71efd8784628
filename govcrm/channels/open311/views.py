"""The GeoReport v2 resources under /open311/v2/, each as `.xml` and `.json`.

Each view parses its input (`inputs`), calls one query or action, and renders (`render`).
Rules of every resource (the `resource` decorator):
- the format is the suffix, `xml` or `json`; another suffix is a 404 in XML;
- `jurisdiction_id` is optional (one jurisdiction: GOVCRM_JURISDICTION); another value is a 404;
- the language of names is `locale` (en…, zh…) or else Accept-Language; the default is zh-hans;
- refusals are the spec's error list with 400, 403 or 404, and store nothing;
- a database that cannot be reached is the error list with 503 and `Retry-After` (common/outage.py):
  FixMyStreet and other clients retry any non-2xx answer, and the retry is idempotent;
- POSTs need the client's `api_key`, in the body or the query string (403 without a valid one);
  GETs need none. Nothing changes state on GET.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from govcrm.common.errors import DomainError, Forbidden, NotFound
from govcrm.common.outage import RETRY_AFTER_SECONDS, UNAVAILABLE_ERRORS, unavailable_message

from . import actions, inputs, queries
from .models import Open311Client
from .render import FORMATS, Open311Error, Open311Errors, render, render_errors


def _language(request: HttpRequest) -> str:
    wanted = (request.GET.get("locale") or request.POST.get("locale") or "").strip().lower().replace("_", "-")
    if wanted.startswith("en"):
        return "en"
    if wanted.startswith("zh"):
        return "zh-hans"
    current = translation.get_language() or settings.LANGUAGE_CODE
    return "en" if current.startswith("en") else "zh-hans"


def _body_readable(request: HttpRequest) -> bool:
    """Parse the form body once: False if it is malformed, too big or has too many fields."""
    try:
        request.POST  # noqa: B018 - parsing is the point
    except (MultiPartParserError, SuspiciousOperation):
        return False
    return True


def _jurisdiction_check(request: HttpRequest) -> None:
    given = (request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id") or "").strip()
    if given and given != settings.GOVCRM_JURISDICTION:
        raise Open311Error(404, _("jurisdiction_id %(id)s was not found.") % {"id": given})


def _from_domain(exc: DomainError) -> Open311Error:
    status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, Forbidden) else 400
    details = "; ".join(f"{k}: {v}" for k, v in exc.details.items() if v != exc.message)
    return Open311Error(status, f"{exc.message} ({details})" if details else exc.message)


def resource(*methods: str) -> Callable:
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt  # a machine API authenticated by api_key, no cookies
        @wraps(view)
        def inner(request: HttpRequest, fmt: str, **kwargs) -> HttpResponse:
            if request.method == "POST" and not _body_readable(request):
                return render_errors(fmt, [Open311Error(400, _("The request body could not be read."))])
            language = _language(request)
            with translation.override(language):
                if fmt not in FORMATS:
                    return render_errors("xml", [Open311Error(404, _("Bad extension. We support .xml and .json"))])
                if request.method not in allowed:
                    response = render_errors(fmt, [Open311Error(405, _("Method not allowed."))])
                    response["Allow"] = ", ".join(sorted(allowed))
                    return response
                try:
                    _jurisdiction_check(request)
                    response = view(request, fmt, **kwargs)
                except Open311Error as exc:
                    return render_errors(fmt, [exc])
                except Open311Errors as exc:
                    return render_errors(fmt, exc.errors)
                except DomainError as exc:
                    return render_errors(fmt, [_from_domain(exc)])
                except UNAVAILABLE_ERRORS:
                    response = render_errors(fmt, [Open311Error(503, unavailable_message())])
                    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
                    return response
                response["Content-Language"] = language
                return response

        return inner

    return wrap


def _client(request: HttpRequest, call: str) -> Open311Client:
    api_key = (request.POST.get("api_key") or request.GET.get("api_key") or "").strip()
    client = queries.client_by_key(api_key)
    if client is None:
        raise Open311Error(403, _("Invalid api_key received -- can't proceed with %(call)s.") % {"call": call})
    return client


@resource("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri(reverse("open311:base"))
    return render(fmt, "discovery", queries.discovery(base.rstrip("/")))


@resource("GET")
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    return render(fmt, "services", queries.service_list())


@resource("GET")
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    category = queries.service_get(code)
    if category is None:
        raise Open311Error(404, _("service_code %(code)s was not found.") % {"code": code})
    return render(fmt, "service_definition", queries.service_definition(category))


@resource("GET", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _request_create(request, fmt)
    query = inputs.request_query(request.GET, now=timezone.now())
    return render(fmt, "service_requests", queries.request_list(query))


def _request_create(request: HttpRequest, fmt: str) -> HttpResponse:
    client = _client(request, "create_request")
    form = inputs.service_request_form(request.POST, request.FILES)
    done = actions.open311_request_submit(client=client, form=form, language=translation.get_language())
    if done.case is None:  # a receipt (service type batch): the id comes from GET /tokens/{token}
        answer = {"token": done.token, "service_notice": actions.receipt_notice(),
                  "account_id": done.account_id or None}
    else:
        answer = {
            "service_request_id": done.case.number,
            "service_notice": actions.service_notice(done.case),
            "account_id": done.account_id or None,
        }
    return render(fmt, "service_requests", [answer], status=201 if done.created else 200)


@resource("GET")
def request_detail(request: HttpRequest, fmt: str, number: str) -> HttpResponse:
    found = queries.request_get(number)
    if found is None:
        raise Open311Error(404, _("service_request_id %(id)s was not found.") % {"id": number})
    return render(fmt, "service_requests", [found])


@resource("GET")
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    found = queries.token_get(token)
    if found is None:
        raise Open311Error(404, _("token %(token)s was not found.") % {"token": token})
    return render(fmt, "service_requests", [found])


@resource("GET", "POST")
def service_request_updates(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        client = _client(request, "post_service_request_update")
        form = inputs.service_request_update_form(request.POST, request.FILES)
        interaction = actions.open311_update_receive(client=client, form=form,
                                                     language=translation.get_language())
        return render(fmt, "service_request_updates", [{"update_id": actions.update_id_of(interaction)}])
    start, end = inputs.window(request.GET, now=timezone.now())
    page, page_size = inputs.paging(request.GET)
    return render(fmt, "service_request_updates",
                  queries.update_list(start=start, end=end, page=page, page_size=page_size))


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Anything else under /open311/v2/: a 404 in the spec's format (JSON if the path asks for it)."""
    with translation.override(_language(request)):
        fmt = "json" if path.endswith(".json") else "xml"
        return render_errors(fmt, [Open311Error(404, _("No such resource."))])
