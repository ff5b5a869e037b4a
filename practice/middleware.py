from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers

from .sessions import staff_session_expired, staff_session_touch


def staff_has_mfa(user: object) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class StaffMFARequiredMiddleware:
    """Keep the admin closed to staff who have not enrolled a second factor.

    allauth asks for the second factor at login once one is enrolled, so a
    staff session that reaches the admin has passed it. Staff without one are
    sent to the page that sets up an authenticator app (TOTP) and recovery
    codes.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.STAFF_MFA_REQUIRED
            and request.path.startswith("/admin/")
            and request.user.is_authenticated
            and request.user.is_staff
            and not staff_has_mfa(request.user)
        ):
            messages.info(
                request,
                "Before the admin opens, set up an authenticator app for your account.",
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)


class StaffSessionLimitsMiddleware:
    """End a staff session after STAFF_SESSION_IDLE_MINUTES idle or STAFF_SESSION_MAX_HOURS in all.

    Everybody's session already ends SESSION_COOKIE_AGE after the last request
    (the database session's expiry) and when the browser closes. Staff see
    every client's record, so theirs is shorter; the times are kept in the
    session itself (practice/sessions.py), because moving the session's own
    expiry would also turn the browser-close cookie into a lasting one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and request.user.is_staff:
            if staff_session_expired(request.session):
                logout(request)
                messages.info(request, "You were signed out. Please sign in again.")
            else:
                staff_session_touch(request.session)
        return self.get_response(request)


NO_STORE_PREFIXES = ("/portal/", "/admin/", "/workspace/", "/accounts/")


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every page that can show a client's record.

    The portal, the admin, the workspace's document downloads and the
    sign-in pages: no browser cache, shared computer or proxy keeps a copy.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(NO_STORE_PREFIXES):
            add_never_cache_headers(response)
        return response
