"""Invitations to the client portal: sent by the therapist, accepted once by her.

**The token.** A link is a long random token; only its SHA-256 is kept
(:class:`practice.client_records.ClientInvitation`). The raw token is minted
when the email is built, at send time (:func:`invitation_link_issue`, called
by the email kind in ``practice/emails.py``), as the consultation's manage
links are, so it never sits in the database or in an outbox row's params.
Until then the row holds the hash of a token nobody was ever given. A send
that fails rolls the new hash back with it; a retry mints another.

**At most one live link per client.** :func:`client_invite` revokes her
outstanding invitations before it writes the new one (the database refuses
two: ``practice_clientinvitation_one_outstanding_per_client``), so an old
email found later in a shared inbox opens nothing.

**Accepting** (:func:`client_invitation_accept`) sets her password on her
login (created on first use, her email counted as verified, since the link
reached that inbox) and spends the link. Staff accounts are never a client's
login: an invitation to a staff member's address is refused at both ends.

**Asking again** (:func:`client_invitation_renew`): a dead link's page lets
whoever holds it ask for a fresh invitation, which goes only to the email
address on file, so the page can say the same thing whatever happened.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .client_records import ClientInvitation
from .models import AuditEvent, Client, User
from .outbox.services import outbox_put
from .services import audit_record

__all__ = [
    "INVITATION_EMAIL_KIND",
    "InvitationUnusable",
    "client_invitation_accept",
    "client_invitation_renew",
    "client_invite",
    "invitation_find",
    "invitation_link_issue",
]

INVITATION_EMAIL_KIND = "client.invitation"
# A dead link asked twice within this long sends one new invitation, not two.
RENEW_QUIET_PERIOD = timedelta(minutes=5)
TOKEN_MAX_LENGTH = 100


class InvitationUnusable(ValidationError):
    """The link was used, replaced or has expired since the page was shown."""


def _token_new() -> str:
    return secrets.token_urlsafe(32)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _staff_login_for(email: str) -> User | None:
    return User.objects.filter(email__iexact=email, is_staff=True).first()


@transaction.atomic
def client_invite(*, client: Client, actor: User | None) -> ClientInvitation:
    """Invite ``client`` to the portal; return the new invitation.

    Side effects, in one transaction: her outstanding invitations revoked;
    the new row (expiring after ``CLIENT_INVITATION_DAYS``); the invitation
    email asked of the outbox (its link minted when it is sent); one audit
    line with ``actor``. Raises ``ValidationError`` when her address is a
    staff login's.
    """
    client = Client.objects.select_for_update().get(pk=client.pk)
    linked_staff = (
        client.user_id is not None
        and User.objects.filter(pk=client.user_id, is_staff=True).exists()
    )
    if linked_staff or _staff_login_for(client.email) is not None:
        raise ValidationError(
            "This address belongs to a staff login; a staff login cannot be a client's portal "
            "login. Give her record her own email address first.",
            code="staff",
        )
    now = timezone.now()
    ClientInvitation.objects.filter(client=client).outstanding().update(revoked_at=now)
    invitation = ClientInvitation.objects.create(
        client=client,
        token_hash=_token_hash(_token_new()),
        created_at=now,
        expires_at=now + timedelta(days=settings.CLIENT_INVITATION_DAYS),
        sent_by=actor,
    )
    outbox_put(
        kind=INVITATION_EMAIL_KIND,
        key=f"{INVITATION_EMAIL_KIND}:{invitation.pk}",
        about=invitation,
        recipient=client.email,
    )
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=invitation, client=client)
    return invitation


def invitation_link_issue(*, invitation: ClientInvitation) -> str:
    """A new token for ``invitation``'s link; only its hash is saved (at send time).

    Any token issued before for the same invitation stops working: the link
    in the email being sent is the one that opens.
    """
    token = _token_new()
    invitation.token_hash = _token_hash(token)
    invitation.save(update_fields=["token_hash"])
    return token


def invitation_find(*, token: str) -> ClientInvitation | None:
    """The invitation ``token`` opens, whatever its state, with its client; else ``None``."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    return (
        ClientInvitation.objects.select_related("client")
        .filter(token_hash=_token_hash(token))
        .first()
    )


@transaction.atomic
def client_invitation_accept(*, invitation: ClientInvitation, password: str) -> User:
    """Set her password through ``invitation`` and spend it; return her login.

    Side effects, in one transaction: her login created (email as login) or,
    when she has one, its password replaced; her address recorded with
    allauth as verified and primary; the client record linked to the login;
    the invitation stamped used; one audit line with her as the actor.
    Raises :class:`InvitationUnusable` when the link was used, replaced or
    has expired meanwhile, and ``ValidationError`` when the address is a
    staff login's. The password is validated by the caller's form.
    """
    now = timezone.now()
    # The client first, then the invitation: the order client_invite locks in.
    client = Client.objects.select_for_update().get(pk=invitation.client_id)
    invitation = ClientInvitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_usable(now):
        raise InvitationUnusable("This link can no longer be used.", code="unusable")
    email = client.email.lower()
    user = (
        User.objects.filter(pk=client.user_id).first()
        if client.user_id
        else User.objects.filter(email__iexact=email).first()
    )
    if user is not None and user.is_staff:
        raise ValidationError("A staff login cannot accept a client's invitation.", code="staff")
    if user is not None and Client.objects.filter(user=user).exclude(pk=client.pk).exists():
        raise ValidationError("This login belongs to another client.", code="taken")
    if user is None:
        user = User.objects.create_user(
            email=email, password=password, first_name=client.first_name, last_name=client.last_name
        )
    else:
        user.set_password(password)
        user.save(update_fields=["password"])
    EmailAddress.objects.filter(user=user, primary=True).exclude(email__iexact=email).update(
        primary=False
    )
    address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
    if address is None:
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    elif not (address.verified and address.primary):
        address.verified = address.primary = True
        address.save(update_fields=["verified", "primary"])
    if client.user_id != user.pk:
        client.user = user
        client.save(update_fields=["user", "updated_at"])
    invitation.used_at = now
    invitation.save(update_fields=["used_at"])
    audit_record(actor=user, action=AuditEvent.Action.CHANGE, obj=invitation, client=client)
    return user


@transaction.atomic
def client_invitation_renew(*, invitation: ClientInvitation) -> ClientInvitation | None:
    """A fresh invitation for whoever holds a dead link to ``invitation``, to the address on file.

    Nothing is sent when her record is no longer active, when the address is
    a staff login's, or when a fresh one was sent in the last few minutes
    (``RENEW_QUIET_PERIOD``); the caller tells the visitor the same in every
    case. Side effects: those of :func:`client_invite`, with no actor.
    """
    client = Client.objects.select_for_update().get(pk=invitation.client_id)
    if client.status != Client.Status.ACTIVE:
        return None
    now = timezone.now()
    recent = (
        ClientInvitation.objects.usable(now)
        .filter(client=client, created_at__gt=now - RENEW_QUIET_PERIOD)
        .exists()
    )
    if recent:
        return None
    try:
        return client_invite(client=client, actor=None)
    except ValidationError:
        return None
