"""The fax upload form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class FaxUploadForm(forms.Form):
    file = forms.FileField(label=_("Fax file"), help_text=_("TIFF, PDF, PNG or JPEG, as the fax machine saved it."))
    sender = forms.CharField(label=_("Sending fax number"), max_length=40, required=False,
                             help_text=_("If known, e.g. 010-8888 6666."))
