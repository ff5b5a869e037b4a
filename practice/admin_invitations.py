"""The portal part of a client's page in the admin: where her invitation stands, and the button."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from .calendar.display import in_practice_time
from .client_records import ClientInvitation
from .models import Client


@dataclass(frozen=True)
class InvitationPanel:
    state: str
    button: str
    help: str
    invite_url: str


def portal_invitation_panel(client: Client, *, invite_url: str) -> InvitationPanel:
    """What the therapist reads about ``client``'s portal access, from her newest invitation.

    ``invite_url`` is empty when the viewer may not send one (no button then).
    """
    now = timezone.now()
    latest = ClientInvitation.objects.filter(client=client).order_by("-created_at", "-id").first()
    resend = "Send a new invitation"
    if latest is not None and latest.used_at is not None:
        return InvitationPanel(
            state=f"She has a portal login (set up {in_practice_time(latest.used_at)}).",
            button=resend,
            help="A new link lets her choose a new password.",
            invite_url=invite_url,
        )
    if client.user_id is not None:
        return InvitationPanel(
            state="She has a portal login.",
            button=resend,
            help="A new link lets her choose a new password.",
            invite_url=invite_url,
        )
    if latest is not None and latest.revoked_at is None:
        if latest.is_usable(now):
            state = (
                f"Invitation sent {in_practice_time(latest.created_at)}; "
                f"the link works until {in_practice_time(latest.expires_at)}."
            )
        else:
            state = (
                f"The invitation sent {in_practice_time(latest.created_at)} expired "
                f"{in_practice_time(latest.expires_at)} without being used."
            )
        return InvitationPanel(
            state=state,
            button=resend,
            help="The link sent before stops working.",
            invite_url=invite_url,
        )
    return InvitationPanel(
        state="Not invited to the client portal yet.",
        button="Send portal invitation",
        help=f"By email to {client.email}",
        invite_url=invite_url,
    )
