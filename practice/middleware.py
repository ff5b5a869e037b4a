from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


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
