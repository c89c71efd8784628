"""Forms of the knowledge console pages: an article's text (a new draft) and its settings."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .actions import ArticleSettings, ArticleText
from .models import Language


class TextForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    keywords = forms.CharField(label=_("Other ways to ask"), max_length=400, required=False,
                               help_text=_("Words and phrases citizens use for this question, separated by commas."))
    body = forms.CharField(label=_("Answer"), widget=forms.Textarea(attrs={"rows": 10}), max_length=20_000)
    note = forms.CharField(label=_("Change note"), max_length=300, required=False)

    def text(self) -> ArticleText:
        d = self.cleaned_data
        return ArticleText(d["language"], d["title"], d["body"], d["keywords"], d.get("note", ""))


class SettingsForm(forms.Form):
    owner_unit = forms.CharField(label=_("Owner unit (code)"), max_length=64, required=False)
    owner_staff = forms.CharField(label=_("Owner (username)"), max_length=150, required=False)
    categories = forms.CharField(label=_("Case categories (codes, separated by spaces)"), max_length=1000,
                                 required=False)
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label=_("Valid until"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    archived = forms.BooleanField(label=_("Archived (never suggested)"), required=False)

    @classmethod
    def for_article(cls, article) -> SettingsForm:
        return cls(initial={
            "owner_unit": article.owner_unit.code if article.owner_unit else "",
            "owner_staff": article.owner_staff.get_username() if article.owner_staff else "",
            "categories": " ".join(c.code for c in article.categories.all()),
            "valid_from": article.valid_from, "valid_until": article.valid_until, "archived": article.archived,
        })

    def settings(self) -> ArticleSettings:
        d = self.cleaned_data
        return ArticleSettings(owner_unit=d["owner_unit"].strip() or None, owner_staff=d["owner_staff"].strip() or None,
                               categories=tuple(d["categories"].replace(",", " ").split()),
                               valid_from=d["valid_from"], valid_until=d["valid_until"])


class NewArticleForm(TextForm, SettingsForm):
    key = forms.SlugField(label=_("Key"), max_length=80, help_text=_("A stable short name, e.g. residence-permit."))
    field_order = ["key", "language", "title", "keywords", "body", "owner_unit", "owner_staff", "categories",
                   "valid_from", "valid_until"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["archived"]
        del self.fields["note"]
