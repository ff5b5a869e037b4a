"""The therapist's calendar feed: what it says, who may read it, and what it costs."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from icalendar import Calendar

from practice.calendar.feed import (
    calendar_feed_content,
    calendar_feed_token_create,
    calendar_feed_token_find,
    calendar_feed_token_revoke,
    calendar_feed_url,
    initials,
)
from practice.calendar.services import appointment_book, appointment_move, appointment_transition
from practice.discretion import discretion_words_in
from practice.models import Appointment, AppointmentKind, CalendarFeedToken, MeetingMode
from tests.consultations.factories import ConsultationFactory
from tests.factories import AppointmentFactory, ClientFactory

NOW = datetime(2027, 3, 10, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def token(practice_profile) -> str:  # type: ignore[no-untyped-def]
    return calendar_feed_token_create()


def feed_path(token: str) -> str:
    return reverse("calendar_feed", args=[token])


def appointment(kind: str, start: datetime, *, minutes: int = 50, **fields):  # type: ignore[no-untyped-def]
    return AppointmentFactory(
        kind=kind,
        start=start,
        end=start + timedelta(minutes=minutes),
        occupied_start=start,
        occupied_end=start + timedelta(minutes=minutes),
        **fields,
    )


def events(content: bytes) -> dict[str, dict[str, str]]:
    """UID → the event's summary, status and location, as a calendar app parses them."""
    calendar = Calendar.from_ical(content)
    return {
        str(event["UID"]): {
            "summary": str(event["SUMMARY"]),
            "status": str(event["STATUS"]),
            "location": str(event.get("LOCATION", "")),
        }
        for event in calendar.walk("VEVENT")
    }


def uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.pk}@localhost"


