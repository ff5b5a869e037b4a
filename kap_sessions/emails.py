"""One function per KAP email, each built by ``practice.mail.build_email``, and their outbox kinds.

Nothing clinical goes into any of them: no answer, no questionnaire, no
treatment word, no reason. An email says that something is waiting and
links to where it is, behind a sign-in: the therapist's workspace, or her
portal.

The outbox kinds at the end build each email from the ids of its outbox row
at send time, and decide whether it is still wanted (``None`` voids the
row). This module is imported by ``KapSessionsConfig.ready()``, which
registers them.
"""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from practice.identity import practice_profile
from practice.mail import absolute_url, build_email
from practice.models import Client, ClientDocument, OutboxMessage
from practice.outbox.kinds import email_kind, object_of

from .models import GoodFaithEstimate, SafetyFlag, ScreeningAssignment

# The portal's address is part of the URL contract (DESIGN.md).
PORTAL_PATH = "/portal/"


def safety_alert(*, flag: SafetyFlag) -> EmailMultiAlternatives:
    """To the therapist: "please look at a client's record", and a link to it. Nothing else."""
    return build_email(
        "kap-safety-alert",
        to=[practice_profile().email],
        context={
            "record_url": absolute_url(
                reverse("admin:practice_client_change", args=[flag.client_id])
            ),
        },
    )


def document_ready(*, document: ClientDocument) -> EmailMultiAlternatives:
    """To her: a document is ready in her portal. Not which one, nor why."""
    client = document.client
    return build_email(
        "kap-document-ready",
        to=[client.email],
        context={"first_name": client.display_name, "portal_url": absolute_url(PORTAL_PATH)},
    )


def estimate_ready(*, estimate: GoodFaithEstimate) -> EmailMultiAlternatives:
    """To her: a document (her Good Faith Estimate) is ready in her portal. Not which one."""
    client = estimate.client
    return build_email(
        "kap-document-ready",
        to=[client.email],
        context={"first_name": client.display_name, "portal_url": absolute_url(PORTAL_PATH)},
    )


def forms_due(*, client: Client) -> EmailMultiAlternatives:
    """To her: something is ready in her portal (a questionnaire). Not which one, nor why."""
    return build_email(
        "kap-forms-due",
        to=[client.email],
        context={"first_name": client.display_name, "portal_url": absolute_url(PORTAL_PATH)},
    )


# --- Outbox kinds: build from ids at send time, or void --------------------------


@email_kind("kap.safety_alert")
def _safety_alert(message: OutboxMessage) -> EmailMultiAlternatives | None:
    flag = object_of(SafetyFlag.objects.all(), message)
    if flag is None or not flag.is_open:
        return None  # gone, or already answered in the workspace
    return safety_alert(flag=flag)


@email_kind("kap.document_ready")
def _document_ready(message: OutboxMessage) -> EmailMultiAlternatives | None:
    document = object_of(ClientDocument.objects.select_related("client"), message)
    if document is None or not document.visible_to_client:
        return None  # withdrawn, or no longer shown in her portal
    return document_ready(document=document)


@email_kind("kap.estimate_ready")
def _estimate_ready(message: OutboxMessage) -> EmailMultiAlternatives | None:
    estimate = object_of(GoodFaithEstimate.objects.select_related("client"), message)
    if estimate is None or estimate.shared_at is None:
        return None  # gone, or no longer shown in her portal
    return estimate_ready(estimate=estimate)


@email_kind("kap.forms_due")
def _forms_due(message: OutboxMessage) -> EmailMultiAlternatives | None:
    client = object_of(Client.objects.all(), message)
    if client is None or client.user_id is None:
        return None  # gone, or no portal login to sign in with
    if not ScreeningAssignment.objects.open_for(client).exists():
        return None  # answered or withdrawn already: nothing waits for her
    return forms_due(client=client)
