from __future__ import annotations

from django import forms
from django.utils.http import url_has_allowed_host_and_scheme

from practice.forms import HoneypotMixin


class SignupForm(HoneypotMixin, forms.Form):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        error_messages={
            "required": "Please enter your email address.",
            "invalid": "Enter a valid email address, like name@example.com.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    first_name = forms.CharField(
        label="First name (optional)",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    # The page the form was on, for the consent record. A plain Field: she
    # cannot see or fix a hidden value, so one that is not a path on this
    # site (too long, a NUL, another host) is dropped, never an error.
    page = forms.Field(required=False, widget=forms.HiddenInput)

    def clean_page(self) -> str:
        page = self.cleaned_data.get("page") or ""
        if (
            not isinstance(page, str)
            or len(page) > 300
            or "\x00" in page
            or not page.startswith("/")
            or not url_has_allowed_host_and_scheme(page, None)
        ):
            return ""
        return page


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            "Columns: email, first_name (optional), consent_note. Rows without a "
            "consent note are refused; everyone imported gets the confirmation email."
        ),
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise forms.ValidationError("The file is larger than 5 MB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError("Save the file as CSV (UTF-8).") from exc


class CampaignScheduleForm(forms.Form):
    scheduled_at = forms.DateTimeField(
        label="Send at",
        required=False,
        help_text="Leave empty to send now. In the practice's time zone.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
