"""What the project's forms share: labels without a colon, and the honeypot."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.urls import reverse

from consultations.forms import BookingForm, WaitlistForm
from newsletter.forms import SignupForm
from practice.forms import HoneypotMixin


class ContactForm(HoneypotMixin, forms.Form):
    email = forms.EmailField()


def test_the_honeypot_renders_out_of_the_tab_order_and_never_autofilled():
    field = ContactForm()["website"]

    assert field.label_tag() == '<label for="id_website">Leave this empty</label>'
    assert str(field) == (
        '<input type="text" name="website" tabindex="-1" autocomplete="off" id="id_website">'
    )


def test_a_filled_honeypot_marks_a_bot_even_before_validation():
    bot = ContactForm({"email": "not an address", "website": "http://spam.example"})
    person = ContactForm({"email": "ivy@example.com", "website": ""})

    assert (bot.is_bot, person.is_bot) == (True, False)
    assert person.is_valid()
    assert person.cleaned_data == {"email": "ivy@example.com", "website": ""}


@pytest.mark.parametrize("form_class", [BookingForm, WaitlistForm, SignupForm])
def test_every_public_form_has_the_same_honeypot(form_class):
    # The waitlist form shares the booking page, so its fields carry a prefix.
    prefix = "waitlist" if form_class is WaitlistForm else None
    expected = ContactForm(prefix=prefix)["website"]
    assert str(form_class()["website"]) == str(expected)
    assert form_class({expected.html_name: "x"}).is_bot


class IntakeForm(forms.Form):
    """A plain form, as a portal page would have: no base class to remember."""

    name = forms.CharField(label="Your name")
    mood = forms.ChoiceField(
        label="How are you today", choices=[("ok", "OK")], widget=forms.RadioSelect
    )
    note = forms.CharField(label="Anything else", label_suffix=" →", required=False)


def test_labels_and_legends_have_no_colon_however_the_form_is_rendered():
    form = IntakeForm()

    assert form["name"].label_tag() == '<label for="id_name">Your name</label>'
    assert form["mood"].legend_tag() == "<legend>How are you today</legend>"
    assert '<label for="id_name">Your name</label>' in form["name"].as_field_group()
    assert "<legend>How are you today</legend>" in form.as_div()
    assert '<label for="id_name">Your name</label>' in form.as_p()
    assert '<th><label for="id_name">Your name</label></th>' in form.as_table()


def test_a_fields_own_suffix_still_wins():
    assert IntakeForm()["note"].label_tag() == '<label for="id_note">Anything else →</label>'


def test_the_public_and_allauth_pages_write_labels_without_a_colon(client, practice_profile):
    for path in ["/consultation/", "/accounts/login/", "/accounts/password/reset/"]:
        html = client.get(path).content.decode()
        labels = re.findall(r"<(label|legend)\b[^>]*>(.*?)</\1>", html, flags=re.S)
        texts = [re.sub(r"<[^>]+>", "", text).strip() for _, text in labels]
        assert texts, path
        assert [text for text in texts if text.endswith(":")] == [], path


def test_the_admin_keeps_its_own_colons(admin_client_mfa, practice_profile):
    html = admin_client_mfa.get(
        reverse("admin:practice_practiceprofile_change", args=[practice_profile.pk])
    ).content.decode()

    assert re.search(r'<label[^>]*for="id_practice_name"[^>]*>Practice name:</label>', html)
