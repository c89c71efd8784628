"""Second sign-in step (the code after the password) and the staff member's own set-up page.

/console/login/code/      — after a right password, for a user with a device: the code
/console/account/security/ — turn the second factor on (QR code, confirm), renew backup codes, off
The rules are in organization/twofactor.py and console/twofactor.py.
"""

from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import login as otp_login

from govcrm.common.errors import ValidationFailed
from govcrm.common.lockout import client_address, failure_record
from govcrm.organization import twofactor

from ..access import staff_view
from ..queries import staff_language
from ..twofactor import PENDING, flags_set

PENDING_SECONDS = 300
MAX_TRIES = 5


def _pending_user(request):
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None, None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    return user, pending


@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request):
    user, pending = _pending_user(request)
    if user is None:
        messages.info(request, _("Please sign in again."))
        return redirect("console:login")
    error = ""
    if request.method == "POST":
        device = twofactor.verify(user=user, code=request.POST.get("code", ""))
        if device is not None:
            request.session.pop(PENDING, None)
            auth_login(request, user, backend=pending["backend"])
            otp_login(request, device)
            target = pending.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
                target = "/console/"
            response = redirect(target)
            language = staff_language(user)
            if language:
                from .auth import _set_language_cookie

                _set_language_cookie(response, language)
            return response
        pending["tries"] = pending.get("tries", 0) + 1
        failure_record(user.get_username(), client_address(request))  # counts toward the lockout
        if pending["tries"] >= MAX_TRIES:
            request.session.pop(PENDING, None)
            messages.error(request, _("Too many wrong codes. Please sign in again."))
            return redirect("console:login")
        request.session[PENDING] = pending
        error = _("The code is not right, or it was already used. Try the next code of your app.")
    return render(request, "console/login_code.html", {"error": error}, status=422 if error else 200)


def _codes_page(request, codes: list[str]) -> HttpResponse:
    response = render(request, "console/backup_codes.html", {"codes": codes})
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@staff_view
def security(request):
    user = request.user
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        code = request.POST.get("code", "")
        address = client_address(request)
        try:
            if action == "start":
                twofactor.enrolment_start(user=user)
                return redirect("console:security")
            if action == "confirm":
                device, codes = twofactor.enrolment_confirm(user=user, code=code, address=address)
                otp_login(request, device)
                flags_set(request, enabled=True)
                return _codes_page(request, codes)
            if action == "renew":
                return _codes_page(request, twofactor.backup_codes_renew(user=user, code=code))
            if action == "disable":
                if twofactor.is_required(user):
                    raise ValidationFailed(_("Your role must use the second factor; it cannot be turned off."))
                twofactor.disable(user=user, code=code, address=address)
                flags_set(request, enabled=False)
                messages.success(request, _("The second sign-in factor is off."))
                return redirect("console:security")
        except ValidationFailed as err:
            error = (_("The code is not right, or it was already used. Try the next code of your app.")
                     if err.code == "invalid_code" else err.message)
    status = twofactor.status(user)
    pending = None if status.enabled else twofactor.pending_device(user)
    context = {"status": status, "pending": pending, "error": error,
               "secret": twofactor.secret_base32(pending) if pending else ""}
    return render(request, "console/security.html", context, status=422 if error else 200)


@never_cache
@require_GET
@staff_view
def security_qr(request):
    device = twofactor.pending_device(request.user)
    if device is None:
        return HttpResponse(status=404)
    response = HttpResponse(twofactor.qr_svg(device), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response
