"""Booking a free consultation from /consultation/, with and without trouble."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from consultations.models import Consultation
from practice.calendar.reminders import reminders_pending
from practice.models import Appointment, OutboxMessage
from tests.consultations.conftest import FIRST_SLOT, NOW
from tests.factories import AppointmentFactory
from tests.support.caches import forget_this_tests_cache
from tests.support.reports import post_and_report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("weekly_hours", "frozen_now")]


def offered_values(html: str) -> list[str]:
    return re.findall(r'name="start" id="[^"]+" value="([^"]+)"', html)


def test_the_page_explains_the_call_and_offers_times(client):
    response = client.get("/consultation/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "20-minute call" in html
    assert "No cost" in html
    assert offered_values(html)[0] == FIRST_SLOT.isoformat()
    assert "Tuesday, January 5" in html
    # Without JavaScript the practice's zone is shown, with a selector.
    assert 'data-zone="America/Los_Angeles"' in html
    assert '<select id="zone-select" name="tz">' in html


def test_the_intake_questions_answer_nothing_for_her(client):
    html = client.get("/consultation/").content.decode()

    for name in ("meeting_mode", "perinatal", "prior_experience"):
        radios = re.findall(rf'<input type="radio" name="{name}"[^>]*>', html)
        assert radios, name
        assert not any('value=""' in radio for radio in radios), name
        assert not any("checked" in radio for radio in radios), name
    assert "---------" not in html


def day_headings(html: str) -> list[str]:
    return re.findall(r'class="slot-day-heading"[^>]*>([^<]+)<', html)


def test_a_few_days_show_at_a_time_and_later_dates_follow_without_javascript(client):
    first_page = client.get("/consultation/").content.decode()
    later = re.search(r'<a href="([^"]+)">Later dates</a>', first_page)
    assert later is not None
    later_url = "/consultation/" + later.group(1).replace("&amp;", "&")
    second_page = client.get(later_url).content.decode()

    assert len(day_headings(first_page)) == 5
    assert day_headings(second_page)[0] not in day_headings(first_page)
    assert set(offered_values(first_page)).isdisjoint(offered_values(second_page))
    assert "Earlier dates" in second_page


def test_times_are_grouped_by_day_in_a_zone_ahead_of_the_practice(client):
    html = client.get("/consultation/?tz=Asia/Tokyo").content.decode()

    # Tuesday 9:00 in Los Angeles is Wednesday 2:00 in Tokyo.
    first_day = re.search(r'class="slot-day-heading"[^>]*>([^<]+)<', html).group(1)
    first_time = re.search(r'<label for="slot-1-1">([^<]+)<', html).group(1)
    assert (first_day, first_time) == ("Wednesday, January 6", "2:00 AM")
    assert offered_values(html)[0] == FIRST_SLOT.isoformat()
    assert "(times in <span data-zone-label>Japan, Tokyo</span>)" in html


def test_times_are_grouped_by_day_in_a_zone_behind_the_practice(client):
    html = client.get("/consultation/?tz=Pacific/Honolulu").content.decode()

    first_day = re.search(r'class="slot-day-heading"[^>]*>([^<]+)<', html).group(1)
    first_time = re.search(r'<label for="slot-1-1">([^<]+)<', html).group(1)
    assert (first_day, first_time) == ("Tuesday, January 5", "7:00 AM")
    assert "(times in <span data-zone-label>Hawaii time, Honolulu</span>)" in html


def test_an_unknown_zone_in_the_address_falls_back_to_the_practice(client):
    html = client.get("/consultation/?tz=Mars/Olympus").content.decode()

    assert 'data-zone="America/Los_Angeles"' in html


def test_slots_json_serves_the_same_slots(client):
    page = offered_values(client.get("/consultation/").content.decode())

    response = client.get("/consultation/slots.json?tz=America/New_York")

    body = response.json()
    assert body["timezone"] == "America/New_York"
    assert body["slots"][: len(page)] == page
    assert body["slots"][0] == "2027-01-05T17:00:00+00:00"


def test_slots_json_refuses_an_unknown_zone_clearly(client):
    response = client.get("/consultation/slots.json?tz=Not/AZone")

    assert response.status_code == 400
    assert "Unknown time zone" in response.json()["error"]


def test_booking_books_and_shows_the_confirmation(
    client, booking_data, django_capture_on_commit_callbacks, eager_tasks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/consultation/", booking_data())

    assert response.status_code == 302
    assert response["Location"] == "/consultation/booked/"
    consultation = Consultation.objects.get()
    assert consultation.appointment.start == FIRST_SLOT
    assert consultation.appointment.status == Appointment.Status.BOOKED
    assert (consultation.first_name, consultation.last_name) == ("Nora", "O'Neill")
    assert consultation.prior_experience == "micro"
    assert len(reminders_pending(consultation.appointment)) == 2
    page = client.get("/consultation/booked/").content.decode()
    assert "You are booked, Nora" in page
    # Her zone: 9:00 in Los Angeles is noon in New York.
    assert "Tuesday, January 5, 2027 at 12:00 PM" in page
    assert re.search(r'href="/consultation/manage/[\w-]{40,}/"', page)
    assert sorted(m.to[0] for m in mailoutbox) == ["hello@harborlight.example", "nora@example.com"]


def test_a_double_submission_books_once(client, booking_data):
    data = booking_data()

    first = client.post("/consultation/", data)
    second = client.post("/consultation/", data)

    assert (first.status_code, second.status_code) == (302, 302)
    assert second["Location"] == "/consultation/booked/"
    assert Consultation.objects.count() == 1
    assert Appointment.objects.count() == 1


def test_a_slot_just_taken_keeps_everything_she_typed(client, booking_data):
    AppointmentFactory(start=FIRST_SLOT)

    response = client.post("/consultation/", booking_data(reason="Tired and far away"))

    html = response.content.decode()
    assert response.status_code == 409
    assert "That time was just taken" in html
    assert 'value="O&#x27;Neill"' in html
    assert "Tired and far away</textarea>" in html
    assert FIRST_SLOT.isoformat() not in offered_values(html)
    assert offered_values(html)[0] == (FIRST_SLOT + timedelta(minutes=30)).isoformat()
    assert Consultation.objects.count() == 0


def test_a_race_lost_inside_the_service_is_friendly(client, booking_data, monkeypatch):
    # The form saw the slot free; another booking lands before the service runs.
    import consultations.forms

    monkeypatch.setattr(consultations.forms, "is_offered", lambda *a, **k: True)
    AppointmentFactory(start=FIRST_SLOT)

    response = client.post("/consultation/", booking_data())

    assert response.status_code == 409
    assert "That time was just taken" in response.content.decode()
    assert Consultation.objects.count() == 0


def test_an_error_report_carries_none_of_her_answers(client, booking_data, monkeypatch):
    # An unexpected failure deep in the booking service: she gets the calm
    # error page, and Django's error report (what an admin email or an error
    # tracker would carry) holds no answer, name or address of hers.
    import consultations.services

    def broken(**kwargs: object) -> str:
        raise RuntimeError("the token store went away")

    monkeypatch.setattr(consultations.services, "manage_link_issue", broken)

    response, report = post_and_report(
        client, "/consultation/", booking_data(reason="Tired and far away")
    )

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert "the token store went away" in report
    assert "consultation_book" in report
    for secret in ("Tired and far away", "sertraline", "nora@example.com", "555-0100", "Neill"):
        assert secret not in report, secret
    assert Consultation.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "nora-at-example", "That email address does not look right"),
        ("phone", "call me maybe", "That phone number does not look right"),
        ("phone", "12", "That phone number does not look right"),
        ("first_name", "", "Please tell me your first name."),
        ("reason", "", "Please say a few words about what brings you here."),
        ("consent_to_contact", "", "Please agree to be contacted"),
        ("time_zone", "Mars/Olympus", "Please choose a time zone from the list."),
        ("start", "", "Please choose a time for the call."),
        ("start", "next tuesday", "Please choose one of the times offered."),
        ("start", "2027-01-05T17:00:00", "Please choose one of the times offered."),
        ("start", "2027-01-04T15:00:00+00:00", "That time has already passed."),
        ("start", "2027-01-04T20:00:00+00:00", "at least 24 hours ahead"),
        ("start", "2027-04-05T17:00:00+00:00", "Bookings open 60 days ahead"),
        ("start", "2027-01-05T17:10:00+00:00", "That time was just taken"),
    ],
)
def test_bad_input_gets_a_clear_message_and_writes_nothing(
    client, booking_data, field, value, message
):
    data = booking_data(**{field: value})
    if not value:
        data.pop(field)

    response = client.post("/consultation/", data)

    assert response.status_code in (400, 409)
    html = response.content.decode()
    assert message in html
    if field != "email":
        assert 'value="nora@example.com"' in html  # what she typed is kept
    assert Consultation.objects.count() == 0
    assert Appointment.objects.count() == 0


def test_a_phone_call_needs_a_phone_number(client, booking_data):
    response = client.post("/consultation/", booking_data(meeting_mode="phone", phone=""))

    assert response.status_code == 400
    assert "Please give a phone number for the call." in response.content.decode()


def error_links(html: str) -> list[tuple[str, str]]:
    start = html.index('id="error-summary"')
    summary = html[start : html.index("</ul>", start)]
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)


def test_an_empty_form_is_summed_up_at_the_top_with_a_link_to_each_field(client):
    response = client.post(
        "/consultation/", {"submission_id": str(uuid.uuid4()), "time_zone": "America/New_York"}
    )

    html = response.content.decode()
    assert response.status_code == 400
    links = error_links(html)
    assert links == [
        ("slot-picker", "Please choose a time for the call."),
        ("id_first_name", "Please tell me your first name."),
        ("id_last_name", "Please tell me your last name."),
        ("id_email", "Please give an email address for the confirmation."),
        ("id_meeting_mode_0", "Please choose phone or video."),
        ("id_preferred_contact_0", "Please choose how I should reach you."),
        ("id_reason", "Please say a few words about what brings you here."),
        ("id_perinatal_0", "Please say whether you are pregnant or postpartum."),
        ("id_prior_experience_0", "Please choose an answer about earlier experience."),
        ("id_consent_to_contact", "Please agree to be contacted, so I can confirm the call."),
    ]
    assert [anchor for anchor, _ in links if f'id="{anchor}"' not in html] == []
    assert html.index('id="error-summary"') < html.index("<form")
    assert 'tabindex="-1"' in html[html.index('id="error-summary"') - 80 :][:200]


def test_a_tampered_hidden_field_is_in_the_summary_without_a_link(client, booking_data):
    html = client.post("/consultation/", booking_data(submission_id="x")).content.decode()

    start = html.index('id="error-summary"')
    summary = html[start : html.index("</ul>", start)]
    assert (
        "<li>This page was incomplete. Please check the form and press Book again.</li>" in summary
    )


def phone_label(html: str) -> str:
    return re.search(r'<label for="id_phone">(.*?)</label>', html).group(1)


def phone_input(html: str) -> str:
    return re.search(r'<input type="tel" name="phone"[^>]*>', html).group(0)


def test_the_phone_label_says_when_a_phone_is_needed(client, booking_data):
    blank = client.get("/consultation/").content.decode()
    call = client.post("/consultation/", booking_data(meeting_mode="phone", phone="")).content
    text = client.post("/consultation/", booking_data(preferred_contact="text", phone="")).content
    video = client.post("/consultation/", booking_data(reason="", phone="")).content

    assert phone_label(blank) == 'Phone <span data-phone-need=""></span>'
    assert "Needed for a phone call, or to call or text you." in blank
    assert " required" not in phone_input(blank)
    assert (
        phone_label(call.decode())
        == 'Phone <span data-phone-need="">(needed for a phone call)</span>'
    )
    assert " required" in phone_input(call.decode())
    assert phone_label(text.decode()) == (
        'Phone <span data-phone-need="">(needed to call or text you)</span>'
    )
    assert " required" in phone_input(text.decode())
    assert phone_label(video.decode()) == 'Phone <span data-phone-need="">(optional)</span>'
    assert " required" not in phone_input(video.decode())


def test_months_are_dropped_when_neither_pregnant_nor_postpartum(client, booking_data):
    client.post("/consultation/", booking_data(perinatal="neither", perinatal_months="4"))

    assert Consultation.objects.get().perinatal_months is None


def test_the_honeypot_looks_like_success_and_books_nothing(client, booking_data):
    response = client.post("/consultation/", booking_data(website="http://spam.example"))

    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    assert Consultation.objects.count() == 0


def test_one_address_is_limited_to_five_bookings_an_hour(client, booking_data, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "consultation_book": (5, 60 * 60)}
    slots = client.get("/consultation/slots.json").json()["slots"]

    statuses = [
        client.post("/consultation/", booking_data(start=slot)).status_code for slot in slots[:6]
    ]

    assert statuses == [302] * 5 + [429]
    sixth = client.post("/consultation/", booking_data(start=slots[6]))
    assert "many bookings from your network" in sixth.content.decode()
    assert 'value="Nora"' in sixth.content.decode()
    assert Consultation.objects.count() == 5


def test_she_can_book_while_the_cache_cannot_count(client, booking_data, settings):
    # Redis down behind a cache backend that hides it: the limit fails open.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "consultation_book": (1, 60 * 60)}
    settings.CACHES = {"default": {"BACKEND": "tests.support.caches.SilentlyDownCache"}}
    slots = client.get("/consultation/slots.json").json()["slots"]

    statuses = [
        client.post("/consultation/", booking_data(start=slot)).status_code for slot in slots[:3]
    ]

    assert statuses == [302, 302, 302]
    assert Consultation.objects.count() == 3


def test_while_the_cache_is_down_a_booked_time_leaves_the_slots_at_once(
    client, booking_data, settings
):
    # No process can tell the others of a change then, so nothing is shared.
    settings.CACHES = {"default": {"BACKEND": "tests.support.caches.SilentlyDownCache"}}
    first = client.get("/consultation/slots.json").json()["slots"][0]

    client.post("/consultation/", booking_data(start=first))

    assert first not in client.get("/consultation/slots.json").json()["slots"]


def test_behind_a_proxy_each_visitor_has_her_own_booking_limit(client, booking_data, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "consultation_book": (1, 60 * 60)}
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    slots = client.get("/consultation/slots.json").json()["slots"]

    statuses = [
        client.post(
            "/consultation/",
            booking_data(start=slot),
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n, slot in enumerate(slots[:3])
    ]
    again = client.post(
        "/consultation/",
        booking_data(start=slots[3]),
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.0",
    )

    assert statuses == [302, 302, 302]
    assert again.status_code == 429
    assert Consultation.objects.count() == 3


def test_known_and_unknown_emails_get_the_same_answer(client, booking_data):
    slots = client.get("/consultation/slots.json").json()["slots"]
    first = client.post("/consultation/", booking_data(start=slots[0], email="new@example.com"))
    again = client.post("/consultation/", booking_data(start=slots[2], email="new@example.com"))
    other = client.post("/consultation/", booking_data(start=slots[4], email="other@example.com"))

    assert first["Location"] == again["Location"] == other["Location"] == "/consultation/booked/"


def test_the_confirmation_page_without_a_booking_sends_her_to_book(client):
    response = client.get("/consultation/booked/")

    assert response.status_code == 302
    assert response["Location"] == "/consultation/"


def test_a_booking_inside_the_dispatch_window_plans_only_future_reminders(client, booking_data):
    client.post("/consultation/", booking_data())

    reminder_times = sorted(
        OutboxMessage.objects.filter(kind="reminder.consultation").values_list(
            "not_before", flat=True
        )
    )
    assert reminder_times == [FIRST_SLOT - timedelta(hours=24), FIRST_SLOT - timedelta(hours=1)]
    assert all(due > NOW for due in reminder_times)


# --- Query budgets: constant in the number of appointments ---------------------


def _fill_calendar(count: int) -> None:
    """``count`` appointments: most in the past, some inside the booking window."""
    start = NOW - timedelta(days=count)
    Appointment.objects.bulk_create(
        Appointment(
            kind="blocked",
            start=start + timedelta(hours=3 * i),
            end=start + timedelta(hours=3 * i, minutes=30),
            occupied_start=start + timedelta(hours=3 * i),
            occupied_end=start + timedelta(hours=3 * i, minutes=30),
        )
        for i in range(count)
    )


@pytest.mark.parametrize("appointments", [0, 3, 400])
def test_the_booking_page_has_a_constant_query_budget(
    client, django_assert_max_num_queries, appointments
):
    _fill_calendar(appointments)
    client.get("/consultation/")
    forget_this_tests_cache()  # measure the page computed from the database, not the shared copy

    with django_assert_max_num_queries(5):
        response = client.get("/consultation/")
    with django_assert_max_num_queries(0):
        client.get("/consultation/")

    assert response.status_code == 200


@pytest.mark.parametrize("appointments", [0, 3, 400])
def test_slots_json_has_a_constant_query_budget(
    client, django_assert_max_num_queries, appointments
):
    _fill_calendar(appointments)
    client.get("/consultation/slots.json")
    forget_this_tests_cache()

    with django_assert_max_num_queries(4):
        response = client.get("/consultation/slots.json?tz=Europe/London")
    with django_assert_max_num_queries(0):
        client.get("/consultation/slots.json?tz=Europe/London")

    assert response.json()["slots"]


def test_a_booking_takes_its_time_off_the_shared_page_at_once(client, booking_data):
    assert (
        offered_values(client.get("/consultation/").content.decode())[0] == FIRST_SLOT.isoformat()
    )

    client.post("/consultation/", booking_data())

    assert FIRST_SLOT.isoformat() not in offered_values(
        client.get("/consultation/").content.decode()
    )
    assert FIRST_SLOT.isoformat() not in client.get("/consultation/slots.json").json()["slots"]


def test_each_visitor_gets_her_own_form_key_and_csrf_token(client):
    first = client.get("/consultation/").content.decode()
    second = client.get("/consultation/").content.decode()

    def keys(html: str) -> tuple[str, str]:
        submission = re.search(r'name="submission_id" value="([^"]+)"', html).group(1)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        return submission, token

    assert keys(first)[0] != keys(second)[0]
    assert "hole" not in first
    assert len(keys(first)[1]) == 64


def test_a_tampered_form_key_is_reported_and_replaced(client, booking_data):
    response = client.post("/consultation/", booking_data(submission_id="not-a-uuid"))

    html = response.content.decode()
    assert response.status_code == 400
    assert "This page was incomplete. Please check the form and press Book again." in html
    fresh = re.search(r'name="submission_id" value="([^"]+)"', html).group(1)
    assert len(fresh) == 36
    retried = client.post("/consultation/", booking_data(submission_id=fresh))
    assert retried.status_code == 302


def test_a_broker_outage_still_confirms_and_the_sweep_sends_the_emails(
    client, booking_data, django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    from practice import queue
    from practice.outbox.services import outbox_send_due

    def broker_down(*args: object, **kwargs: object) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(queue.app, "send_task", broker_down)
    queue.broker_backoff_reset()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/consultation/", booking_data())
    queue.broker_backoff_reset()

    assert response.status_code == 302
    assert mailoutbox == []
    assert outbox_send_due().sent == 2
    assert sorted(m.to[0] for m in mailoutbox) == ["hello@harborlight.example", "nora@example.com"]
