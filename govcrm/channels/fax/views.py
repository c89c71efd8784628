"""The console's fax upload: /channels/fax/upload/ (hotline centre staff only).

GET shows the form; POST (multipart, CSRF-checked) reads the fax with `fax_receive` and
redirects to the new draft case in the console. An upload of a file already received leads
to the case it opened.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from govcrm.cases.workflow import CENTRE
from govcrm.common.errors import Forbidden, ValidationFailed
from govcrm.organization.queries import actor_for_user

from .actions import fax_receive
from .forms import FaxUploadForm


def _refuse(request, message: str):
    return render(request, "fax/refused.html", {"message": message}, status=403)


@require_http_methods(["GET", "POST"])
def upload(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        request.actor = actor_for_user(request.user)
    except Forbidden:
        return _refuse(request, _("This account has no staff role in GovCRM."))
    # Centre roles that register cases (agent, dispatcher, supervisor, admin), as for phone intake.
    if not request.actor.is_centre or request.actor.role not in CENTRE:
        return _refuse(request, _("Only hotline centre staff may register faxes."))
    if request.method == "GET":
        return render(request, "fax/upload.html", {"form": FaxUploadForm()})
    form = FaxUploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > settings.GOVCRM_MAX_UPLOAD_BYTES:
                msg = _("The file is larger than %(mb)d MB.") % {"mb": settings.GOVCRM_MAX_UPLOAD_BYTES // 1_000_000}
                raise ValidationFailed(msg, details={"file": msg})
            result = fax_receive(data=upload.read(), name=upload.name, sender=form.cleaned_data["sender"])
        except ValidationFailed as err:
            form.add_error("file", err.message)
        else:
            if result.case is not None:
                return redirect("console:case", number=result.case.number)
            form.add_error("file", _("The fax was stored but no case was opened."))
    return render(request, "fax/upload.html", {"form": form}, status=422)
