"""Private manage links: long random tokens, stored only as their SHA-256.

Each email that carries a link gets a new one (minted when the email is built,
at send time), so the raw token never needs to be stored or queued. Services,
emails and views all import this module; it imports only the models.
"""

from __future__ import annotations

import hashlib
import secrets

from .models import Consultation, ManageLink


def token_new() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def manage_link_issue(*, consultation: Consultation) -> str:
    """A new private token for ``consultation``'s manage page (only its hash is kept)."""
    token = token_new()
    ManageLink.objects.create(consultation=consultation, token_hash=token_hash(token))
    return token


def manage_link_resolve(*, token: str) -> Consultation | None:
    if not token or len(token) > 100:
        return None
    link = (
        ManageLink.objects.select_related("consultation__appointment")
        .filter(token_hash=token_hash(token))
        .first()
    )
    return link.consultation if link else None
