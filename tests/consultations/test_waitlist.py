"""The waitlist: joining when no time fits, and the same answer for everyone."""

from __future__ import annotations

import re

import pytest

from consultations.models import WaitlistEntry
from consultations.services import waitlist_tell_opening
from practice.outbox.services import outbox_send_due
from practice.transitions import InvalidTransition, transitions_complete
from tests.consultations.factories import ConsultationFactory, WaitlistEntryFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("weekly_hours", "frozen_now")]


def join(client, **overrides):  # type: ignore[no-untyped-def]
    """Post the waitlist form as the page does: its fields carry the "waitlist-" prefix."""
    data = {
        "name": "Ivy Hart",
        "email": "ivy@example.com",
        "preferred_times": "weekday evenings",
        "time_zone": "America/Chicago",
        "website": "",
        **overrides,
    }
    return client.post("/consultation/waitlist/", {f"waitlist-{k}": v for k, v in data.items()})


def page(response) -> str:  # type: ignore[no-untyped-def]
    """The page without its CSRF tokens, which differ on every response."""
    return re.sub(r'value="[\w-]{64}"', "", response.content.decode())


def test_the_booking_page_offers_the_waitlist(client):
    html = client.get("/consultation/").content.decode()

    assert "None of these times work?" in html
    assert 'action="/consultation/waitlist/"' in html


def test_the_waitlists_labels_point_at_its_own_fields_on_the_booking_page(client):
    html = client.get("/consultation/").content.decode()

    waitlist = html[html.index('action="/consultation/waitlist/"') :]
    assert '<label for="id_waitlist-email">Email</label>' in waitlist
    assert 'name="waitlist-email"' in waitlist
    assert 'id="id_waitlist-email"' in waitlist
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []


def test_the_waitlist_page_sums_up_what_to_fix_with_links_to_the_fields(client):
    html = join(client, name="", email="nope").content.decode()

    summary = html[
        html.index('id="error-summary"') : html.index("</ul>", html.index('id="error-summary"'))
    ]
    assert re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary) == [
        ("id_waitlist-name", "Please give your name."),
        ("id_waitlist-email", "That email address does not look right. Please check it."),
    ]


def test_joining_puts_her_on_the_list(client):
    response = join(client)

    assert "You are on the waitlist" in response.content.decode()
    entry = WaitlistEntry.objects.get()
    assert (entry.name, entry.preferred_times, entry.status) == (
        "Ivy Hart",
        "weekday evenings",
        "waiting",
    )


def test_a_known_and_an_unknown_email_get_the_same_page(client):
    first = join(client)
    again = join(client, email="IVY@example.com", preferred_times="mornings")
    stranger = join(client, email="new@example.com")

    assert page(first) == page(again) == page(stranger)
    assert WaitlistEntry.objects.count() == 2
    assert WaitlistEntry.objects.get(email="ivy@example.com").preferred_times == "mornings"


def test_bad_input_is_explained_and_kept(client):
    response = join(client, email="ivy-at-example", time_zone="Nowhere/Here")

    html = response.content.decode()
    assert response.status_code == 400
    assert "That email address does not look right" in html
    assert "Please choose a time zone from the list." in html
    assert 'value="weekday evenings"' in html
    assert WaitlistEntry.objects.count() == 0


def test_the_honeypot_joins_nobody(client):
    response = join(client, website="http://spam.example")

    assert "You are on the waitlist" in response.content.decode()
    assert WaitlistEntry.objects.count() == 0


def test_an_opening_tells_everyone_waiting_once_oldest_first(mailoutbox):
    first = WaitlistEntryFactory(email="first@example.com")
    second = WaitlistEntryFactory(email="second@example.com")
    WaitlistEntryFactory(email="gone@example.com", status="removed")
    consultation = ConsultationFactory()

    told = waitlist_tell_opening(opened=consultation)
    again = waitlist_tell_opening(opened=consultation)
    outbox_send_due()
    outbox_send_due()

    assert (told, again) == (2, 0)
    assert [m.to for m in mailoutbox] == [["first@example.com"], ["second@example.com"]]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("notified", "notified")


def test_every_waitlist_status_has_its_moves_and_a_save_cannot_skip_them():
    entry = WaitlistEntryFactory(status="removed")
    entry = WaitlistEntry.objects.get(pk=entry.pk)
    entry.status = WaitlistEntry.Status.NOTIFIED

    assert transitions_complete(WaitlistEntry) == []
    with pytest.raises(InvalidTransition):
        entry.save()
    with pytest.raises(
        InvalidTransition,
        match="A waitlist entry that is removed cannot become told about an opening",
    ):
        WaitlistEntry.objects.get(pk=entry.pk).move_to(WaitlistEntry.Status.NOTIFIED)


def test_joining_again_after_being_told_starts_a_new_entry(client):
    told = WaitlistEntryFactory(email="ivy@example.com", status="notified")

    join(client, email="Ivy@example.com")

    told.refresh_from_db()
    fresh = WaitlistEntry.objects.exclude(pk=told.pk).get()
    assert (told.status, fresh.status, fresh.email) == ("notified", "waiting", "Ivy@example.com")


def test_one_address_is_limited_in_joining_the_waitlist(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "waitlist_join": (2, 60 * 60)}

    responses = [join(client, email=f"ivy{n}@example.com") for n in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 429]
    assert "many sign-ups from your network" in responses[2].content.decode()
    assert WaitlistEntry.objects.count() == 2


def _admin_post(admin_client_mfa, entry, **changes):  # type: ignore[no-untyped-def]
    data = {
        "name": entry.name,
        "email": entry.email,
        "preferred_times": entry.preferred_times,
        "time_zone": entry.time_zone,
        "status": entry.status,
        **changes,
    }
    return admin_client_mfa.post(f"/admin/consultations/waitlistentry/{entry.pk}/change/", data)


def test_the_admin_explains_a_status_move_the_map_refuses(admin_client_mfa):
    entry = WaitlistEntryFactory(status="removed")

    response = _admin_post(admin_client_mfa, entry, status="notified")

    assert response.status_code == 200
    assert "A waitlist entry that is removed cannot become told about an opening." in (
        response.content.decode()
    )
    entry.refresh_from_db()
    assert entry.status == "removed"


def test_the_admin_explains_a_second_waiting_entry_for_one_address(admin_client_mfa):
    WaitlistEntryFactory(email="ivy@example.com", status="waiting")
    told = WaitlistEntryFactory(email="ivy@example.com", status="notified")

    response = _admin_post(admin_client_mfa, told, status="waiting")

    assert response.status_code == 200
    assert "This address is already waiting for a time." in response.content.decode()
    told.refresh_from_db()
    assert told.status == "notified"
