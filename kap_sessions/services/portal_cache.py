"""Her portal home's reads and rendered body, kept in the process and out of date the
moment anything of hers changes.

The home page reads her to-do list (intake, open questionnaires, consents to
sign), her upcoming appointments, her documents and her paperwork: eight
queries and half of the page's time (7.5 of 14 ms in process), for rows that
change a few times a week. :func:`portal_kept` keeps what the view computed
in this process (:class:`practice.memo.Memo`) under two *generations* held
in the shared cache, as random tokens:

- hers, bumped by every save or delete of a row her home page shows (the
  models of ``HER_MODELS``; a write that bypasses ``save()``, such as
  ``bulk_create``, calls :func:`portal_changed` itself);
- the practice's, bumped when a consent document changes (every client's
  to-do list names the current versions).

A token is bumped at once and again after commit, as the calendar's is
(``practice/calendar/cache.py``): a reader racing the writer cannot keep old
reads under the new token, and a rolled-back write costs one recompute.

Her client record is kept for every portal page (``portal_client`` in
``kap_sessions/views/access.py``, which hands each view its own copy), and
two things for her home (``kap_sessions/views/portal.py``): the rows as
read, and the page's body as rendered from them. The body also
depends on things that are not her rows: her time zone, the year in it, the
practice's therapist and video room, and which appointments are still
ahead (one may have started since the rows were read). The view names each
of those in the body's key (``PortalKept.remember(..., *vary)``), so a
change of any gives a new body; the key always holds the practice's date (a
questionnaire opens on a date). The body is rendered without the request:
no CSRF token, message or anything else of one request can be kept in it.

Nothing about her goes to Redis, only the two tokens: her rows and her page
stay in the memory of the process that made them, for at most
``KEEP_SECONDS``.

Redis is never needed: when the shared cache cannot be reached
(``practice.cache``), no process can tell the others of a change, so nothing
is kept and every view reads the database. A bump lost to an outage while a
process still holds older reads shows at most ``KEEP_SECONDS`` longer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from practice.memo import Memo
from practice.models import Appointment, Client, ClientDocument

from ..models import (
    ConsentDocument,
    ConsentSignature,
    Course,
    GoodFaithEstimate,
    Intake,
    ScreeningAssignment,
    Superbill,
    SuperbillLine,
)

__all__ = [
    "HER_MODELS",
    "KEEP_SECONDS",
    "PortalKept",
    "connect_signals",
    "portal_changed",
    "portal_kept",
    "portal_reads",
]

T = TypeVar("T")

PRACTICE_KEY = "portal:generation"
CLIENT_KEY = "portal:generation:{}"
# A token unused for a day lapses; a new one only costs a recompute.
TOKEN_SECONDS = 24 * 3600
KEEP_SECONDS = 60.0
# Her record, her home's reads and its rendered body: three entries for each
# client seen in the last minute.
_kept: Memo[Any] = Memo(max_size=1536, ttl=KEEP_SECONDS)

# The rows her home page shows, each naming her (a superbill's line through its superbill).
HER_MODELS: tuple[type[models.Model], ...] = (
    Client,
    Intake,
    ScreeningAssignment,
    ConsentSignature,
    Appointment,
    ClientDocument,
    Course,
    Superbill,
    SuperbillLine,
    GoodFaithEstimate,
)


def _tokens(client_id: int) -> tuple[str, str] | None:
    """The practice's and her generation, or None when the shared cache cannot be reached."""
    keys = [PRACTICE_KEY, CLIENT_KEY.format(client_id)]
    found = cache.get_many(keys)
    if len(found) < len(keys):
        for key in keys:
            if key not in found:
                cache.add(key, uuid.uuid4().hex, TOKEN_SECONDS)
        found = cache.get_many(keys)
        if len(found) < len(keys):
            return None
    return str(found[keys[0]]), str(found[keys[1]])


class PortalKept:
    """What this process keeps of one client's portal under her current generation.

    Built by :func:`portal_kept` once per request (one round trip to the shared
    cache for both tokens); each :meth:`remember` is then a lookup in this
    process only.
    """

    __slots__ = ("_prefix",)

    def __init__(self, prefix: str | None) -> None:
        self._prefix = prefix

    def remember(self, part: str, compute: Callable[[], T], *vary: object) -> T:
        """``compute()``, kept under ``part`` until her generation moves.

        ``vary`` names everything else the value depends on (her zone, the
        appointments still ahead...), so that a request differing in any of
        them computes its own. ``compute`` must return something the caller
        never changes in place: later views share it. With the shared cache
        unreachable nothing is kept.
        """
        if self._prefix is None:
            return compute()
        key = ":".join([self._prefix, part, *map(str, vary)])
        return cast(T, _kept.remember(key, compute))


def portal_kept(client_id: int) -> PortalKept:
    """Her portal's kept values, out of date when something of hers (or a consent
    document) changes, the practice's day turns, or ``KEEP_SECONDS`` pass."""
    tokens = _tokens(client_id)
    if tokens is None:
        return PortalKept(None)
    return PortalKept(":".join([str(client_id), *tokens, timezone.localdate().isoformat()]))


def portal_reads(client: Client, compute: Callable[[], T]) -> T:
    """``compute()``, kept in this process as :func:`portal_kept` says (one value per client)."""
    return portal_kept(client.pk).remember("reads", compute)


def _bump(key: str) -> None:
    cache.set(key, uuid.uuid4().hex, TOKEN_SECONDS)


def portal_changed(*, client_id: int | None) -> None:
    """Make the kept reads of her home (of every client's, for ``None``) out of date,
    now and again after commit."""
    key = PRACTICE_KEY if client_id is None else CLIENT_KEY.format(client_id)
    _bump(key)
    transaction.on_commit(lambda: _bump(key))


def _client_id_of(instance: models.Model) -> int | None:
    if isinstance(instance, Client):
        return instance.pk
    if isinstance(instance, SuperbillLine):
        return (
            Superbill.objects.filter(pk=instance.superbill_id)
            .values_list("client_id", flat=True)
            .first()
        )
    return cast(int | None, getattr(instance, "client_id", None))


def _her_row_changed(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    client_id = _client_id_of(instance)
    if client_id is not None:  # a blocked time or a consultation is nobody's portal
        portal_changed(client_id=client_id)


def _consent_document_changed(**kwargs: Any) -> None:
    portal_changed(client_id=None)


def connect_signals() -> None:
    """Make every save or delete of the rows her home shows out-date its kept reads.

    Called by ``KapSessionsConfig.ready()`` in every process (web, worker,
    management commands); the dispatch uids make a second call harmless.
    """
    for name, signal in (("save", post_save), ("delete", post_delete)):
        for model in HER_MODELS:
            signal.connect(
                _her_row_changed, sender=model, dispatch_uid=f"portal-{name}-{model.__name__}"
            )
        signal.connect(
            _consent_document_changed,
            sender=ConsentDocument,
            dispatch_uid=f"portal-{name}-ConsentDocument",
        )
