"""How long a signed-in session lasts, and ending a person's sessions at once.

- Staff: STAFF_SESSION_IDLE_MINUTES without a request, or
  STAFF_SESSION_MAX_HOURS after signing in, ends the session
  (practice.middleware.StaffSessionLimitsMiddleware asks
  :func:`staff_session_expired` on every request). The times are POSIX
  seconds in the session, written at sign-in and on each request.
- Anyone: saving a user with ``is_active=False`` deletes her sessions from
  the database session store there and then (:func:`user_sessions_end`), so
  a deactivated assistant's open tab is signed out at its next click.
- The store itself (``SESSION_ENGINE = "practice.sessions"``) is Django's
  database store that reads a session key Django could not have made as no
  session (:class:`SessionStore`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, SessionBase
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

__all__ = ["SessionStore", "staff_session_expired", "staff_session_touch", "user_sessions_end"]

SIGNED_IN_AT_KEY = "practice_signed_in_at"
LAST_SEEN_AT_KEY = "practice_last_seen_at"


_KEY_CHARS = frozenset(VALID_KEY_CHARS)


class SessionStore(DatabaseSessionStore):
    """Django's database sessions, with the key checked before it reaches a query.

    Django makes keys of 32 lower-case letters and digits, but a cookie can
    carry anything, a NUL included (Django's cookie parser reads the escape
    ``"\\000"`` in a quoted value), and PostgreSQL refuses a NUL in a query:
    every page would answer that visitor with a 500. A key Django could not
    have made is read as no session, as an unknown one is.
    """

    def _validate_session_key(self, key: str | None) -> bool:
        # Django's own rule (at least 8 characters), and only the characters its keys have.
        return key is not None and len(key) >= 8 and set(key) <= _KEY_CHARS


def _now() -> float:
    return timezone.now().timestamp()


def staff_session_expired(session: SessionBase) -> bool:
    """Whether a staff session has been idle or open too long (never true for a fresh one)."""
    now = _now()
    signed_in_at = session.get(SIGNED_IN_AT_KEY)
    last_seen_at = session.get(LAST_SEEN_AT_KEY)
    if signed_in_at is not None and now - signed_in_at > settings.STAFF_SESSION_MAX_HOURS * 3600:
        return True
    return (
        last_seen_at is not None and now - last_seen_at > settings.STAFF_SESSION_IDLE_MINUTES * 60
    )


def staff_session_touch(session: SessionBase) -> None:
    """Record a request now (and the sign-in time, if the session predates this module)."""
    now = _now()
    session.setdefault(SIGNED_IN_AT_KEY, now)
    session[LAST_SEEN_AT_KEY] = now


@receiver(user_logged_in)
def _remember_sign_in(*, request: HttpRequest | None, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        now = _now()
        request.session[SIGNED_IN_AT_KEY] = now
        request.session[LAST_SEEN_AT_KEY] = now


def user_sessions_end(*, user_id: int) -> int:
    """Delete every live database session of the user ``user_id``; returns how many.

    Side effects: deletes Session rows. Session data is signed and may be
    compressed, so the user's id cannot be matched in SQL; only unexpired
    sessions are read, and those are the people active within the last
    SESSION_COOKIE_AGE (an hour), a handful in a practice of one therapist.
    """
    wanted = str(user_id)
    live = Session.objects.filter(expire_date__gt=timezone.now()).only(
        "session_key", "session_data"
    )
    keys = [
        session.session_key
        for session in live.iterator(chunk_size=500)
        if str(session.get_decoded().get("_auth_user_id")) == wanted
    ]
    if not keys:
        return 0
    deleted, _ = Session.objects.filter(session_key__in=keys).delete()
    return deleted


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def _end_sessions_of_the_deactivated(*, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created and not instance.is_active:
        user_sessions_end(user_id=instance.pk)
