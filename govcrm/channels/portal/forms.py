"""Forms of the portal: they parse the citizen's input into what the actions take.

Rules:
- Every check that can be made before storing is made here, so that a refused request stores
  nothing: the category is one of the offered leaves, the description is not empty, photos
  are at most `MAX_PHOTOS`, each within the upload limit and a real picture by its content
  (`channels.uploads.clean_image`, which also strips EXIF), and contact details are valid.
- The submission token is a UUID made when the form is shown; it is the intake's natural key.
- Messages are in the page's language; `DomainError.details` of an action go back on the fields
  through `ERROR_FIELDS`.
"""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from govcrm.cases.models import CaseType
from govcrm.channels.uploads import CleanFile, clean_image
from govcrm.citizens.actions import citizen_input_clean
from govcrm.common.errors import ValidationFailed
from govcrm.common.forms import ListChoiceField, ReadyChoices, apply_error
from govcrm.common.reference import cached

from .actions import PortalRequest
from .queries import CategoryGroup, category_choices, category_groups

MAX_PHOTOS = 5
EMPTY_CATEGORY = [("", _("Choose a category"))]
YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Any number of files under one name; each is checked in `RequestForm.clean_photos`."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(PhotosField, self).clean(f, initial) for f in files]



class PortalForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # no "Label:" colon (Chinese labels would need "：")
        super().__init__(*args, **kwargs)


class RequestForm(PortalForm):
    token = forms.CharField(widget=forms.HiddenInput, max_length=36)
    category = ListChoiceField(
        label=_("Category"), choices=[],
        error_messages={"required": _("Choose a category."),
                        "invalid_choice": _("Choose a category from the list.")},
    )
    case_type = forms.ChoiceField(label=_("Kind of request"), choices=CaseType.choices, initial=CaseType.HELP)
    description = forms.CharField(
        label=_("Description"), max_length=settings.GOVCRM_MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Describe the problem: what, where exactly, since when."),
        error_messages={"required": _("Describe your request.")},
    )
    address = forms.CharField(label=_("Address or place"), required=False, max_length=300,
                              widget=forms.TextInput(attrs={"autocomplete": "street-address"}))
    lat = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90,
                           widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    lon = forms.FloatField(label=_("Longitude"), required=False, min_value=-180, max_value=180,
                           widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    photos = PhotosField(
        label=_("Photos"), required=False,
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )
    name = forms.CharField(label=_("Your name"), required=False, max_length=200,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    phone = forms.CharField(label=_("Mobile phone"), required=False, max_length=32,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel",
                                                          "inputmode": "tel"}))
    email = forms.CharField(label=_("E-mail"), required=False, max_length=254,
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    # Keys of DomainError.details (from intake and citizen checks) → fields of this form.
    ERROR_FIELDS = {"citizen.phone": "phone", "citizen.email": "email", "location": "lat"}

    def __init__(self, *args, groups: list[CategoryGroup] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if groups is None:  # the whole list: the same for every request in a language (reference cache)
            choices = cached(f"portal-category-choices:{get_language()}",
                             lambda: ReadyChoices(EMPTY_CATEGORY + category_choices(category_groups())))
        else:
            choices = EMPTY_CATEGORY + category_choices(groups)
        self.fields["category"].choices = choices
        self.fields["photos"].help_text = _(
            "Up to %(n)d pictures (JPEG, PNG, WebP or GIF), each at most %(mb)d MB. "
            "Location and camera data are removed before they are stored."
        ) % {"n": MAX_PHOTOS, "mb": settings.GOVCRM_MAX_UPLOAD_BYTES // 1_000_000}
        if not self.is_bound and "token" not in self.initial:
            self.initial["token"] = str(uuid.uuid4())

    def clean_token(self) -> str:
        token = self.cleaned_data["token"]
        try:
            return str(uuid.UUID(token))
        except ValueError:
            raise forms.ValidationError(_("This form is damaged; reload the page and try again.")) from None

    def clean_photos(self) -> tuple[CleanFile, ...]:
        files = self.cleaned_data.get("photos") or []
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(_("Attach at most %(n)d photos.") % {"n": MAX_PHOTOS})
        limit = settings.GOVCRM_MAX_UPLOAD_BYTES
        out = []
        for f in files:
            if f.size > limit:  # refused before it is read into memory
                raise forms.ValidationError(_("“%(name)s” is larger than %(mb)d MB.")
                                            % {"name": f.name, "mb": limit // 1_000_000})
            try:
                out.append(clean_image(f.read(), f.name))
            except ValidationFailed:
                raise forms.ValidationError(_("“%(name)s” is not a picture (JPEG, PNG, WebP or GIF).")
                                            % {"name": f.name}) from None
        return tuple(out)

    def clean(self):
        data = super().clean()
        if (data.get("lat") is None) != (data.get("lon") is None) and "lat" not in self.errors:
            self.add_error("lat", _("Give both latitude and longitude, or neither."))
        data["citizen"] = None
        if data.get("name") or data.get("phone") or data.get("email"):
            try:
                data["citizen"] = citizen_input_clean(
                    name=data.get("name", ""), phone=data.get("phone"), email=data.get("email"),
                    language=get_language() or settings.LANGUAGE_CODE,
                    preferred_channel="email" if data.get("email") and not data.get("phone") else None,
                )
            except ValidationFailed as err:
                apply_error(self, err, self.ERROR_FIELDS)
        return data

    def portal_request(self) -> PortalRequest:
        d = self.cleaned_data
        return PortalRequest(
            token=d["token"], category=d["category"], case_type=d["case_type"], description=d["description"],
            address=d["address"], lat=d["lat"], lon=d["lon"], citizen=d["citizen"], photos=d["photos"],
            language=get_language() or settings.LANGUAGE_CODE,
        )


class TrackForm(PortalForm):
    number = forms.CharField(label=_("Case number"), max_length=20,
                             widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
                             error_messages={"required": _("Enter the case number.")})
    code = forms.CharField(label=_("Query code"), max_length=8,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
                           help_text=_("The 6-digit code you were given with the case number."),
                           error_messages={"required": _("Enter the query code.")})


def _yes_no(value: str) -> bool:
    return value == "yes"


class FeedbackForm(PortalForm):
    resolved = forms.TypedChoiceField(label=_("Is the problem resolved?"), choices=YES_NO, coerce=_yes_no,
                                      widget=forms.RadioSelect,
                                      error_messages={"required": _("Answer yes or no.")})
    satisfied = forms.TypedChoiceField(label=_("Are you satisfied with how it was handled?"), choices=YES_NO,
                                       coerce=_yes_no, widget=forms.RadioSelect,
                                       error_messages={"required": _("Answer yes or no.")})
    rating = forms.TypedChoiceField(
        label=_("Your rating"), coerce=int, widget=forms.RadioSelect,
        choices=[("5", _("5 – very good")), ("4", _("4 – good")), ("3", _("3 – fair")), ("2", _("2 – poor")),
                 ("1", _("1 – very poor"))],
        error_messages={"required": _("Choose a rating from 1 to 5.")},
    )


class ReopenForm(PortalForm):
    reason = forms.CharField(label=_("What is still wrong? (optional)"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class SigninForm(PortalForm):
    identity = forms.CharField(
        label=_("Mobile phone or e-mail"), max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
        help_text=_("We send you a one-time code. No password needed."),
        error_messages={"required": _("Enter your mobile phone number or e-mail address.")},
    )


class CodeForm(PortalForm):
    code = forms.CharField(
        label=_("One-time code"), max_length=6, min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
        error_messages={"required": _("Enter the code you received."),
                        "min_length": _("The code has 6 digits.")},
    )
