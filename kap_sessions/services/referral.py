"""The "not a fit right now" letter: kind words and resources, instead of a bare refusal.

For a client who is not eligible, the therapist issues from the admin a
letter on the practice's letterhead (PDF) that thanks her, says plainly and
kindly that this is not the right care for her now, and lists where to turn:
emergency help, the 988 Suicide & Crisis Lifeline, the Postpartum Support
International HelpLine, and how to find a psychiatrist or perinatal
specialist near her. It names no reason and no diagnosis: the letter is hers
to keep and to show whoever she likes.

The PDF is rendered before the transaction (WeasyPrint takes a moment), then
stored as a private document she can see in her portal, with the email that
tells her a document is ready, in one transaction.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from practice.models import AuditEvent, Client, ClientDocument, User
from practice.outbox.services import outbox_put
from practice.pdf import render_pdf
from practice.private_files import private_file_save
from practice.services import audit_record

from ..models import EligibilityStatus
from .eligibility import eligibility_for

DOCUMENT_READY_KIND = "kap.document_ready"
REFERRAL_LETTER_TITLE = "A letter with next steps and resources"
REFERRAL_LETTER_TEMPLATE = "pdf/referral_letter.html"

ONLY_WHEN_NOT_ELIGIBLE = (
    "A “not a fit right now” letter is for a client who is not eligible; "
    "her eligibility says otherwise."
)


def referral_letter_render(*, client: Client) -> bytes:
    """The letter to ``client`` as PDF bytes, dated today in the practice's calendar."""
    return render_pdf(
        REFERRAL_LETTER_TEMPLATE,
        {"client": client, "date": timezone.localdate()},
    )


def referral_letter_issue(*, client: Client, actor: User) -> ClientDocument:
    """Issue the "not a fit right now" letter to ``client`` and tell her it is ready.

    Raises ``ValidationError`` unless her eligibility (an override included)
    is "not eligible".

    Side effects:
    - renders the PDF and stores it as a private document of kind
      ``referral_letter``, visible in her portal (``private_file_save``);
    - writes the outbox row of the ``kap.document_ready`` email to her,
      which says only that a document is ready, with a link to her portal;
    - appends a "created" line to the audit log for her record (no content).
    """
    if eligibility_for(client).status != EligibilityStatus.NOT_ELIGIBLE:
        raise ValidationError(ONLY_WHEN_NOT_ELIGIBLE, code="not_ineligible")
    content = referral_letter_render(client=client)
    with transaction.atomic(durable=True):
        document = private_file_save(
            client=client,
            kind=ClientDocument.Kind.REFERRAL_LETTER,
            title=REFERRAL_LETTER_TITLE,
            content=content,
            content_type=ClientDocument.ContentType.PDF,
            created_by=actor,
            visible_to_client=True,
        )
        outbox_put(
            kind=DOCUMENT_READY_KIND,
            key=f"kap:document:{document.pk}:ready",
            about=document,
            recipient=client.email,
        )
        audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=document, client=client)
    return document
