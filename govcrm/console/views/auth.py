"""Sign-in, sign-out and the language switch.

A user with a second factor is not signed in by the password alone: the password form hands over
to the code page (views/twofactor.py), which signs in.

On sign-in the staff member's saved language is put in Django's language cookie; switching the
language saves it on their profile and then hands over to Django's `set_language` view.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from govcrm.common.lockout import WINDOW, client_address, is_locked
from govcrm.organization import twofactor
from govcrm.organization.actions import staff_language_set

from ..queries import staff_language
from ..twofactor import PENDING


def _set_language_cookie(response, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language,
        max_age=settings.LANGUAGE_COOKIE_AGE, path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN, secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY, samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class StaffAuthenticationForm(AuthenticationForm):
    """Says so when the account is locked, instead of "wrong password" (see common/lockout.py)."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if username and is_locked(username, client_address(self.request)):
            raise ValidationError(
                _("Too many failed sign-ins: this account is locked for %(minutes)d minutes.")
                % {"minutes": WINDOW // 60}, code="locked")
        return super().clean()


class LoginView(auth_views.LoginView):
    template_name = "console/login.html"
    redirect_authenticated_user = True
    authentication_form = StaffAuthenticationForm

    def form_valid(self, form):
        user = form.get_user()
        if twofactor.is_enabled(user):
            # Not signed in yet: the code comes first (views/twofactor.py).
            self.request.session[PENDING] = {"user": user.pk, "backend": user.backend, "at": time.time(),
                                             "next": self.get_redirect_url(), "tries": 0}
            return redirect("console:login_code")
        response = super().form_valid(form)  # user_logged_in notes the second-factor flags
        language = staff_language(user)
        if language:
            _set_language_cookie(response, language)
        return response


class LogoutView(auth_views.LogoutView):
    """POST only (Django's own rule since 5.0): a link cannot sign anyone out."""

    next_page = "console:login"


@require_POST
def language(request):
    chosen = request.POST.get("language", "")
    if request.user.is_authenticated and chosen in dict(settings.LANGUAGES):
        staff_language_set(user=request.user, language=chosen)
    return set_language(request)
