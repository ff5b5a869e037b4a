"""What the project's forms share: labels without a colon, and the honeypot.

Labels: Django puts the form's ``label_suffix`` (":") after every label it
renders. The site writes labels without one, as the footer's sign-up does,
so the project's form renderer (``FORM_RENDERER`` in settings) gives every
form a bound field that leaves it out: public pages, the portal and
allauth's pages alike, through ``{{ form }}``, ``as_field_group`` or
``label_tag``, with nothing to remember per form. A field's own
``label_suffix`` still wins. The Django admin keeps its own style: the forms
a ``ModelAdmin`` builds (change, add, inline and list forms) and Django's own
contrib forms keep Django's colon, like the admin's read-only fields beside
them.

Honeypot: a public form mixes in :class:`HoneypotMixin`, which adds a text
field named ``website`` that people never see: the template puts it inside
``<div class="honeypot" aria-hidden="true">`` (moved off screen by
``static/css/site.css``, hidden from screen readers), it is out of the tab
order, and browsers do not autofill it. A bot that fills every field fills
it, and ``form.is_bot`` says so. The view then answers as if all went well,
so the bot learns nothing to adapt to, and does nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.admin.options import BaseModelAdmin
from django.forms.boundfield import BoundField
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import SafeString

HONEYPOT_FIELD = "website"


def _keeps_admin_label_style(form: forms.BaseForm) -> bool:
    """Whether Django's admin built or ships ``form``, so its labels keep the colon."""
    if type(form).__module__.startswith("django.contrib."):
        return True
    # A ModelAdmin builds its forms with modelform_factory(formfield_callback=
    # partial(self.formfield_for_dbfield, request=request)); the form's options
    # keep that callback, bound to the ModelAdmin.
    callback = getattr(getattr(form, "_meta", None), "formfield_callback", None)
    return isinstance(getattr(getattr(callback, "func", None), "__self__", None), BaseModelAdmin)


class PlainLabelBoundField(BoundField):
    """A bound field whose ``<label>`` (or ``<legend>``) has no trailing colon."""

    def label_tag(
        self,
        contents: str | None = None,
        attrs: dict[str, Any] | None = None,
        label_suffix: str | None = None,
        tag: str | None = None,
    ) -> SafeString:
        if (
            label_suffix is None
            and self.field.label_suffix is None
            and not _keeps_admin_label_style(self.form)
        ):
            label_suffix = ""
        return super().label_tag(contents, attrs, label_suffix, tag)


class PracticeFormRenderer(DjangoTemplates):
    """Django's template renderer, with labels written the site's way (see above)."""

    bound_field_class = PlainLabelBoundField


class HoneypotField(forms.CharField):
    """The honeypot input: optional, labeled for the rare person who meets it."""

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
        return bool(self.data.get(self.add_prefix(HONEYPOT_FIELD)))


@dataclass(frozen=True)
class ErrorLink:
    """One line of a form's error summary: a message and the id of its field ("" for none)."""

    anchor: str
    message: str


def error_summary(
    form: forms.BaseForm,
    *,
    anchors: Mapping[str, str] | None = None,
    question: Callable[[BoundField], str] | None = None,
) -> list[ErrorLink]:
    """The form's errors for the summary at its top, each linked to its field, in page order.

    Rendered by ``templates/practice/_error_summary.html``. A radio list is
    reached by its first button (its label has no ``for``); a hidden field's
    message has no link; ``anchors`` names other targets (the booking page's
    slot picker). ``question`` names the field in front of its message, where
    the message alone would not say which question it is about.
    """
    anchors = anchors or {}
    links = [ErrorLink("", str(message)) for message in form.non_field_errors()]
    for field in form:
        if not field.errors:
            continue
        if field.name in anchors:
            anchor = anchors[field.name]
        elif field.is_hidden:
            anchor = ""
        elif isinstance(field.field.widget, forms.RadioSelect):
            anchor = f"{field.auto_id}_0"
        else:
            anchor = field.id_for_label
        message = str(field.errors[0])
        if question is not None:
            message = f"{question(field)}: {message}"
        links.append(ErrorLink(anchor, message))
    return links
