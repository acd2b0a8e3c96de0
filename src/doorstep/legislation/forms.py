"""Staff forms: the shape of the input only; services validate the content."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DRAFT_TEXT_MAX, ContactPoint

LOCAL = "%Y-%m-%dT%H:%M"


class DraftImportForm(forms.Form):
    contact_point = forms.ModelChoiceField(
        label=_("Contact point"), queryset=ContactPoint.objects.none(), empty_label=None
    )
    title = forms.CharField(label=_("Title of the draft law"), max_length=100_000)
    issuing_body = forms.CharField(
        label=_("Issuing body"),
        required=False,
        max_length=100_000,
        help_text=_(
            "For example: the Legislative Affairs Commission of the NPC Standing Committee"
        ),
    )
    version = forms.CharField(label=_("Version"), required=False, max_length=100_000)
    published_on = forms.DateField(
        label=_("Date of the draft"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    opens_at = forms.DateTimeField(
        label=_("Comment period opens"),
        input_formats=[LOCAL],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL),
    )
    closes_at = forms.DateTimeField(
        label=_("Comment period closes"),
        input_formats=[LOCAL],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL),
    )
    source = forms.CharField(
        label=_("Where the text comes from"),
        required=False,
        max_length=100_000,
        help_text=_("A web address or the name of the document, shown to residents."),
    )
    text = forms.CharField(
        label=_("Text of the draft"),
        max_length=DRAFT_TEXT_MAX + 10_000,
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text=_(
            "Paste the whole text. Each chapter (第…章), section (第…节) and article (第…条) "
            "starts on its own line; every further line of an article is a paragraph (款). "
            "You can correct each article after the import."
        ),
    )
    synthetic = forms.BooleanField(
        label=_("This is an illustrative example, not a real draft law"), required=False
    )

    def __init__(self, *args: Any, points: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if points is not None:
            self.fields["contact_point"].queryset = points  # type: ignore[attr-defined]
