"""The second factor in the request cycle: who must still give a code, or enrol first.

Rules (the factor itself: organization/twofactor.py):
- A session signed in by password only, for a user who has a confirmed device, is not a valid
  sign-in: it is ended and sent to the login page (the only sign-in forms — the console's, and
  the admin's, which redirects there — ask for the code before they sign anyone in).
- A user whose role must use it (`GOVCRM_2FA_REQUIRED_ROLES`) and who has no device yet is sent
  to the set-up page for every page but that one, sign-out and the language switch (the API
  answers 403 in its JSON format).
- Whether the user has a device and must have one is looked up once per session (at sign-in,
  through Django's `user_logged_in`, else at the first request) and kept in the session, so
  console pages pay no query for it.
"""

from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from govcrm.organization import twofactor

FLAGS = "govcrm_2fa_flags"
PENDING = "govcrm_2fa_pending"
EXEMPT_PREFIXES = ("/console/account/security/", "/console/logout/", "/console/language/", "/console/login/",
                   "/static/", "/i18n/")


def flags_set(request, *, enabled: bool, user=None) -> None:
    request.session[FLAGS] = {"enabled": enabled, "required": twofactor.is_required(user or request.user)}


def remember_at_sign_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        flags_set(request, enabled=twofactor.is_enabled(user), user=user)


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_verified():
            flags = request.session.get(FLAGS)
            if flags is None:
                flags_set(request, enabled=twofactor.is_enabled(user))
                flags = request.session[FLAGS]
            if flags["enabled"]:
                logout(request)
                return redirect_to_login(request.get_full_path())
            if flags["required"] and not request.path_info.startswith(EXEMPT_PREFIXES):
                if request.path_info.startswith("/api/"):
                    return JsonResponse({"message": _("Set up the second sign-in factor first."),
                                         "code": "second_factor_required", "details": {}}, status=403)
                return redirect("console:security")
        return self.get_response(request)
