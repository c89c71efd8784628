"""Optional sign-in with a one-time code (see `signin`): ask for a code, enter it, sign out.

Step 1 (POST /signin/) checks the phone number or e-mail address and sends a code; the identity
waits in the session for step 2 (POST /signin/code/), which checks the code. Both steps answer a
refusal on the same page with the reason; nothing about whether a citizen record exists is revealed.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from govcrm.common.errors import DomainError
from govcrm.common.forms import apply_error

from .. import signin, throttle
from ..forms import CodeForm, SigninForm

PENDING = "portal_signin_pending"
NEXT = "portal_signin_next"  # where to go back after signing in (e.g. an application form), a local path


def _remember_next(request) -> None:
    target = request.GET.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                                  require_https=request.is_secure()):
        request.session[NEXT] = target[:500]


@require_http_methods(["GET", "POST"])
def signin_start(request):
    _remember_next(request)
    form = SigninForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            kind, value = signin.identity_parse(form.cleaned_data["identity"])
            signin.signin_code_send(kind=kind, value=value, address=throttle.client_address(request))
        except DomainError as err:
            apply_error(form, err, {})
        else:
            request.session[PENDING] = {"kind": kind, "value": value}
            return redirect("portal:signin_code")
    status = 422 if form.is_bound else 200
    return render(request, "portal/signin.html", {"form": form, "step": "identity"}, status=status)


@require_http_methods(["GET", "POST"])
def signin_code(request):
    pending = request.session.get(PENDING)
    if not pending:
        return redirect("portal:signin")
    form = CodeForm(request.POST or None)
    context = {"form": form, "step": "code", "sent_to": signin.masked((pending["kind"], pending["value"]))}
    if request.method == "POST" and form.is_valid():
        if signin.signin_code_check(kind=pending["kind"], value=pending["value"], code=form.cleaned_data["code"]):
            request.session.pop(PENDING, None)
            signin.sign_in(request, pending["kind"], pending["value"])
            messages.success(request, _("You are signed in."))
            return redirect(request.session.pop(NEXT, None) or "portal:mine")
        form.add_error("code", _("This code is wrong or no longer valid. Check it, or ask for a new one."))
    return render(request, "portal/signin.html", context, status=422 if form.is_bound else 200)


@require_POST
def signout(request):
    signin.sign_out(request)
    messages.info(request, _("You are signed out."))
    return redirect("portal:index")
