"""The pages behind a portal invitation's link: set a password, or ask for a new link.

The link is ``/accounts/welcome/<token>/``: beside allauth's pages, since
accepting creates her login; ``practice/invitations.py`` does the work.
After the password is set she is signed in through allauth's login flow
(its session settings and second-factor rules apply) and offered a second
sign-in step on :func:`invitation_welcome`, from where she goes on to her
portal (``LOGIN_REDIRECT_URL``).

A link that no longer works says why in plain words (expired, already used,
replaced by a newer one, or unknown) and offers to send a new invitation.
That request answers the same whatever the token was: a new invitation goes
only to the address on the client's record, so the visitor learns nothing
about who has an account.
"""

from __future__ import annotations

from typing import Any

from allauth.account.forms import SetPasswordForm
from allauth.account.utils import perform_login
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from .client_records import ClientInvitation
from .invitations import (
    InvitationUnusable,
    client_invitation_accept,
    client_invitation_renew,
    invitation_find,
)
from .models import Client, User
from .ratelimit import rate_limited

__all__ = ["InvitationPasswordForm", "invitation_accept", "invitation_renew", "invitation_welcome"]


class InvitationPasswordForm(SetPasswordForm):
    """allauth's set-password form (its validators: ``AUTH_PASSWORD_VALIDATORS``), in her words."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        password1, password2 = self.fields["password1"], self.fields["password2"]
        password1.label = "Choose a password"
        password1.help_text = "At least 10 characters. A short sentence you remember works well."
        password2.label = "Type it again"
        for field in self.fields.values():
            field.widget.attrs.pop("placeholder", None)


def _candidate_login(client: Client) -> User:
    """Her login as it will be: the one she has, or an unsaved one for the validators to read."""
    user = (
        User.objects.filter(pk=client.user_id).first()
        if client.user_id
        else User.objects.filter(email__iexact=client.email).first()
    )
    return user or User(
        email=client.email.lower(), first_name=client.first_name, last_name=client.last_name
    )


def _dead_link(
    request: HttpRequest, token: str, invitation: ClientInvitation | None
) -> HttpResponse:
    now = timezone.now()
    if invitation is None:
        state = "unknown"
    elif invitation.used_at is not None:
        state = "used"
    elif invitation.revoked_at is not None:
        state = "replaced"
    elif invitation.is_expired(now):
        state = "expired"
    else:
        state = "unknown"
    return render(
        request,
        "account/invitation_dead.html",
        {"state": state, "token": token},
        status=404 if state == "unknown" else 410,
    )


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Her invitation's link: a set-password form, or a page saying why the link is dead."""
    if request.user.is_authenticated and request.user.is_staff:
        return render(request, "account/invitation_staff.html", status=403)
    invitation = invitation_find(token=token)
    if invitation is None or not invitation.is_usable(timezone.now()):
        return _dead_link(request, token, invitation)
    client = invitation.client
    login = _candidate_login(client)
    if login.is_staff:
        return render(request, "account/invitation_staff.html", status=403)
    form = InvitationPasswordForm(
        user=login, data=request.POST if request.method == "POST" else None
    )
    if form.is_valid():
        try:
            user = client_invitation_accept(
                invitation=invitation, password=form.cleaned_data["password1"]
            )
        except InvitationUnusable:
            invitation.refresh_from_db()
            return _dead_link(request, token, invitation)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return perform_login(
                request,
                user,
                email_verification=settings.ACCOUNT_EMAIL_VERIFICATION,
                redirect_url=reverse("invitation_welcome"),
            )
    return render(
        request,
        "account/invitation_accept.html",
        {"form": form, "first_name": client.display_name, "email": client.email},
        status=400 if form.is_bound else 200,
    )


@never_cache
@require_POST
def invitation_renew(request: HttpRequest, token: str) -> HttpResponse:
    """Send a fresh invitation to the address on file; answer the same whatever happened."""
    if rate_limited(request, "invitation_renew"):
        return render(request, "account/invitation_renew_limited.html", status=429)
    invitation = invitation_find(token=token)
    if invitation is not None:
        client_invitation_renew(invitation=invitation)
    return render(request, "account/invitation_renewed.html")


@never_cache
@login_required
@require_http_methods(["GET"])
def invitation_welcome(request: HttpRequest) -> HttpResponse:
    """Just after her password is set: a second sign-in step, if she wants one; then her portal."""
    if request.user.is_staff:
        return redirect("admin:index")
    return render(
        request,
        "account/invitation_welcome.html",
        {
            "portal_url": resolve_url(settings.LOGIN_REDIRECT_URL),
            "has_second_step": Authenticator.objects.filter(
                user_id=request.user.pk, type=Authenticator.Type.TOTP
            ).exists(),
        },
    )
