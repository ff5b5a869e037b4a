"""What every public form shares: the honeypot that tells a bot from a person.

A public form mixes in :class:`HoneypotMixin`, which adds a text field named
``website`` that people never see: the template puts it inside
``<div class="honeypot" aria-hidden="true">`` (moved off screen by
``static/css/site.css``, hidden from screen readers), it is out of the tab
order, and browsers do not autofill it. A bot that fills every field fills
it, and ``form.is_bot`` says so. The view then answers as if all went well,
so the bot learns nothing to adapt to, and does nothing.
"""

from __future__ import annotations

from typing import Any

from django import forms

HONEYPOT_FIELD = "website"


class HoneypotField(forms.CharField):
    """The honeypot input: optional, labelled for the rare person who meets it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Leave this empty")
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"})
        )
        super().__init__(**kwargs)


class HoneypotMixin(forms.Form):
    """Adds the ``website`` honeypot to a form (``forms.Form`` or ``forms.ModelForm``)."""

    website = HoneypotField()

    @property
    def is_bot(self) -> bool:
        """Whether the honeypot was filled in (readable before ``is_valid()``)."""
        return bool(self.data.get(HONEYPOT_FIELD))
