"""Forms of the console: they parse and render input; the actions decide what is valid.

Rules:
- A move's form has only the fields that move reads (see `MOVE_FIELDS`); each form is prefixed
  with the move's name so that many forms live on one page with unique ids.
- Fields are optional here unless the browser can help (a `required` attribute); the action
  validates and its `DomainError.details` are put back on the fields by `apply_error`.
- Select options come from `console.queries`, built once per form.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from govcrm.cases.models import Case, CaseType, Urgency
from govcrm.cases.workflow import Move, PauseReason, ReturnReason, Status
from govcrm.common.forms import ListChoiceField, LongSelect, ReadyChoices
from govcrm.common.reference import cached

from . import queries

EMPTY = [("", "—")]
YES_NO = [("yes", _("Yes")), ("no", _("No"))]
CONTACT_METHODS = [("", "—"), ("phone", _("Phone call")), ("sms", _("SMS")), ("visit", _("Visit on site")),
                   ("other", _("Other"))]

UNIT_MOVES = frozenset({"dispatch", "transfer", "reopen", "subdispatch"})
REPLY_MOVES = frozenset({"reply", "resolve_first_contact"})



class MoveForm(forms.Form):
    """The input of one move of the lifecycle (see `cases.workflow.MOVES`)."""

    def __init__(self, move: Move, *args, case: Case, unit_choices: list | None = None, **kwargs):
        super().__init__(*args, prefix=move.name, **kwargs)
        self.move = move
        name = move.name
        if name in UNIT_MOVES:
            if name == "subdispatch":
                units = queries.subunit_options(case.lead_unit)
            else:
                units = unit_choices if unit_choices is not None else queries.unit_options()
            self.fields["unit"] = forms.ChoiceField(
                label=_("Lead unit"), choices=EMPTY + units, required=False,
                help_text=_("Empty: the unit that had the case.") if name == "reopen" else "",
            )
            if name != "reopen":  # a reopen goes back to one unit (cases.actions._h_reopen reads no co_units)
                self.fields["co_units"] = forms.MultipleChoiceField(
                    label=_("Co-handling units"), choices=units, required=False,
                    widget=forms.SelectMultiple(attrs={"size": 4}),
                )
        if name == "return":
            self.fields["reason_code"] = forms.ChoiceField(
                label=_("Why is it returned?"), choices=EMPTY + ReturnReason.choices, required=False)
        if name == "pause":
            self.fields["reason_code"] = forms.ChoiceField(
                label=_("Why is the clock paused?"), choices=EMPTY + PauseReason.choices, required=False)
        if name in REPLY_MOVES:
            self.fields["reply"] = forms.CharField(
                label=_("Reply to the citizen"), required=False, max_length=settings.GOVCRM_MAX_DESCRIPTION,
                widget=forms.Textarea(attrs={"rows": 4}),
            )
        if name == "contact":
            self.fields["method"] = forms.ChoiceField(label=_("How was the citizen contacted?"),
                                                      choices=CONTACT_METHODS, required=False)
        if name == "follow_up":
            self.fields["resolved"] = forms.ChoiceField(label=_("Was the problem resolved?"), choices=YES_NO,
                                                        required=False, widget=forms.RadioSelect)
            self.fields["satisfied"] = forms.ChoiceField(label=_("Is the citizen satisfied?"), choices=YES_NO,
                                                         required=False, widget=forms.RadioSelect)
            self.fields["rating"] = forms.ChoiceField(
                label=_("Rating (1 = poor, 5 = very good)"), required=False,
                choices=EMPTY + [(str(i), str(i)) for i in range(1, 6)],
            )
        if name == "request_extension":
            self.fields["days"] = forms.CharField(
                label=_("Extra working days"), required=False,
                widget=forms.NumberInput(attrs={"min": 1, "max": 60, "inputmode": "numeric"}),
            )
        if name == "merge":
            self.fields["into"] = forms.CharField(label=_("Merge into case number"), required=False,
                                                  max_length=20)
        self.fields["reason"] = forms.CharField(
            label=_("Note") if name == "note" else _("Reason"), required=False, max_length=2000,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text=_("Required for this move.") if move.needs_reason and name not in ("return", "pause")
            else "",
        )

    def action_data(self) -> dict[str, Any]:
        """The cleaned input as `case_transition` reads it; empty values left out."""
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "", [])}


def _float_or_none(value: str | None, message) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(str(value).replace(",", "."))
    except ValueError:
        raise forms.ValidationError(message) from None


class IntakeForm(forms.Form):
    """A phone call taken by an agent: who calls, then what about."""

    # The PBX call this intake answers (from the screen pop); the case is linked to it.
    call = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    phone = forms.CharField(label=_("Caller's phone number"), required=False, max_length=32,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off",
                                                          "inputmode": "tel", "autofocus": True}))
    citizen_name = forms.CharField(label=_("Caller's name"), required=False, max_length=200)
    id_number = forms.CharField(label=_("Resident ID number"), required=False, max_length=18,
                                help_text=_("Optional; stored encrypted."))
    language = forms.ChoiceField(label=_("Caller's language"), choices=settings.LANGUAGES, initial="zh-hans")
    category = forms.ChoiceField(label=_("Category"), choices=[])
    case_type = forms.ChoiceField(label=_("Case type"), choices=EMPTY + CaseType.choices)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    title = forms.CharField(label=_("Title"), required=False, max_length=200)
    description = forms.CharField(label=_("What the caller says"), max_length=settings.GOVCRM_MAX_DESCRIPTION,
                                  widget=forms.Textarea(attrs={"rows": 5}))
    address = forms.CharField(label=_("Address"), required=False, max_length=300)
    area = forms.ChoiceField(label=_("Area"), required=False, choices=[])
    lat = forms.CharField(label=_("Latitude"), required=False, max_length=32,
                          widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    lon = forms.CharField(label=_("Longitude"), required=False, max_length=32,
                          widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    resolve_reply = forms.CharField(
        label=_("Answer given to the caller"), required=False,
        max_length=settings.GOVCRM_MAX_DESCRIPTION, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Fill in only when the call settled the matter; the case is then closed at once."),
    )

    # Keys of DomainError.details → fields of this form.
    ERROR_FIELDS = {"citizen.phone": "phone", "citizen.id_number": "id_number", "location": "lat",
                    "reply": "resolve_reply", "channel": "case_type"}

    def __init__(self, *args, categories: list[queries.CategoryChoice] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        leaves = categories if categories is not None else queries.category_leaves()
        self.fields["category"].choices = EMPTY + category_groups(leaves)
        self.fields["area"].choices = EMPTY + queries.area_options()

    def clean_lat(self):
        return _float_or_none(self.cleaned_data.get("lat"), _("Latitude is a number, e.g. 39.91."))

    def clean_lon(self):
        return _float_or_none(self.cleaned_data.get("lon"), _("Longitude is a number, e.g. 116.40."))


def category_groups(leaves: list[queries.CategoryChoice]) -> list:
    """Leaf categories grouped under their parents' path, as <optgroup>s."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for c in leaves:
        groups.setdefault(c.path, []).append((c.code, c.label))
    return list(groups.items())


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Words"), required=False, max_length=200,
                        widget=forms.TextInput(attrs={"type": "search"}))
    # LongSelect: the same HTML as Django's Select without a template include per option (the
    # three long lists were half of the search page's CPU).
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Any")), *Status.choices],
                               widget=LongSelect)
    category = ListChoiceField(label=_("Category"), required=False, choices=[])
    unit = ListChoiceField(label=_("Unit"), required=False, choices=[])
    area = ListChoiceField(label=_("Area"), required=False, choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        language = get_language()
        for name, options in (("category", queries.category_options), ("unit", queries.unit_options),
                              ("area", queries.area_options)):
            self.fields[name].choices = cached(f"console-search-{name}:{language}",
                                               lambda options=options: ReadyChoices([("", _("Any")), *options()]))
