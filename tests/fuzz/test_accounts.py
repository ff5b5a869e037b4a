"""Signing in and the pages around it, under bad input: login, its second step, passwords,
the portal invitation's link, and the therapist's calendar feed link.

Amara is a client with a login; Lena is the therapist, with an authenticator
app; Grace is invited and has no login yet. Every example starts from the
same rows (rolled back after it).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core import mail
from django.test import override_settings
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from practice.calendar.feed import calendar_feed_token_create
from practice.client_records import ClientInvitation
from practice.models import AuditEvent, CalendarFeedToken, Client, OutboxMessage, User
from tests.conftest import enrol_totp, totp_code
from tests.factories import (
    PASSWORD,
    ClientFactory,
    ClientInvitationFactory,
    PracticeProfileFactory,
    StaffFactory,
    UserFactory,
    sha256_of,
)
from tests.support.calendar import NOW

from .checks import assert_answered_calmly, assert_shows_what_she_typed, changes, row_counts
from .strategies import (
    NUL,
    altered_tokens,
    any_value,
    emails,
    examples,
    last,
    nasty_text,
    submissions,
)

pytestmark = pytest.mark.slow  # each test sends dozens to hundreds of requests

# The hasher the tests' logins use (tests/conftest.py), also for the rows made once per class.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TABLES = (User, EmailAddress, Authenticator, Client, ClientInvitation, OutboxMessage)
NEW_PASSWORD = "a quiet morning with tea"  # noqa: S105  (a test's password)
PASSWORDS = st.one_of(st.sampled_from([PASSWORD, NEW_PASSWORD, PASSWORD.upper()]), nasty_text())
NEXT = st.one_of(
    st.sampled_from(
        [
            "/portal/intake/",
            "/admin/",
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "/portal/\x00",
            "\\\\evil.example",
        ]
    ),
    any_value(),
)


def _is_local(location: str) -> bool:
    """Whether a redirect stays on the site (a browser reads a backslash as a slash)."""
    parts = urlsplit(location.replace("\\", "/"))
    return not parts.scheme and not parts.netloc


@time_machine.travel(NOW, tick=False)
@override_settings(PASSWORD_HASHERS=FAST_HASHERS)
class AccountsTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        PracticeProfileFactory()
        cls.amara = UserFactory(email="amara@example.com", first_name="Amara", last_name="Okafor")
        ClientFactory(user=cls.amara, email=cls.amara.email, first_name="Amara", last_name="Okafor")
        cls.lena = StaffFactory(email="lena@harborlight.example", first_name="Lena")
        cls.lena_secret = enrol_totp(cls.lena)


VALID_LOGIN = {"login": "amara@example.com", "password": PASSWORD}


class LoginTests(AccountsTestCase):
    @settings(max_examples=examples(1.5))
    @given(
        post=submissions(
            VALID_LOGIN,
            {
                "login": st.one_of(
                    emails(), st.sampled_from(["AMARA@EXAMPLE.COM", " amara@example.com "])
                ),
                "password": PASSWORDS,
                "next": NEXT,
            },
        )
    )
    @example(post=VALID_LOGIN)
    @example(post={**VALID_LOGIN, "login": "amara@example.com" + NUL})
    @example(post={**VALID_LOGIN, "next": "//evil.example/"})
    def test_signing_in_lets_her_in_at_home_or_comes_back_with_her_address(self, post):
        before = row_counts(TABLES)

        response = self.client.post("/accounts/login/", post)

        assert_answered_calmly(response)
        assert changes(before, row_counts(TABLES)) == {}
        signed_in = "_auth_user_id" in self.client.session
        hers = (last(post.get("login")) or "").strip().lower() == "amara@example.com"
        if hers and last(post.get("password")) == PASSWORD:
            assert response.status_code == 302
            assert _is_local(response["Location"]), response["Location"]
            assert signed_in
        else:
            assert response.status_code == 200
            assert not signed_in
            assert_shows_what_she_typed(response, "/accounts/login/", post)

    @settings(max_examples=examples(0.7))
    @given(code=st.one_of(st.from_regex(r"\A[0-9]{6}\Z"), any_value()))
    @example(code="valid")
    @example(code="123456" + NUL)
    def test_the_second_step_takes_only_her_code(self, code):
        self.client.post("/accounts/login/", {"login": self.lena.email, "password": PASSWORD})
        sent = totp_code(self.lena_secret) if code == "valid" else code
        before = row_counts(TABLES)

        response = self.client.post("/accounts/2fa/authenticate/", {"code": sent})

        assert_answered_calmly(response)
        assert changes(before, row_counts(TABLES)) == {}
        if sent == totp_code(self.lena_secret):
            assert response.status_code == 302
            assert "_auth_user_id" in self.client.session
        else:
            assert response.status_code == 200
            assert "_auth_user_id" not in self.client.session


class PasswordTests(AccountsTestCase):
    @settings(max_examples=examples(1))
    @given(post=submissions({"email": "amara@example.com"}, {"email": emails()}))
    @example(post={"email": "amara@example.com" + NUL})
    def test_asking_for_a_new_password_sends_at_most_one_email(self, post):
        before = row_counts(TABLES)

        response = self.client.post("/accounts/password/reset/", post)

        assert_answered_calmly(response)
        assert changes(before, row_counts(TABLES)) == {}
        assert len(mail.outbox) <= 1
        if response.status_code == 302:
            assert response["Location"] == "/accounts/password/reset/done/"
        else:
            assert response.status_code == 200
            assert mail.outbox == []
            assert_shows_what_she_typed(response, "/accounts/password/reset/", post)

    @settings(max_examples=examples(1))
    @given(
        key=altered_tokens("2-cmz4b1-0f2b6a3ce1d5a9a6b3f1c2d4e5f60718"),
        method=st.sampled_from(["get", "post"]),
    )
    @example(key="2-" + NUL, method="post")
    def test_an_altered_reset_link_changes_no_password(self, key, method):
        response = getattr(self.client, method)(
            f"/accounts/password/reset/key/{quote(key, safe='')}/",
            *([{"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}] if method == "post" else []),
        )

        assert_answered_calmly(response)
        assert response.status_code in (200, 302, 404)
        assert User.objects.get(pk=self.amara.pk).check_password(PASSWORD)

    @settings(max_examples=examples(1))
    @given(
        post=submissions(
            {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
            {"oldpassword": PASSWORDS, "password1": PASSWORDS, "password2": PASSWORDS},
        )
    )
    @example(
        post={
            "oldpassword": PASSWORD,
            "password1": NEW_PASSWORD + NUL,
            "password2": NEW_PASSWORD + NUL,
        }
    )
    def test_changing_her_password_changes_it_or_says_why(self, post):
        self.client.force_login(self.amara)
        before = row_counts(TABLES)

        response = self.client.post("/accounts/password/change/", post)

        assert_answered_calmly(response)
        assert changes(before, row_counts(TABLES)) == {}
        amara = User.objects.get(pk=self.amara.pk)
        if response.status_code == 302:
            assert amara.check_password(last(post["password1"]))
        else:
            assert response.status_code == 200
            assert amara.check_password(PASSWORD)

    @settings(max_examples=examples(0.7))
    @given(post=submissions({"password": PASSWORD}, {"password": PASSWORDS}))
    @example(post={"password": PASSWORD + NUL})
    def test_confirming_her_password_again_opens_the_settings_only_with_it(self, post):
        self.client.force_login(self.amara)
        before = row_counts(TABLES)

        response = self.client.post("/accounts/reauthenticate/?next=/accounts/2fa/", post)

        assert_answered_calmly(response)
        assert changes(before, row_counts(TABLES)) == {}
        if last(post.get("password")) == PASSWORD:
            assert response.status_code == 302
            assert response["Location"] == "/accounts/2fa/"
        else:
            assert response.status_code == 200
            assert 'name="password"' in response.content.decode()

    @settings(max_examples=examples(0.5))
    @given(code=st.one_of(st.from_regex(r"\A[0-9]{6}\Z"), any_value()))
    @example(code="000000" + NUL)
    def test_setting_up_a_sign_in_code_takes_only_a_right_code(self, code):
        self.client.force_login(self.amara)
        self.client.post("/accounts/reauthenticate/", {"password": PASSWORD})
        self.client.get("/accounts/2fa/totp/activate/")
        before = row_counts(TABLES)

        response = self.client.post("/accounts/2fa/totp/activate/", {"code": code})

        assert_answered_calmly(response)
        assert response.status_code == 200
        assert changes(before, row_counts(TABLES)) == {}
        assert 'name="code"' in response.content.decode()
        assert not Authenticator.objects.filter(user=self.amara).exists()


class InvitationTests(AccountsTestCase):
    TOKEN = "invitation-token-for-grace-0123456789"

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.grace = ClientFactory(
            first_name="Grace", last_name="Holloway", email="grace@example.com"
        )
        ClientInvitationFactory(client=cls.grace, token_hash=sha256_of(cls.TOKEN))

    @settings(max_examples=examples(1.5))
    @given(
        post=submissions(
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
            {"password1": PASSWORDS, "password2": PASSWORDS, "login_email": emails()},
        )
    )
    @example(post={"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    @example(post={"password1": NEW_PASSWORD + NUL, "password2": NEW_PASSWORD + NUL})
    def test_her_invitation_sets_one_password_or_says_why(self, post):
        before = row_counts(TABLES)

        response = self.client.post(f"/accounts/welcome/{self.TOKEN}/", post)

        assert_answered_calmly(response)
        made = changes(before, row_counts(TABLES))
        if response.status_code == 302:
            assert made == {"practice.User": 1, "account.EmailAddress": 1}
            grace = User.objects.get(email="grace@example.com")
            assert grace.check_password(last(post["password1"]))
            assert Client.objects.get(pk=self.grace.pk).user_id == grace.pk
        else:
            assert response.status_code == 400
            assert made == {}
            assert "Choose a password" in response.content.decode()

    @settings(max_examples=examples(1))
    @given(
        token=st.data(),
        step=st.sampled_from(["", "new/"]),
        method=st.sampled_from(["get", "post"]),
    )
    def test_an_altered_invitation_link_opens_nothing(self, token, step, method):
        altered = token.draw(altered_tokens(self.TOKEN))
        before = row_counts(TABLES)

        response = getattr(self.client, method)(
            f"/accounts/welcome/{quote(altered, safe='')}/{step}",
            *([{"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}] if method == "post" else []),
        )

        assert_answered_calmly(response)
        if altered == self.TOKEN:
            return
        assert changes(before, row_counts(TABLES)) == {}
        assert response.status_code in (200, 404, 405)


class CalendarFeedTests(AccountsTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.feed = calendar_feed_token_create()

    @settings(max_examples=examples(0.7))
    @given(token=st.data())
    @example(token=None)
    def test_an_altered_feed_link_is_the_ordinary_404(self, token):
        altered = token.draw(altered_tokens(self.feed)) if token is not None else self.feed + NUL
        before = row_counts((CalendarFeedToken, AuditEvent))

        response = self.client.get(f"/calendar/feed/{quote(altered, safe='')}.ics")

        assert_answered_calmly(response)
        assert changes(before, row_counts((CalendarFeedToken, AuditEvent))) == {}
        if altered != self.feed:
            assert response.status_code == 404
