"""Forms of the call-centre pages: linking a call to a case, and a follow-up call's outcome."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .actions import FollowUpOutcome

YES_NO = [("yes", _("Yes")), ("no", _("No"))]
RATINGS = [("", _("Not asked")), *((str(n), str(n)) for n in range(1, 6))]


class LinkForm(forms.Form):
    case = forms.CharField(label=_("Case number"), max_length=20)


class FollowUpForm(forms.Form):
    reached = forms.ChoiceField(label=_("Was the citizen reached?"), choices=YES_NO, widget=forms.RadioSelect)
    resolved = forms.ChoiceField(label=_("Has the problem been resolved?"), choices=YES_NO,
                                 widget=forms.RadioSelect, required=False)
    satisfied = forms.ChoiceField(label=_("Is the citizen satisfied with the handling?"), choices=YES_NO,
                                  widget=forms.RadioSelect, required=False)
    rating = forms.ChoiceField(label=_("Rating (1 = poor, 5 = excellent)"), choices=RATINGS, required=False)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("What the citizen said, or why they could not be reached."))

    def clean(self):
        data = super().clean()
        if data.get("reached") == "yes":
            for name in ("resolved", "satisfied"):
                if not data.get(name):
                    self.add_error(name, _("Ask the citizen and record the answer."))
        return data

    def outcome(self) -> FollowUpOutcome:
        d = self.cleaned_data
        if d["reached"] != "yes":
            return FollowUpOutcome(reached=False, note=d["note"])
        return FollowUpOutcome(reached=True, resolved=d["resolved"] == "yes", satisfied=d["satisfied"] == "yes",
                               rating=int(d["rating"]) if d["rating"] else None, note=d["note"])
