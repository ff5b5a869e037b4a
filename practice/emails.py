"""The core's own emails: the invitation to the client portal.

Like every app's ``emails.py``, one named function per email (built by
``practice.mail.build_email``) and, at the end, the outbox kinds that build
them from an outbox row's ids at send time. Imported by
``PracticeConfig.ready()``, which registers the kinds.

Nothing clinical goes in: the invitation says a client portal is ready,
never what the practice treats.
"""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone

from .calendar.display import clock
from .calendar.zones import zone_label
from .client_records import ClientInvitation
from .identity import practice_profile
from .invitations import INVITATION_EMAIL_KIND, invitation_link_issue
from .mail import absolute_url, build_email
from .models import OutboxMessage
from .outbox.kinds import email_kind, object_of


def client_invitation(*, invitation: ClientInvitation, token: str) -> EmailMultiAlternatives:
    """Her link to set a password for the portal, and until when it works."""
    client = invitation.client
    zone = client.zone_or(practice_profile().zone)
    expires = invitation.expires_at.astimezone(zone)
    return build_email(
        "client-invitation",
        to=[client.email],
        context={
            "first_name": client.display_name,
            "accept_url": absolute_url(reverse("invitation_accept", args=[token])),
            "expires": f"{expires:%A, %B} {expires.day} at {clock(expires)} "
            f"({zone_label(zone.key)})",
        },
    )


@email_kind(INVITATION_EMAIL_KIND)
def _client_invitation(message: OutboxMessage) -> EmailMultiAlternatives | None:
    invitation = object_of(ClientInvitation.objects.select_related("client"), message)
    if invitation is None or not invitation.is_usable(timezone.now()):
        return None  # used, replaced by a newer one, or expired before it could go
    token = invitation_link_issue(invitation=invitation)
    return client_invitation(invitation=invitation, token=token)
