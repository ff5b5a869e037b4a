"""Staff reach the admin only through allauth's login, and only with MFA."""

from __future__ import annotations

import pytest

from tests.conftest import totp_code
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_admin_login_page_is_allauths(client):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_anonymous_admin_visit_goes_to_the_login(client):
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert b"<h1>Sign in</h1>" in response.content
    assert b'name="remember"' not in response.content


def test_staff_without_mfa_are_sent_to_set_up_an_authenticator(client, therapist_without_mfa):
    client.force_login(therapist_without_mfa)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_staff_without_mfa_cannot_open_a_record_either(client, therapist_without_mfa):
    client.force_login(therapist_without_mfa)

    response = client.get("/admin/practice/client/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_staff_with_totp_log_in_with_a_code_and_reach_the_admin(client, therapist):
    start = client.post(
        "/accounts/login/?next=/admin/", {"login": therapist.email, "password": PASSWORD}
    )
    assert start.status_code == 302
    assert start["Location"] == "/accounts/2fa/authenticate/"

    done = client.post("/accounts/2fa/authenticate/", {"code": totp_code(therapist.totp_secret)})
    assert done.status_code == 302
    assert done["Location"] == "/admin/"

    admin = client.get("/admin/")
    assert admin.status_code == 200
    assert b"Practice workspace" in admin.content


def test_a_wrong_totp_code_keeps_the_admin_closed(client, therapist):
    client.post("/accounts/login/?next=/admin/", {"login": therapist.email, "password": PASSWORD})

    response = client.post("/accounts/2fa/authenticate/", {"code": "000000"})

    assert response.status_code == 200
    assert b"Incorrect code" in response.content
    assert client.get("/admin/").status_code == 302


def test_the_mfa_rule_can_be_turned_off_for_the_quick_start(
    client, settings, therapist_without_mfa
):
    settings.STAFF_MFA_REQUIRED = False
    client.force_login(therapist_without_mfa)

    assert client.get("/admin/").status_code == 200


def test_non_staff_users_are_refused_the_admin(client, client_user):
    client.force_login(client_user)

    response = client.get("/admin/", follow=True)

    assert response.redirect_chain == [("/admin/login/?next=/admin/", 302)]
    assert response.status_code == 403


def test_admin_login_locks_an_account_after_five_failures(client, therapist):
    def attempt(password: str):
        return client.post(
            "/accounts/login/?next=/admin/", {"login": therapist.email, "password": password}
        )

    failures = [attempt("not-the-password") for _ in range(5)]
    locked = attempt("not-the-password")
    right_password_while_locked = attempt(PASSWORD)

    assert [r.status_code for r in failures] == [200] * 5
    assert b"The email address and/or password you specified are not correct." in (
        failures[0].content
    )
    assert b"Too many failed login attempts. Try again later." in locked.content
    assert b"Too many failed login attempts. Try again later." in (
        right_password_while_locked.content
    )
    assert "_auth_user_id" not in client.session


def test_admin_login_answers_429_past_the_per_address_limit(client, db):
    statuses = [
        client.post(
            "/accounts/login/?next=/admin/",
            {"login": f"guess{n}@example.com", "password": "guess"},
        ).status_code
        for n in range(31)
    ]

    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429


def test_signup_is_closed_to_the_public(client):
    response = client.get("/accounts/signup/")

    assert response.status_code == 200
    assert b"Sign Up Closed" in response.content


def test_an_unverified_email_cannot_log_in(client):
    from allauth.account.models import EmailAddress

    from tests.factories import UserFactory

    user = UserFactory(email="new@example.com")
    EmailAddress.objects.filter(user=user).update(verified=False)

    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"


def test_an_idle_session_is_logged_off_and_activity_keeps_it(client, therapist, time_machine):
    time_machine.move_to("2027-01-04 09:00Z", tick=False)
    start = client.post(
        "/accounts/login/?next=/admin/", {"login": therapist.email, "password": PASSWORD}
    )
    client.post(start["Location"], {"code": totp_code(therapist.totp_secret)})
    # The session cookie ends with the browser, whatever she ticks.
    assert client.cookies["sessionid"]["expires"] == ""

    for _ in range(3):  # working: a request every 25 minutes
        time_machine.shift(25 * 60)
        assert client.get("/admin/").status_code == 200
    time_machine.shift(31 * 60)  # away for longer than staff's 30 idle minutes
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert b"<h1>Sign in</h1>" in response.content
    assert b'name="remember"' not in response.content
