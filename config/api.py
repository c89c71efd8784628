"""The REST API: one NinjaAPI, one router per app, one error format.

Errors are JSON: {"message": "...", "code": "...", "details": {"field": "message"}}.
"""

from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from govcrm.common.auth import api_auth
from govcrm.common.errors import DomainError

api = NinjaAPI(
    title="GovCRM API",
    version="1",
    description="Cases, citizens, units and categories of a city's service hotline.",
    auth=api_auth,
    urls_namespace="api",
)


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    response = api.create_response(
        request, {"message": exc.message, "code": exc.code, "details": exc.details}, status=exc.status
    )
    if getattr(exc, "retry_after", None):  # 429 of common/auth.py's failed-token limit
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    details = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "payload", "query", "path")]
        details[".".join(loc) or "body"] = err.get("msg", "invalid")
    return api.create_response(
        request, {"message": _("The request is not valid."), "code": "validation_failed", "details": details},
        status=422,
    )


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    """django-ninja's own refusals, in the one error format: a body that cannot be parsed is a
    validation failure (422, as a body that does not fit the schema); a session call without its
    CSRF token is 403."""
    if exc.status_code == 400:
        return api.create_response(
            request, {"message": _("The request is not valid."), "code": "validation_failed",
                      "details": {"body": _("The body is not valid JSON.")}}, status=422,
        )
    if exc.status_code == 403:
        message, code = _("CSRF check failed: a call with the session must send the CSRF token."), "csrf_failed"
    else:
        message, code = str(exc), "error"
    return api.create_response(request, {"message": message, "code": code, "details": {}}, status=exc.status_code)


@api.exception_handler(AuthenticationError)
def auth_error(request, exc):
    return api.create_response(
        request, {"message": _("Authentication required: a bearer token or a session."), "code": "unauthorized",
                  "details": {}}, status=401,
    )


def _routers():
    from govcrm.cases.api import router as cases_router
    from govcrm.citizens.api import router as citizens_router
    from govcrm.knowledge.api import router as knowledge_router
    from govcrm.organization.api import router as organization_router

    api.add_router("/", cases_router)
    api.add_router("/", citizens_router)
    api.add_router("/", organization_router)
    api.add_router("/", knowledge_router)


_routers()
