"""Reading and signing a consent document in her portal: /portal/consents/<id>/.

The page shows the exact text (title and body) and, while the version is
the current one and she has not signed it, the sign form: her full name as
typed, "I have read and agree", Sign. The form carries the SHA-256 of the
text it was shown with, so a signature is refused if what she read is not
what the document says now. After signing (or on a second submit of the
same form) she sees the signed state with her PDF.

Consent documents are the practice's, not hers, so any published version
opens; her signature and her PDF are looked up with ``client=request.client``.
An older version she never signed sends her to the current one; a draft is
a 404.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from practice.client_address import client_ip
from practice.forms import error_summary
from practice.models import Client

from ..models import ConsentDocument, ConsentSignature
from ..services.consent import (
    consent_sign,
    name_mismatch_message,
    signed_on,
    typed_name_matches,
)
from .access import PortalRequest, her_object_or_404, portal_client_required

PORTAL_HOME = "/portal/"


class ConsentSignForm(forms.Form):
    typed_name = forms.CharField(
        label="Your full name",
        max_length=200,
        help_text="Type your first and last name to sign.",
        error_messages={"required": "Please type your full name to sign."},
        widget=forms.TextInput(attrs={"autocomplete": "name", "autocapitalize": "words"}),
    )
    agree = forms.BooleanField(
        label="I have read and agree",
        error_messages={"required": "Please tick “I have read and agree” to sign."},
    )
    shown_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, client: Client, document: ConsentDocument, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.client = client
        self.document = document

    def clean_typed_name(self) -> str:
        typed = str(self.cleaned_data["typed_name"])
        if not typed_name_matches(self.client, typed):
            raise ValidationError(name_mismatch_message(self.client), code="name")
        return typed

    def describe_errors(self) -> None:
        """Point each field with an error at its message (read out with the field)."""
        for name in ("typed_name", "agree"):
            field = self[name]
            if field.errors:
                described = [f"{field.auto_id}_error"]
                if field.help_text:
                    described.append(f"{field.auto_id}_helptext")
                self.fields[name].widget.attrs["aria-describedby"] = " ".join(described)

    def clean_shown_sha256(self) -> str:
        shown = str(self.cleaned_data["shown_sha256"])
        if shown != self.document.text_sha256():
            raise ValidationError(
                "This document changed since the page opened; please read it again.",
                code="changed",
            )
        return shown


def _render(
    request: PortalRequest,
    document: ConsentDocument,
    *,
    form: ConsentSignForm | None,
    signature: ConsentSignature | None,
    newer: ConsentDocument | None = None,
) -> HttpResponse:
    if form is not None and form.is_bound:
        form.describe_errors()
    return render(
        request,
        "kap_sessions/portal/consent.html",
        {
            "document": document,
            "form": form,
            "errors": error_summary(form) if form is not None and form.is_bound else [],
            "signature": signature,
            "signed_on": (
                signed_on(request.client, signature.signed_at) if signature is not None else None
            ),
            "newer": newer,
            "portal_home": PORTAL_HOME,
        },
    )


@portal_client_required
@require_http_methods(["GET", "POST"])
def consent_detail(request: PortalRequest, pk: int) -> HttpResponse:
    document = her_object_or_404(request, ConsentDocument.objects.published(), pk=pk)
    signature = (
        ConsentSignature.objects.filter(client=request.client, document=document)
        .select_related("pdf")
        .first()
    )
    current = ConsentDocument.objects.current().filter(kind=document.kind).first()
    if signature is not None:
        # Signed (perhaps by this very form, sent twice): the record, not a form.
        newer = current if current is not None and current.pk != document.pk else None
        return _render(request, document, form=None, signature=signature, newer=newer)
    if current is None:
        raise Http404("No such document.")
    if current.pk != document.pk:
        return redirect("kap_sessions:portal_consent", pk=current.pk)

    if request.method != "POST":
        form = ConsentSignForm(
            initial={"shown_sha256": document.text_sha256()},
            client=request.client,
            document=document,
        )
        return _render(request, document, form=form, signature=None)

    form = ConsentSignForm(request.POST, client=request.client, document=document)
    if form.is_valid():
        try:
            consent_sign(
                client=request.client,
                document=document,
                typed_name=form.cleaned_data["typed_name"],
                ip=client_ip(request),
                user_agent=request.headers.get("user-agent", ""),
            )
        except ValidationError as exc:
            if exc.code == "not_current":
                messages.info(request, exc.messages[0])
                return redirect("kap_sessions:portal_consent", pk=document.pk)
            form.add_error(None, exc)
        else:
            messages.success(request, f"Thank you. You signed “{document.title}”.")
            return redirect("kap_sessions:portal_consent", pk=document.pk)
    return _render(request, document, form=form, signature=None)
