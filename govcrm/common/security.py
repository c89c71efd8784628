"""Security headers of the pages people use: a Content-Security-Policy on every HTML page.

The console and the portal load only their own scripts and styles (no inline script or style,
no eval: HTMX's `hx-on` and `js:` features are not used and its indicator styles are off), so
the policy allows `'self'` only. Django's admin and the API's interactive docs (Swagger UI) use
inline scripts and styles of their own: they keep Django's other headers but not this policy.
A response that already sets its own policy (e.g. an attachment download) keeps it.
"""

from __future__ import annotations

POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
EXEMPT_PREFIXES = ("/admin/", "/api/")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if ("Content-Security-Policy" not in response
                and response.get("Content-Type", "").startswith("text/html")
                and not request.path.startswith(EXEMPT_PREFIXES)):
            response["Content-Security-Policy"] = POLICY
        return response
