"""Links in newsletter emails.

Confirmation links are signed and expire (``NEWSLETTER_CONFIRM_MAX_AGE``);
they also carry the time of the opt-in they confirm, so a link from before an
unsubscription cannot confirm a later one. Unsubscribe and preferences links
are signed and never expire: a reader must be able to leave from a newsletter
years old.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from .models import Subscriber

_CONFIRM_SALT = "newsletter.confirm"
_READER_SALT = "newsletter.reader"


class BadToken(Exception):
    """The link was altered, is for someone who is gone, or has expired."""

    def __init__(self, *, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def confirm_token(subscriber: Subscriber) -> str:
    return signing.dumps(
        {"s": subscriber.pk, "at": int(subscriber.consent_at.timestamp())},
        salt=_CONFIRM_SALT,
        compress=True,
    )


def confirm_token_read(token: str, *, allow_expired: bool = False) -> tuple[int, int]:
    """Return (subscriber id, opt-in time) or raise :class:`BadToken`.

    ``allow_expired`` reads a link past its age, still checking its signature:
    only to tell a reader who confirmed with it long ago that she is subscribed.
    """
    max_age = None if allow_expired else settings.NEWSLETTER_CONFIRM_MAX_AGE
    try:
        data = signing.loads(token, salt=_CONFIRM_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise BadToken(expired=True) from exc
    except signing.BadSignature as exc:
        raise BadToken from exc
    try:
        return int(data["s"]), int(data["at"])
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        # OverflowError: a signed payload of a shape no link of ours has
        # ({"at": Infinity}, which the signer's JSON reads back).
        raise BadToken from exc


def reader_token(subscriber: Subscriber) -> str:
    return signing.Signer(salt=_READER_SALT).sign(str(subscriber.pk))


def reader_token_read(token: str) -> int:
    try:
        return int(signing.Signer(salt=_READER_SALT).unsign(token))
    except (signing.BadSignature, ValueError) as exc:
        raise BadToken from exc
