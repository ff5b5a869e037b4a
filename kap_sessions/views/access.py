"""Who may open a portal page: a signed-in user who is a client, and only her own things.

``portal_client_required`` wraps every portal view. Anonymous visitors go to
the login page (with ``?next=``); a signed-in user without a client record
(the therapist and other staff included) gets a calm 403 page rather than an
error; otherwise ``request.client`` is her :class:`practice.models.Client`.
Every object a portal view looks up is then fetched with
``get_object_or_404(..., client=request.client)``, so another client's object
is a 404 whatever number is in the address. ``her_object_or_404`` does that
lookup and writes a ``not_found`` audit line when it misses, so a client
trying another's numbers leaves a trace.

Every page she opens is her own access to her record and writes one
``view`` audit line naming her record, the address and the outcome, never
what the page showed. What she sends is audited by the service that writes
it (her profile, an intake part, an answer, a signature). A view that writes
a more precise line itself (a download, her export) is marked
``@audits_itself`` and is left to do so.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache, wraps
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.cache import never_cache

if TYPE_CHECKING:
    from practice.models import Client

    from ..services.portal_cache import PortalKept

__all__ = ["PortalRequest", "audits_itself", "her_object_or_404", "portal_client_required"]

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)
M = TypeVar("M", bound=models.Model)


class PortalRequest(HttpRequest):
    """The request a portal view receives: ``client`` and ``kept`` are set by the decorator.

    ``client`` is the view's own copy of her record (change it freely);
    ``kept`` is what this process keeps of her portal under her current
    generation (``kap_sessions.services.portal_cache``).
    """

    client: Client
    kept: PortalKept


# Her client record's id, remembered in her (server-side) session by her
# first portal page: later pages find her kept record by it.
CLIENT_ID_SESSION_KEY = "portal_client_id"


@cache
def _client_of_user_sql() -> str:
    """Her client record by her login (a one-to-one link), every column of the model."""
    from practice.models import Client

    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in Client._meta.concrete_fields)
    user_column = quote(Client._meta.get_field("user").column)
    return (
        f"SELECT {columns} FROM {quote(Client._meta.db_table)} "  # noqa: S608  (the model's own table and columns)
        f"WHERE {user_column} = %s LIMIT 1"
    )


def _client_of_user(user_id: int) -> Client | None:
    """Her client record by her login, read from the database."""
    from practice.models import Client

    return next(iter(Client.objects.raw(_client_of_user_sql(), [user_id])), None)


def portal_client(request: HttpRequest) -> tuple[Client | None, PortalKept | None]:
    """The signed-in user's client record (or None: anonymous, staff, or no record),
    and her portal's kept values when she has a record.

    Every portal view asks this first. Her record is kept in this process
    under her generation (``portal_cache``): a save of it out-dates it, as
    any change of hers does. To find it without a query, her first portal
    page remembers her record's id in her session (the server's, so it is
    not hers to change); the kept record must still name her login, or it
    is read again. Each call returns a copy: a view may change its own.

    On a miss the statement is built once per process and read through
    ``raw()``, which gives a full ``Client`` with each field converted from
    the database as the ORM does (the ORM spent 0.4 ms of a 0.6 ms lookup
    compiling the same SELECT each time).
    """
    from ..services.portal_cache import portal_kept

    user = request.user
    if not user.is_authenticated:
        return None, None
    client_id = request.session.get(CLIENT_ID_SESSION_KEY)
    if isinstance(client_id, int):
        kept = portal_kept(client_id)
        client = kept.remember("client", lambda: _client_of_user(user.pk))
        if client is not None and client.pk == client_id and client.user_id == user.pk:
            return copy.copy(client), kept
    client = _client_of_user(user.pk)
    if client is None:
        request.session.pop(CLIENT_ID_SESSION_KEY, None)
        return None, None
    request.session[CLIENT_ID_SESSION_KEY] = client.pk
    kept = portal_kept(client.pk)
    return copy.copy(kept.remember("client", lambda: client)), kept


def portal_client_required(
    view: Callable[Concatenate[PortalRequest, P], R],
) -> Callable[Concatenate[HttpRequest, P], R | HttpResponse]:
    """Let a client in to her portal page; send anyone else to sign in or to a 403 page."""

    @wraps(view)
    @never_cache
    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> R | HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        client, kept = portal_client(request)
        if client is None or kept is None or request.user.is_staff:
            return render(request, "kap_sessions/portal/not_a_client.html", status=403)
        portal_request = cast(PortalRequest, request)
        portal_request.client = client
        portal_request.kept = kept
        response = view(portal_request, *args, **kwargs)
        if (
            request.method in ("GET", "HEAD")
            and response.status_code < 400
            and not getattr(view, "audits_itself", False)
        ):
            _audit_her_access(portal_request)
        return response

    return cast(Any, wrapped)


def audits_itself(view: Callable[P, R]) -> Callable[P, R]:
    """Mark a portal view that writes its own audit line (under ``portal_client_required``)."""
    view.audits_itself = True  # type: ignore[attr-defined]
    return view


def _audit_her_access(request: PortalRequest) -> None:
    from practice.models import AuditEvent
    from practice.services import audit_record

    audit_record(
        actor=request.user,  # type: ignore[arg-type]
        action=AuditEvent.Action.VIEW,
        obj=request.client,
        client=request.client,
        request=request,
        # The view's last write: the session's save that follows makes it durable.
        durable_with_session=True,
    )


def her_object_or_404(request: PortalRequest, queryset: models.QuerySet[M], *, pk: Any) -> M:
    """``queryset``'s row ``pk`` (already narrowed to hers), or a 404 that is audited.

    The miss is written as a ``not_found`` line naming the model and the id
    she asked for, never whose it is: the line belongs to her.
    """
    from practice.models import AuditEvent
    from practice.services import audit_record

    try:
        return queryset.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action=AuditEvent.Action.VIEW,
            obj=queryset.model,
            object_id=str(pk),
            client=request.client,
            request=request,
            outcome=AuditEvent.Outcome.NOT_FOUND,
        )
        raise Http404("Not found.") from None
