"""Staff sessions end idle or long; deactivation ends sessions; private pages are not cached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session

from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

START = datetime(2027, 3, 2, 16, 0, tzinfo=UTC)


def signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/admin/").status_code == 200


def test_staff_are_signed_out_after_thirty_idle_minutes(client, therapist):
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(therapist)
        assert signed_in(client)
        traveller.shift(timedelta(minutes=29))
        assert signed_in(client)
        traveller.shift(timedelta(minutes=29))  # active all along: still in
        assert signed_in(client)
        traveller.shift(timedelta(minutes=31))

        response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_are_signed_out_twelve_hours_after_signing_in_however_active(client, therapist):
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(therapist)
        for _ in range(12 * 3 - 1):
            traveller.shift(timedelta(minutes=20))
            assert signed_in(client)
        traveller.shift(timedelta(minutes=21))  # 12 h 1 min after signing in

        response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_client_keeps_the_longer_idle_time(client, client_user, practice_profile):
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(client_user)
        traveller.shift(timedelta(minutes=45))

        response = client.get("/portal/")

    assert response.status_code == 200


def test_deactivating_a_user_ends_her_sessions_at_once(client, therapist):
    colleague = StaffFactory()
    client.force_login(therapist)
    other_browser = client.__class__()
    other_browser.force_login(colleague)
    assert Session.objects.count() == 2

    therapist.is_active = False
    therapist.save()

    remaining = [session.get_decoded()["_auth_user_id"] for session in Session.objects.all()]
    assert remaining == [str(colleague.pk)]
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("path", ["/admin/", "/admin/practice/client/"])
def test_admin_pages_are_not_stored(admin_client_mfa, path):
    response = admin_client_mfa.get(path)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_portal_pages_and_the_sign_in_page_are_not_stored(client, client_user, practice_profile):
    assert "no-store" in client.get("/accounts/login/")["Cache-Control"]
    client.force_login(client_user)

    response = client.get("/portal/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_public_pages_keep_their_caching(client, practice_profile):
    response = client.get("/about/")

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
