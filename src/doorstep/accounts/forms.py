"""Page forms: they only parse input; the services validate it and name the error."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .services import NAME_MAX_LENGTH


class AccessibleForm(forms.Form):
    """Points an erroneous input at its message, so screen readers announce it."""

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        if field in self.fields:
            self.fields[field].widget.attrs["aria-describedby"] = f"{self[field].auto_id}_error"


class PhoneForm(AccessibleForm):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", "maxlength": 20}
        ),
    )
    agree = forms.BooleanField(
        label=_("I have read and agree to the user agreement and the privacy notice."),
        error_messages={
            "required": _("Please read and agree to the user agreement and privacy notice.")
        },
    )


class CodeForm(AccessibleForm):
    code = forms.CharField(
        label=_("6-digit code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9]*",
                "maxlength": 6,
            }
        ),
    )


class ProfileForm(AccessibleForm):
    display_name = forms.CharField(
        label=_("Your name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name", "maxlength": NAME_MAX_LENGTH}),
    )
    home_subdistrict = forms.CharField(label=_("Home subdistrict"), required=False, max_length=12)


class PersonForm(AccessibleForm):
    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": NAME_MAX_LENGTH}),
    )
    birth_year = forms.IntegerField(
        label=_("Birth year"),
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1900}),
    )