def page_of_404(response, token: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """The status and page, without what differs per request (the CSRF token, the path)."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
    return response.status_code, page.replace(feed_path(token), "PATH")


def fetch(client, token: str) -> bytes:  # type: ignore[no-untyped-def]
    response = client.get(feed_path(token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return response.content


# --- What it says ------------------------------------------------------------------------


@pytest.mark.django_db
def test_titles_are_initials_and_a_neutral_kind(client, token):
    jane = ClientFactory(first_name="Jane", last_name="Doe")
    day = NOW + timedelta(days=2)
    dosing = appointment(
        AppointmentKind.DOSING, day, minutes=210, client=jane, mode=MeetingMode.IN_PERSON
    )
    integration = appointment(
        AppointmentKind.INTEGRATION, day + timedelta(days=1), client=jane, mode=MeetingMode.VIDEO
    )
    consultation = ConsultationFactory(
        first_name="Nora",
        last_name="O'Brien",
        appointment=appointment(
            AppointmentKind.CONSULTATION,
            day + timedelta(days=2),
            minutes=20,
            mode=MeetingMode.PHONE,
        ),
    ).appointment
    blocked = appointment(
        AppointmentKind.BLOCKED, day + timedelta(days=3), title="Dentist for my depression"
    )
    nobody = appointment(AppointmentKind.CHECK_IN, day + timedelta(days=4), title="Ketamine chat")

    found = events(fetch(client, token))

    assert found == {
        uid(dosing): {
            "summary": "J.D. - session",
            "status": "CONFIRMED",
            "location": "2150 Shattuck Avenue, Suite 310, Berkeley, CA 94704",
        },
        uid(integration): {"summary": "J.D. - session", "status": "CONFIRMED", "location": "Video"},
        uid(consultation): {
            "summary": "N.O. - consultation",
            "status": "CONFIRMED",
            "location": "Phone",
        },
        uid(blocked): {"summary": "Time off", "status": "CONFIRMED", "location": ""},
        uid(nobody): {"summary": "Session", "status": "CONFIRMED", "location": ""},
    }


@pytest.mark.django_db
def test_the_feed_holds_no_name_and_no_clinical_word(client, token):
    jane = ClientFactory(first_name="Jane", last_name="Doe", phone="+1 510 555 0199")
    day = NOW + timedelta(days=2)
    for offset, kind in enumerate(AppointmentKind.values):
        appointment(kind, day + timedelta(days=offset), client=jane, title="Ketamine dosing")
    ConsultationFactory(
        first_name="Nora",
        last_name="Booker",
        appointment=appointment(AppointmentKind.CONSULTATION, day - timedelta(days=3)),
    )

    text = fetch(client, token).decode()

    assert len(events(text.encode())) == len(AppointmentKind.values) + 1
    assert discretion_words_in(text) == []
    for word in ("Jane", "Doe", "Nora", "Booker", "555", "Medicine", "Dentist", "dosing"):
        assert word.lower() not in text.lower()


@pytest.mark.django_db
def test_cancelled_appointments_carry_status_cancelled(client, token):
    jane = ClientFactory(first_name="Jane", last_name="Doe")
    kept = appointment(AppointmentKind.PREPARATION, NOW + timedelta(days=1), client=jane)
    dropped = appointment(
        AppointmentKind.PREPARATION,
        NOW + timedelta(days=2),
        client=jane,
        status=Appointment.Status.CANCELLED,
    )

    found = events(fetch(client, token))

    assert {u: e["status"] for u, e in found.items()} == {
        uid(kept): "CONFIRMED",
        uid(dropped): "CANCELLED",
    }
    assert found[uid(dropped)]["summary"] == "J.D. - session"


@pytest.mark.django_db
def test_the_feed_holds_the_last_30_days_and_the_next_90(client, token):
    def at(days: float) -> Appointment:
        return appointment(AppointmentKind.BLOCKED, NOW + timedelta(days=days))

    inside = [at(-29), at(-1), at(0.1), at(89), at(90)]
    outside = [at(-32), at(93)]

    found = events(fetch(client, token))

    assert sorted(found) == sorted(uid(a) for a in inside)
    assert not set(found) & {uid(a) for a in outside}


@pytest.mark.django_db
def test_each_event_keeps_the_uid_of_the_portal_download_and_its_stamps(client, token):
    from practice.calendar.ics import appointment_ics

    made = appointment(AppointmentKind.INTEGRATION, NOW + timedelta(days=1), client=ClientFactory())
    made.created_at = NOW - timedelta(days=3)
    made.save(update_fields=["created_at"])

    event = Calendar.from_ical(fetch(client, token)).walk("VEVENT")[0]
    download = Calendar.from_ical(appointment_ics(made).content).walk("VEVENT")[0]

    assert str(event["UID"]) == str(download["UID"])
    assert event["DTSTAMP"].dt == NOW - timedelta(days=3)
    assert event["LAST-MODIFIED"].dt == NOW - timedelta(days=3)
    assert (event["DTSTART"].dt, event["DTEND"].dt) == (made.start, made.end)
    assert str(event["CLASS"]) == "PRIVATE"


def test_initials():
    assert [
        initials(name) for name in ["Jane Doe", "mary-ann o'neil", "Jane Q. Public", "Cher", " "]
    ] == ["J.D.", "M.O.", "J.P.", "C.", ""]


# --- The token ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_the_tokens_hash_is_stored(token):
    row = CalendarFeedToken.objects.get()

    assert len(token) >= 43
    assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(CalendarFeedToken.objects.values().get())
    assert calendar_feed_token_find(token) == row


@pytest.mark.django_db
def test_a_new_token_turns_the_old_one_off(client, token):
    newer = calendar_feed_token_create()
    unknown = "x" * len(token)

    old = client.get(feed_path(token))

    assert old.status_code == 404
    assert page_of_404(old, token) == page_of_404(client.get(feed_path(unknown)), unknown)
    assert client.get(feed_path(newer)).status_code == 200
    assert CalendarFeedToken.objects.active().count() == 1


@pytest.mark.django_db
def test_a_revoked_token_is_an_ordinary_404(client, token):
    unknown = client.get(feed_path("not-a-token"))

    assert calendar_feed_token_revoke() == 1
    revoked = client.get(feed_path(token))

    assert page_of_404(revoked, token) == page_of_404(unknown, "not-a-token")
    assert revoked.status_code == 404
    assert calendar_feed_token_revoke() == 0


@pytest.mark.django_db
def test_the_database_refuses_two_active_tokens(token):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        CalendarFeedToken.objects.create(token_sha256="0" * 64)


@pytest.mark.django_db
def test_a_fetch_stamps_last_used_at_most_hourly(client, token):
    fetch(client, token)
    assert CalendarFeedToken.objects.get().last_used_at == NOW

    with time_machine.travel(NOW + timedelta(minutes=30), tick=False):
        fetch(client, token)
    assert CalendarFeedToken.objects.get().last_used_at == NOW

    with time_machine.travel(NOW + timedelta(minutes=61), tick=False):
        fetch(client, token)
    assert CalendarFeedToken.objects.get().last_used_at == NOW + timedelta(minutes=61)


@pytest.mark.django_db
def test_the_feed_is_rate_limited(client, token, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "calendar_feed": (2, 3600)}

    statuses = [client.get(feed_path(token)).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


@pytest.mark.django_db
def test_the_feed_answers_get_only(client, token):
    assert client.post(feed_path(token)).status_code == 405


# --- The admin ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_therapist_makes_a_link_and_sees_it_once(admin_client_mfa, client):
    changelist = reverse("admin:practice_calendarfeedtoken_changelist")
    assert "Make a link" in admin_client_mfa.get(changelist).content.decode()

    response = admin_client_mfa.post(reverse("admin:practice_calendarfeedtoken_new"))

    page = response.content.decode()
    row = CalendarFeedToken.objects.active().get()
    shown = next(
        part.split('"')[0] for part in page.split('value="')[1:] if "/calendar/feed/" in part
    )
    token = shown.rsplit("/", 1)[1].removesuffix(".ics")
    assert shown == calendar_feed_url(token)
    assert hashlib.sha256(token.encode()).hexdigest() == row.token_sha256
    assert "Google Calendar" in page and "Apple Calendar" in page
    assert "webcal://" in page
    assert "no-store" in {part.strip() for part in response["Cache-Control"].split(",")}
    listing = admin_client_mfa.get(changelist).content.decode()
    assert token not in listing
    assert "Make a new link" in listing
    admin_client_mfa.logout()
    assert client.get(feed_path(token)).status_code == 200


@pytest.mark.django_db
def test_making_a_new_link_in_the_admin_turns_the_old_one_off(admin_client_mfa, token):
    admin_client_mfa.post(reverse("admin:practice_calendarfeedtoken_new"))

    assert calendar_feed_token_find(token) is None
    assert CalendarFeedToken.objects.active().count() == 1


@pytest.mark.django_db
def test_the_therapist_turns_the_link_off(admin_client_mfa, token):
    response = admin_client_mfa.post(reverse("admin:practice_calendarfeedtoken_revoke"))

    assert response.status_code == 302
    assert calendar_feed_token_find(token) is None
    assert CalendarFeedToken.objects.active().count() == 0
    page = admin_client_mfa.get(response["Location"]).content.decode()
    assert "The calendar subscription link is off." in page


@pytest.mark.django_db
def test_links_are_made_only_by_post_and_only_by_staff(admin_client_mfa, client_user, client):
    new = reverse("admin:practice_calendarfeedtoken_new")
    assert admin_client_mfa.get(new).status_code == 405
    admin_client_mfa.logout()
    client.force_login(client_user)

    response = client.post(new)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert CalendarFeedToken.objects.count() == 0


# --- Cost and cache --------------------------------------------------------------------------


def make_appointments(count: int) -> None:
    for n in range(count):
        start = NOW + timedelta(days=1 + n, hours=1)
        if n % 2:
            ConsultationFactory(appointment=appointment(AppointmentKind.CONSULTATION, start))
        else:
            appointment(AppointmentKind.INTEGRATION, start, client=ClientFactory())


def queries_for_fetch(client, token, django_assert_max_num_queries, count: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_appointments(count)
    with CaptureQueriesContext(connection) as cold:
        assert len(events(fetch(client, token))) == count
    with CaptureQueriesContext(connection) as warm:
        fetch(client, token)
    return len(cold), len(warm)


@pytest.mark.django_db
@pytest.mark.parametrize("count", [2, 20])
def test_the_feed_costs_the_same_queries_for_2_or_20_appointments(
    client, token, django_assert_max_num_queries, count
):
    cold, warm = queries_for_fetch(client, token, django_assert_max_num_queries, count)

    # Cold: the token, its last-used stamp, the practice profile (then kept
    # for a few seconds), the appointments with their clients, the
    # consultations. Warm: the token only.
    assert (cold, warm) == (5, 1)


@pytest.mark.django_db
def test_a_fetch_is_served_from_the_cache_while_the_calendar_is_unchanged(token):
    appointment(AppointmentKind.BLOCKED, NOW + timedelta(days=1))
    first = calendar_feed_content()
    # A write that bypasses save(): the cache cannot know, so it serves the old file.
    Appointment.objects.update(title="Changed")
    Appointment.objects.update(status=Appointment.Status.CANCELLED)

    assert calendar_feed_content() == first


@pytest.mark.django_db(transaction=True)
def test_the_feed_changes_when_an_appointment_is_booked_moved_or_cancelled(
    client, practice_profile
):
    token = calendar_feed_token_create()
    jane = ClientFactory(first_name="Jane", last_name="Doe")
    assert events(fetch(client, token)) == {}

    booked = appointment_book(
        kind=AppointmentKind.INTEGRATION,
        start=NOW + timedelta(days=3),
        client_id=jane.pk,
        offered_only=False,
    )
    assert {u: e["status"] for u, e in events(fetch(client, token)).items()} == {
        uid(booked): "CONFIRMED"
    }

    moved = appointment_move(appointment=booked, start=NOW + timedelta(days=4), offered_only=False)
    assert {u: e["status"] for u, e in events(fetch(client, token)).items()} == {
        uid(booked): "CANCELLED",
        uid(moved): "CONFIRMED",
    }

    appointment_transition(appointment=moved, to=Appointment.Status.CANCELLED)
    assert {u: e["status"] for u, e in events(fetch(client, token)).items()} == {
        uid(booked): "CANCELLED",
        uid(moved): "CANCELLED",
    }


@pytest.mark.django_db
def test_the_feed_is_served_while_redis_is_down(client, token, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "practice.cache.ResilientRedisCache",
            # Nothing listens here: every cache call fails.
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    made = appointment(AppointmentKind.BLOCKED, NOW + timedelta(days=1))

    first = fetch(client, token)
    made.status = Appointment.Status.CANCELLED
    made.save(update_fields=["status"])
    second = fetch(client, token)

    assert events(first)[uid(made)]["status"] == "CONFIRMED"
    assert events(second)[uid(made)]["status"] == "CANCELLED"
