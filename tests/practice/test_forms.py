"""The honeypot every public form shares."""

from __future__ import annotations

import pytest
from django import forms

from consultations.forms import BookingForm, WaitlistForm
from newsletter.forms import SignupForm
from practice.forms import HoneypotMixin


class ContactForm(HoneypotMixin, forms.Form):
    email = forms.EmailField()


def test_the_honeypot_renders_out_of_the_tab_order_and_never_autofilled():
    field = ContactForm()["website"]

    assert field.label_tag() == '<label for="id_website">Leave this empty:</label>'
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
    assert str(form_class()["website"]) == str(ContactForm()["website"])
    assert form_class({"website": "x"}).is_bot
