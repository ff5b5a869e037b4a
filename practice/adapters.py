from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Portal logins are created by the therapist; see ACCOUNT_ALLOW_SIGNUPS.
        return bool(settings.ACCOUNT_ALLOW_SIGNUPS)
