"""Who may use a console page, and how a refusal is shown.

Rules:
- Every page needs a signed-in user; an HTMX request whose session ran out is sent to the
  login page with `HX-Redirect` instead of having the login form swapped into a panel.
- Every page acts as `actor_for_user(request.user)`: a user without a staff profile gets 403.
- A case the actor may not see is "not found" (404), never "forbidden", so that its existence
  is not revealed. An HTMX request refused so is answered with HX-Refresh, not a page in a panel.
- Intake is for the hotline centre's working roles (agent, dispatcher, supervisor, admin).
"""

from __future__ import annotations

import functools
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from govcrm.cases.workflow import CENTRE
from govcrm.common.errors import Forbidden, NotFound
from govcrm.organization.queries import actor_for_user


def error_page(request, status: int, message: str) -> HttpResponse:
    """The 403/404 page; an HTMX request instead reloads the page, which then shows it whole."""
    if getattr(request, "htmx", False):
        return HttpResponse(status=status, headers={"HX-Refresh": "true"})
    titles = {403: _("Not allowed"), 404: _("Not found")}
    return render(request, "console/error.html",
                  {"title": titles.get(status, _("Error")), "message": message}, status=status)


def staff_view(view=None, *, centre_only: bool = False):
    """Decorate a view: sign-in, staff actor on `request.actor`, 403/404 pages for refusals."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                if getattr(request, "htmx", False):
                    back = request.htmx.current_url_abs_path or "/console/"
                    url = f"{settings.LOGIN_URL}?next={quote(back)}"
                    return HttpResponse(status=204, headers={"HX-Redirect": url})
                return redirect_to_login(request.get_full_path())
            try:
                request.actor = actor_for_user(request.user)
            except Forbidden:
                return error_page(request, 403, _("This account has no staff role in GovCRM."))
            if centre_only and request.actor.role not in CENTRE:
                return error_page(request, 403, _("Only hotline centre staff may take calls."))
            try:
                return fn(request, *args, **kwargs)
            except NotFound:
                return error_page(request, 404, _("No such case, or not one you may see."))
            except Forbidden as err:
                return error_page(request, 403, err.message)

        return wrapper

    return decorate(view) if view is not None else decorate
