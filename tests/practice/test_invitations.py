"""The portal invitation: sent from the admin, its link used once, dead links explained.

The email is an outbox row written with the invitation; its link is minted
when the email is built, so no raw token sits in the database. Accepting
sets her password, counts her email as verified, signs her in through
allauth and sends her on to her portal.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlparse

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from practice.client_records import ClientInvitation
from practice.discretion import discretion_words_in
from practice.invitations import client_invitation_accept, client_invite
from practice.models import AuditEvent, Client, OutboxMessage, User
from practice.outbox.services import outbox_send_due
from tests.conftest import enrol_totp
from tests.factories import PASSWORD, ClientFactory, StaffFactory, UserFactory, sha256_of

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a quiet morning with tea"  # noqa: S105  (a test's password)
LINK = re.compile(r"https?://[^\s\"<]+/accounts/welcome/([A-Za-z0-9_-]+)/")


@pytest.fixture
def amara(practice_profile) -> Client:  # type: ignore[no-untyped-def]
    return ClientFactory(first_name="Amara", last_name="Okafor", email="amara@example.com")


def send_and_read_link(mailoutbox) -> str:  # type: ignore[no-untyped-def]
    """Send what the outbox holds; return the path of the link in the newest invitation."""
    outbox_send_due()
    invitations = [m for m in mailoutbox if m.subject == "Your client portal is ready"]
    match = LINK.search(invitations[-1].body)
    assert match is not None
    return urlparse(match.group(0)).path


def main_of(response) -> str:  # type: ignore[no-untyped-def]
    """The page's <main>: what it says, without the footer form's CSRF token."""
    page = response.content.decode()
    return page[page.index("<main") : page.index("</main>")]


def accept(client, path: str, password: str = NEW_PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(path, {"password1": password, "password2": password})


# --- Sending ----------------------------------------------------------------------------


def test_an_invitation_writes_its_row_its_email_and_an_audit_line(amara, therapist, settings):
    with time_machine.travel("2027-01-04 16:00Z", tick=False):
        invitation = client_invite(client=amara, actor=therapist)

    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    assert invitation.sent_by == therapist
    message = OutboxMessage.objects.get(kind="client.invitation")
    assert (message.object_id, message.recipient, message.params) == (
        invitation.pk,
        "amara@example.com",
        {},
    )
    events = AuditEvent.objects.filter(object_type="practice.clientinvitation")
    assert [(e.actor_id, e.action, e.client_id) for e in events] == [
        (therapist.pk, "create", amara.pk)
    ]


def test_the_email_holds_the_link_and_no_row_holds_its_token(amara, therapist, mailoutbox):
    invitation = client_invite(client=amara, actor=therapist)

    path = send_and_read_link(mailoutbox)

    token = path.rstrip("/").rsplit("/", 1)[-1]
    email = mailoutbox[0]
    assert email.to == ["amara@example.com"]
    assert email.subject == "Your client portal is ready"
    html = email.alternatives[0][0]
    assert path in email.body
    assert path in html
    invitation.refresh_from_db()
    assert invitation.token_hash == sha256_of(token)
    message = OutboxMessage.objects.get(kind="client.invitation")
    assert message.status == OutboxMessage.Status.SENT
    assert token not in str(message.params)
    assert not ClientInvitation.objects.filter(token_hash=token).exists()


def test_the_email_names_no_treatment(amara, therapist, mailoutbox, practice_profile):
    client_invite(client=amara, actor=therapist)
    send_and_read_link(mailoutbox)

    email = mailoutbox[0]
    html = email.alternatives[0][0]
    for text in (email.subject, email.body, html):
        own_words = text.replace(practice_profile.practice_name, "")
        assert discretion_words_in(own_words) == []
        assert "therap" not in own_words.lower()


def test_a_new_invitation_revokes_the_older_and_its_email_is_not_sent(amara, therapist, mailoutbox):
    first = client_invite(client=amara, actor=therapist)
    second = client_invite(client=amara, actor=therapist)

    report = outbox_send_due()

    first.refresh_from_db()
    assert first.revoked_at is not None
    assert list(ClientInvitation.objects.outstanding()) == [second]
    assert (report.sent, report.voided) == (1, 1)
    assert len(mailoutbox) == 1


def test_a_staff_address_cannot_be_invited(practice_profile, therapist):
    client = ClientFactory(email=therapist.email.upper())

    with pytest.raises(ValidationError, match="staff login"):
        client_invite(client=client, actor=therapist)

    assert not ClientInvitation.objects.exists()


# --- Accepting --------------------------------------------------------------------------


def test_accepting_sets_her_password_verifies_her_email_and_signs_her_in(
    amara, therapist, mailoutbox, client
):
    invitation = client_invite(client=amara, actor=therapist)
    path = send_and_read_link(mailoutbox)

    form = client.get(path)
    response = accept(client, path)

    assert form.status_code == 200
    assert "Choose a password" in form.content.decode()
    assert response.status_code == 302
    assert response["Location"] == reverse("invitation_welcome")
    user = User.objects.get(email="amara@example.com")
    assert user.check_password(NEW_PASSWORD)
    assert (user.first_name, user.is_staff) == ("Amara", False)
    assert list(EmailAddress.objects.filter(user=user).values_list("verified", "primary")) == [
        (True, True)
    ]
    amara.refresh_from_db()
    assert amara.user == user
    invitation.refresh_from_db()
    assert invitation.used_at is not None
    assert int(client.session["_auth_user_id"]) == user.pk
    accepted = AuditEvent.objects.filter(
        object_type="practice.clientinvitation", action=AuditEvent.Action.CHANGE
    )
    assert [(e.actor_id, e.client_id) for e in accepted] == [(user.pk, amara.pk)]


def test_after_the_password_she_is_offered_a_second_step_then_her_portal(
    amara, therapist, mailoutbox, client
):
    client_invite(client=amara, actor=therapist)
    accept(client, send_and_read_link(mailoutbox))

    welcome = client.get(reverse("invitation_welcome"))

    page = welcome.content.decode()
    assert welcome.status_code == 200
    assert 'href="/portal/"' in page
    assert f'href="{reverse("mfa_activate_totp")}"' in page
    assert "You can do this later" in page


def test_the_link_works_once(amara, therapist, mailoutbox, client):
    client_invite(client=amara, actor=therapist)
    path = send_and_read_link(mailoutbox)
    accept(client, path)
    client.logout()

    again = client.get(path)
    second_try = accept(client, path, password="another long password")

    assert again.status_code == 410
    assert "This link has already been used" in again.content.decode()
    assert f'href="{reverse("account_login")}"' in again.content.decode()
    assert second_try.status_code == 410
    assert User.objects.get(email="amara@example.com").check_password(NEW_PASSWORD)


def test_a_weak_or_mismatched_password_keeps_the_link_and_says_why(
    amara, therapist, mailoutbox, client
):
    invitation = client_invite(client=amara, actor=therapist)
    path = send_and_read_link(mailoutbox)

    short = accept(client, path, password="short")
    mismatched = client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "!"})
    like_her_email = accept(client, path, password="amara@example.com")

    assert [short.status_code, mismatched.status_code, like_her_email.status_code] == [400] * 3
    assert "at least 10 characters" in short.content.decode()
    assert "You must type the same password each time." in mismatched.content.decode()
    assert "too similar to the email address" in like_her_email.content.decode()
    invitation.refresh_from_db()
    assert invitation.used_at is None
    assert not User.objects.filter(email="amara@example.com").exists()


def test_an_existing_login_gets_a_new_password_and_keeps_its_second_step(
    amara, therapist, mailoutbox, client
):
    user = UserFactory(email="amara@example.com")
    amara.user = user
    amara.save()
    enrol_totp(user)
    client_invite(client=amara, actor=therapist)

    response = accept(client, send_and_read_link(mailoutbox))

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # allauth's login flow asks for her code before she is signed in.
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session


def test_a_signed_in_staff_member_cannot_accept_an_invitation(amara, therapist, mailoutbox, client):
    invitation = client_invite(client=amara, actor=therapist)
    path = send_and_read_link(mailoutbox)
    client.force_login(therapist)

    page = client.get(path)
    post = accept(client, path)

    assert page.status_code == post.status_code == 403
    assert "A staff login cannot accept a client's portal invitation." in page.content.decode()
    invitation.refresh_from_db()
    assert invitation.used_at is None


def test_an_invitation_to_a_staff_login_is_refused_at_acceptance(amara, therapist):
    invitation = client_invite(client=amara, actor=therapist)
    StaffFactory(email="amara@example.com")

    with pytest.raises(ValidationError, match="staff login"):
        client_invitation_accept(invitation=invitation, password=NEW_PASSWORD)


# --- Dead links ---------------------------------------------------------------------------


def test_an_expired_link_says_so(amara, therapist, mailoutbox, client):
    client_invite(client=amara, actor=therapist)
    path = send_and_read_link(mailoutbox)

    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        response = client.get(path)
        posted = accept(client, path)

    assert response.status_code == posted.status_code == 410
    page = response.content.decode()
    assert "<h1>This link has expired</h1>" in page
    assert "Send me a new link" in page
    assert not User.objects.filter(email="amara@example.com").exists()


def test_a_replaced_link_says_a_newer_one_was_sent(amara, therapist, mailoutbox, client):
    client_invite(client=amara, actor=therapist)
    path = send_and_read_link(mailoutbox)
    client_invite(client=amara, actor=therapist)

    response = client.get(path)

    assert response.status_code == 410
    assert "<h1>A newer link was sent</h1>" in response.content.decode()


def test_an_unknown_link_says_it_does_not_work(practice_profile, client):
    response = client.get("/accounts/welcome/not-a-real-token/")

    assert response.status_code == 404
    assert "<h1>This link does not work</h1>" in response.content.decode()


def test_asking_for_a_new_link_sends_one_to_the_address_on_file(
    amara, therapist, mailoutbox, client
):
    first = client_invite(client=amara, actor=therapist)
    path = send_and_read_link(mailoutbox)

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        response = client.post(path + "new/")
        new_path = send_and_read_link(mailoutbox)
        form = client.get(new_path)

    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    fresh = ClientInvitation.objects.exclude(pk=first.pk).get()
    assert (fresh.client, fresh.sent_by) == (amara, None)
    assert [m.to for m in mailoutbox] == [["amara@example.com"]] * 2
    assert new_path != path
    assert form.status_code == 200


def test_asking_reveals_nothing_about_the_token(amara, therapist, mailoutbox, client):
    client_invite(client=amara, actor=therapist)
    path = send_and_read_link(mailoutbox)

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        real = client.post(path + "new/")
        unknown = client.post("/accounts/welcome/not-a-real-token/new/")

    assert real.status_code == unknown.status_code == 200
    assert main_of(real) == main_of(unknown)
    assert ClientInvitation.objects.count() == 2


def test_asking_twice_in_a_row_sends_one_new_invitation(amara, therapist, mailoutbox, client):
    client_invite(client=amara, actor=therapist)
    path = send_and_read_link(mailoutbox)

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        client.post(path + "new/")
        client.post(path + "new/")

    assert ClientInvitation.objects.count() == 2


def test_asking_for_a_new_link_is_rate_limited(amara, therapist, settings, client):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "invitation_renew": (2, 3600)}

    answers = [client.post("/accounts/welcome/not-a-real-token/new/") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Please wait a little" in answers[-1].content.decode()


def test_asking_for_a_new_link_is_a_post(amara, client):
    assert client.get("/accounts/welcome/not-a-real-token/new/").status_code == 405


# --- The admin ---------------------------------------------------------------------------


def test_the_client_page_invites_her_and_says_where_the_invitation_stands(
    amara, therapist, admin_client_mfa, mailoutbox
):
    change_url = reverse("admin:practice_client_change", args=[amara.pk])
    invite_url = reverse("admin:practice_client_invite", args=[amara.pk])

    before = admin_client_mfa.get(change_url).content.decode()
    sent = admin_client_mfa.post(invite_url, follow=True)
    after = sent.content.decode()

    assert "Not invited to the client portal yet." in before
    assert ">Send portal invitation</button>" in before
    assert [str(m) for m in sent.context["messages"]][0].startswith(
        "Portal invitation sent to amara@example.com."
    )
    assert "Invitation sent" in after
    assert ">Send a new invitation</button>" in after
    invitation = ClientInvitation.objects.get()
    assert invitation.sent_by == therapist
    assert OutboxMessage.objects.filter(kind="client.invitation").count() == 1


def test_the_invite_button_changes_nothing_on_a_get(amara, admin_client_mfa):
    admin_client_mfa.get(reverse("admin:practice_client_invite", args=[amara.pk]))

    assert not ClientInvitation.objects.exists()


def test_the_client_page_says_she_has_a_login_once_she_accepted(
    amara, therapist, mailoutbox, client
):
    client_invite(client=amara, actor=therapist)
    accept(client, send_and_read_link(mailoutbox))
    client.force_login(therapist)

    page = client.get(reverse("admin:practice_client_change", args=[amara.pk]))

    assert "She has a portal login" in page.content.decode()


# --- Signing in later ---------------------------------------------------------------------


def test_a_client_who_signs_in_lands_on_her_portal(client_user, client, practice_profile):
    response = client.post(
        reverse("account_login"), {"login": client_user.email, "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/portal/"


def test_staff_who_sign_in_without_a_next_land_in_the_workspace(
    therapist_without_mfa, client, settings
):
    settings.STAFF_MFA_REQUIRED = False

    response = client.post(
        reverse("account_login"), {"login": therapist_without_mfa.email, "password": PASSWORD}
    )

    assert response["Location"] == reverse("admin:index")
