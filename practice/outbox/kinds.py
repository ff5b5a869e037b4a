"""The kinds of email the outbox can send: an extension point the apps fill.

Each app registers its kinds from its ``emails.py`` (imported by its
``AppConfig.ready()``)::

    @email_kind("consultation.booked")
    def consultation_booked(message: OutboxMessage) -> EmailMultiAlternatives | None:
        ...

A kind's builder is called at send time, inside the sender's transaction,
with the outbox row. It fetches what the row's ids name and returns the email,
or ``None`` when the email is no longer wanted (what it was about is gone,
cancelled or moved): the row is then voided, not sent. That is the kind's
validity check. ``after_send`` may stamp the object it was about, in the same
transaction as the row's own stamp.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from django.db.models import Model, QuerySet

if TYPE_CHECKING:
    from django.core.mail import EmailMultiAlternatives

    from .models import OutboxMessage

Builder = Callable[["OutboxMessage"], "EmailMultiAlternatives | None"]
AfterSend = Callable[["OutboxMessage"], None]
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class EmailKind:
    name: str
    build: Builder
    after_send: AfterSend | None = None


_kinds: dict[str, EmailKind] = {}


def email_kind(name: str, *, after_send: AfterSend | None = None) -> Callable[[Builder], Builder]:
    """Register the decorated function as the builder of kind ``name``."""

    def register(build: Builder) -> Builder:
        existing = _kinds.get(name)
        if existing is not None and existing.build is not build:
            raise ValueError(f"email kind {name!r} is registered twice")
        _kinds[name] = EmailKind(name=name, build=build, after_send=after_send)
        return build

    return register


def object_of(queryset: QuerySet[M], message: OutboxMessage) -> M | None:
    """The object ``message`` is about, from ``queryset``; ``None`` when it is gone."""
    if message.object_id is None:
        return None
    return queryset.filter(pk=message.object_id).first()


def kind_named(name: str) -> EmailKind | None:
    return _kinds.get(name)


def kind_names() -> list[str]:
    return sorted(_kinds)
