from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Portal logins are created by the therapist; see ACCOUNT_ALLOW_SIGNUPS.
        return bool(settings.ACCOUNT_ALLOW_SIGNUPS)

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        # Clients land on their portal (LOGIN_REDIRECT_URL); staff are not
        # clients, so a sign-in without a "next" takes them to the workspace.
        if request.user.is_authenticated and request.user.is_staff:
            return reverse("admin:index")
        return str(super().get_login_redirect_url(request))
