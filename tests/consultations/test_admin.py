"""The therapist's consultation list and its actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from consultations.models import Consultation
from practice.models import Appointment, AuditEvent, Client
from tests.consultations.conftest import FIRST_SLOT, NOW
from tests.consultations.factories import AppointmentFactory, ConsultationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("weekly_hours", "frozen_now")]

LIST = "/admin/consultations/consultation/"


def consultation_at(start, mode="video", **fields):  # type: ignore[no-untyped-def]
    return ConsultationFactory(appointment=AppointmentFactory(start=start, mode=mode), **fields)


def test_the_list_puts_upcoming_first_soonest_at_the_top(admin_client_mfa):
    past = consultation_at(NOW - timedelta(days=2), first_name="Past")
    later = consultation_at(FIRST_SLOT + timedelta(days=3), first_name="Later")
    soon = consultation_at(FIRST_SLOT, first_name="Soon")
    older = consultation_at(NOW - timedelta(days=9), first_name="Older")
    # Booked in an order unlike the one wanted, so the booking time cannot
    # stand in for the appointment time.
    for minutes, consultation in enumerate([soon, past, older, later]):
        Consultation.objects.filter(pk=consultation.pk).update(
            created_at=NOW - timedelta(minutes=minutes)
        )

    response = admin_client_mfa.get(LIST)

    shown = list(response.context["cl"].result_list)
    assert shown == [soon, later, past, older]


def test_the_list_filters_and_searches(admin_client_mfa):
    consultation_at(FIRST_SLOT, first_name="Alma", email="alma@example.com")
    cancelled = consultation_at(FIRST_SLOT + timedelta(hours=1), first_name="Bea")
    Appointment.objects.filter(pk=cancelled.appointment_id).update(status="cancelled")

    by_status = admin_client_mfa.get(LIST, {"appointment__status": "cancelled"})
    by_search = admin_client_mfa.get(LIST, {"q": "alma@example"})
    upcoming = admin_client_mfa.get(LIST, {"when": "upcoming"})

    assert [c.first_name for c in by_status.context["cl"].result_list] == ["Bea"]
    assert [c.first_name for c in by_search.context["cl"].result_list] == ["Alma"]
    assert len(upcoming.context["cl"].result_list) == 2


def test_the_list_has_a_constant_query_budget(admin_client_mfa, django_assert_max_num_queries):
    for day in range(1, 30):
        consultation_at(FIRST_SLOT + timedelta(days=day))
    admin_client_mfa.get(LIST)

    with django_assert_max_num_queries(12):
        admin_client_mfa.get(LIST)


def test_opening_a_consultation_shows_the_intake_read_only_and_is_audited(
    admin_client_mfa, therapist
):
    consultation = consultation_at(FIRST_SLOT, reason="Tired all the time")

    response = admin_client_mfa.get(f"{LIST}{consultation.pk}/change/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Tired all the time" in html
    assert 'name="reason"' not in html
    event = AuditEvent.objects.get()
    assert (event.actor_id, event.action, event.object_id) == (
        therapist.pk,
        "view",
        str(consultation.pk),
    )


def test_mark_completed_and_no_show_after_the_call(admin_client_mfa, therapist):
    done = consultation_at(FIRST_SLOT)
    missed = consultation_at(FIRST_SLOT + timedelta(hours=1))

    with time_machine.travel(FIRST_SLOT + timedelta(hours=3), tick=False):
        admin_client_mfa.force_login(therapist)  # the session from "now" has expired
        admin_client_mfa.post(LIST, {"action": "mark_completed", "_selected_action": [done.pk]})
        admin_client_mfa.post(LIST, {"action": "mark_no_show", "_selected_action": [missed.pk]})

    done.appointment.refresh_from_db()
    missed.appointment.refresh_from_db()
    assert (done.appointment.status, missed.appointment.status) == ("completed", "no_show")


def test_marking_an_upcoming_call_completed_is_refused_with_a_message(admin_client_mfa):
    soon = consultation_at(FIRST_SLOT)

    response = admin_client_mfa.post(
        LIST, {"action": "mark_completed", "_selected_action": [soon.pk]}, follow=True
    )

    assert "cannot be marked before it has started" in response.content.decode()
    soon.appointment.refresh_from_db()
    assert soon.appointment.status == "booked"


def test_cancel_with_a_note_asks_for_the_note_then_cancels(
    admin_client_mfa, django_capture_on_commit_callbacks, eager_tasks, mailoutbox
):
    consultation = consultation_at(FIRST_SLOT, email="ada@example.com")
    chosen = {"action": "cancel_with_note", "_selected_action": [consultation.pk]}

    asked = admin_client_mfa.post(LIST, chosen)
    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client_mfa.post(
            LIST, {**chosen, "apply": "1", "note": "I am ill this week."}, follow=True
        )

    assert "A note to her" in asked.content.decode()
    assert "cancelled; she has been emailed" in done.content.decode()
    consultation.refresh_from_db()
    assert consultation.appointment.status == "cancelled"
    assert consultation.cancel_note == "I am ill this week."
    to_her = [m for m in mailoutbox if m.to == ["ada@example.com"]]
    assert len(to_her) == 1
    assert "I am ill this week." in to_her[0].body


def test_convert_to_client_links_the_record(admin_client_mfa):
    consultation = consultation_at(FIRST_SLOT, first_name="Ada", email="Ada@Example.com")
    existing = consultation_at(FIRST_SLOT + timedelta(hours=1), email="known@example.com")
    known = Client.objects.create(first_name="K", last_name="N", email="KNOWN@example.com")

    admin_client_mfa.post(
        LIST,
        {"action": "convert_to_client", "_selected_action": [consultation.pk, existing.pk]},
    )

    consultation.refresh_from_db()
    existing.refresh_from_db()
    assert consultation.client.first_name == "Ada"
    assert consultation.appointment.client == consultation.client
    assert existing.client == known
    assert Client.objects.count() == 2
    assert list(consultation.client.consultations.all()) == [consultation]


def test_converting_to_a_client_is_written_to_the_audit_log_with_the_therapist(
    admin_client_mfa, therapist
):
    new = consultation_at(FIRST_SLOT, email="ada@example.com")
    linked = consultation_at(FIRST_SLOT + timedelta(hours=1), email="known@example.com")
    known = Client.objects.create(first_name="K", last_name="N", email="known@example.com")

    admin_client_mfa.post(
        LIST, {"action": "convert_to_client", "_selected_action": [new.pk, linked.pk]}
    )
    admin_client_mfa.post(LIST, {"action": "convert_to_client", "_selected_action": [new.pk]})

    new.refresh_from_db()
    events = AuditEvent.objects.filter(object_type="practice.client").order_by("action")
    assert [(e.actor_id, e.action, e.client_id) for e in events] == [
        (therapist.pk, "change", known.pk),
        (therapist.pk, "create", new.client.pk),
    ]


def test_consultations_cannot_be_added_or_deleted_in_the_admin(admin_client_mfa):
    consultation = consultation_at(FIRST_SLOT)

    assert admin_client_mfa.get(f"{LIST}add/").status_code == 403
    assert admin_client_mfa.get(f"{LIST}{consultation.pk}/delete/").status_code == 403
    assert Consultation.objects.count() == 1


def test_blocked_time_added_in_the_admin_refuses_an_overlap_kindly(admin_client_mfa):
    consultation_at(FIRST_SLOT)
    local = FIRST_SLOT.astimezone(timezone_la())

    response = admin_client_mfa.post(
        "/admin/practice/appointment/add/",
        {
            "kind": "blocked",
            "start_0": local.strftime("%Y-%m-%d"),
            "start_1": local.strftime("%H:%M:%S"),
            "title": "Dentist",
        },
    )

    assert response.status_code == 200
    assert "That time overlaps another appointment" in response.content.decode()
    assert Appointment.objects.count() == 1


def test_blocked_time_added_in_the_admin_closes_the_slots(admin_client_mfa, client):
    local = FIRST_SLOT.astimezone(timezone_la())

    response = admin_client_mfa.post(
        "/admin/practice/appointment/add/",
        {
            "kind": "blocked",
            "start_0": local.strftime("%Y-%m-%d"),
            "start_1": local.strftime("%H:%M:%S"),
            "title": "Dentist",
        },
    )

    assert response.status_code == 302
    blocked = Appointment.objects.get()
    assert (blocked.kind, blocked.start, blocked.title) == ("blocked", FIRST_SLOT, "Dentist")
    slots = client.get("/consultation/slots.json").json()["slots"]
    assert slots[0] == (FIRST_SLOT + timedelta(hours=1)).isoformat()


def timezone_la():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("America/Los_Angeles")


def test_calendar_actions_leave_consultations_to_their_own_list(admin_client_mfa):
    consultation = consultation_at(FIRST_SLOT)

    response = admin_client_mfa.post(
        "/admin/practice/appointment/",
        {"action": "mark_cancelled", "_selected_action": [consultation.appointment_id]},
        follow=True,
    )

    assert "change free consultations from the consultations list" in response.content.decode()
    consultation.appointment.refresh_from_db()
    assert consultation.appointment.status == "booked"


# --- A consultation's page: its buttons, her time, her phone, call notes ---------


def change_url(consultation) -> str:  # type: ignore[no-untyped-def]
    return f"{LIST}{consultation.pk}/change/"


def step_url(consultation, step: str) -> str:  # type: ignore[no-untyped-def]
    return f"{LIST}{consultation.pk}/{step}/"


def steps_shown(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [step["name"] for step in response.context["next_steps"]]


def messages_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(message) for message in response.context["messages"]]


def change_form_data(consultation, **overrides: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    data = {
        "first_name": consultation.first_name,
        "last_name": consultation.last_name,
        "email": consultation.email,
        "phone": consultation.phone,
        "preferred_contact": consultation.preferred_contact,
        "call_notes": consultation.call_notes,
        "meeting_mode": consultation.appointment.mode,
        "video_url": consultation.appointment.video_url,
        "_save": "Save",
    }
    data.update(overrides)
    return data


@pytest.fixture
def video_room(practice_profile):  # type: ignore[no-untyped-def]
    practice_profile.video_room_url = "https://video.example/harbor-light"
    practice_profile.save()
    return practice_profile.video_room_url


def test_an_upcoming_video_call_offers_the_link_conversion_and_cancelling(
    admin_client_mfa, video_room
):
    consultation = consultation_at(FIRST_SLOT)

    response = admin_client_mfa.get(change_url(consultation))

    assert steps_shown(response) == ["send_video_link", "convert", "cancel"]
    html = response.content.decode()
    assert f'action="{step_url(consultation, "send-video-link")}"' in html
    assert "csrfmiddlewaretoken" in html.split(step_url(consultation, "cancel"))[1][:300]


def test_an_upcoming_call_without_a_video_link_offers_no_send_button(admin_client_mfa):
    video = consultation_at(FIRST_SLOT)
    phone = consultation_at(FIRST_SLOT + timedelta(hours=1), mode="phone")

    no_room = admin_client_mfa.get(change_url(video))
    by_phone = admin_client_mfa.get(change_url(phone))

    assert steps_shown(no_room) == ["convert", "cancel"]
    assert "No link yet: add your video room" in no_room.content.decode()
    assert steps_shown(by_phone) == ["convert", "cancel"]


def test_a_call_that_has_started_offers_completed_and_no_show_not_cancel(
    admin_client_mfa, therapist, video_room
):
    consultation = consultation_at(FIRST_SLOT)

    with time_machine.travel(FIRST_SLOT + timedelta(minutes=5), tick=False):
        admin_client_mfa.force_login(therapist)
        response = admin_client_mfa.get(change_url(consultation))

    assert steps_shown(response) == ["complete", "no_show", "convert"]


def test_a_finished_and_converted_consultation_offers_no_buttons(admin_client_mfa, therapist):
    consultation = consultation_at(FIRST_SLOT)
    consultation.client = Client.objects.create(first_name="A", last_name="B", email="a@b.example")
    consultation.save()
    Appointment.objects.filter(pk=consultation.appointment_id).update(status="completed")

    with time_machine.travel(FIRST_SLOT + timedelta(hours=1), tick=False):
        admin_client_mfa.force_login(therapist)
        response = admin_client_mfa.get(change_url(consultation))

    assert steps_shown(response) == []
    assert "Next steps" not in response.content.decode()


@pytest.mark.parametrize(("step", "status"), [("complete", "completed"), ("no-show", "no_show")])
def test_the_mark_buttons_mark_a_started_call_and_go_back_to_it(
    admin_client_mfa, therapist, step, status
):
    consultation = consultation_at(FIRST_SLOT)

    with time_machine.travel(FIRST_SLOT + timedelta(minutes=25), tick=False):
        admin_client_mfa.force_login(therapist)
        response = admin_client_mfa.post(step_url(consultation, step), follow=True)

    consultation.appointment.refresh_from_db()
    assert consultation.appointment.status == status
    assert response.redirect_chain == [(change_url(consultation), 302)]
    label = "completed" if status == "completed" else "no-show"
    assert messages_of(response) == [f"Marked {label}."]


def test_a_second_click_on_completed_says_so_instead_of_failing(admin_client_mfa, therapist):
    consultation = consultation_at(FIRST_SLOT)

    with time_machine.travel(FIRST_SLOT + timedelta(minutes=25), tick=False):
        admin_client_mfa.force_login(therapist)
        admin_client_mfa.post(step_url(consultation, "complete"), follow=True)
        again = admin_client_mfa.post(step_url(consultation, "complete"), follow=True)
        stale = admin_client_mfa.post(step_url(consultation, "no-show"), follow=True)

    assert again.status_code == 200
    assert messages_of(again) == ["Nothing changed: this consultation is already completed."]
    assert messages_of(stale) == ["Nothing changed: this consultation is already completed."]
    consultation.appointment.refresh_from_db()
    assert consultation.appointment.status == "completed"


def test_marking_a_call_before_it_starts_is_refused_kindly(admin_client_mfa):
    consultation = consultation_at(FIRST_SLOT)

    response = admin_client_mfa.post(step_url(consultation, "complete"), follow=True)

    assert messages_of(response) == ["Nothing changed: the call has not started yet."]
    consultation.appointment.refresh_from_db()
    assert consultation.appointment.status == "booked"


def test_the_cancel_button_asks_for_a_note_then_cancels_and_goes_back(
    admin_client_mfa, django_capture_on_commit_callbacks, eager_tasks, mailoutbox
):
    consultation = consultation_at(FIRST_SLOT, email="ada@example.com")

    asked = admin_client_mfa.post(step_url(consultation, "cancel"))
    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client_mfa.post(
            step_url(consultation, "cancel"),
            {"apply": "1", "note": "I am ill this week."},
            follow=True,
        )

    asked_html = asked.content.decode()
    assert "A note to her" in asked_html
    assert "Tue, Jan 5, 9:00 AM (Pacific time, Los Angeles)" in asked_html
    assert done.redirect_chain == [(change_url(consultation), 302)]
    assert messages_of(done) == ["Cancelled; she has been emailed and the time is free again."]
    consultation.refresh_from_db()
    assert (consultation.appointment.status, consultation.cancel_note) == (
        "cancelled",
        "I am ill this week.",
    )
    to_her = [m for m in mailoutbox if m.to == ["ada@example.com"]]
    assert len(to_her) == 1
    assert "I am ill this week." in to_her[0].body


def test_cancelling_twice_says_it_is_already_cancelled(
    admin_client_mfa, django_capture_on_commit_callbacks, eager_tasks, mailoutbox
):
    consultation = consultation_at(FIRST_SLOT, email="ada@example.com")
    cancel = {"apply": "1", "note": ""}

    with django_capture_on_commit_callbacks(execute=True):
        admin_client_mfa.post(step_url(consultation, "cancel"), cancel, follow=True)
        again = admin_client_mfa.post(step_url(consultation, "cancel"), cancel, follow=True)

    assert messages_of(again) == ["Nothing changed: this consultation is already cancelled."]
    assert len([m for m in mailoutbox if m.to == ["ada@example.com"]]) == 1


def test_the_convert_button_links_her_record_once(admin_client_mfa, therapist):
    consultation = consultation_at(FIRST_SLOT, first_name="Ada", email="ada@example.com")

    first = admin_client_mfa.post(step_url(consultation, "convert"), follow=True)
    second = admin_client_mfa.post(step_url(consultation, "convert"), follow=True)

    consultation.refresh_from_db()
    client = consultation.client
    assert (client.first_name, client.email) == ("Ada", "ada@example.com")
    client_page = reverse("admin:practice_client_change", args=[client.pk])
    assert messages_of(first) == [
        f"{consultation.full_name} is linked to client #{client.pk}. "
        f'<a href="{client_page}">Open her client page</a> to invite her to the client portal.'
    ]
    assert messages_of(second) == [
        f"Nothing changed: {consultation.full_name} is already client #{client.pk}."
    ]
    assert Client.objects.count() == 1
    created = AuditEvent.objects.filter(object_type="practice.client")
    assert [(e.actor_id, e.action) for e in created] == [(therapist.pk, "create")]


def test_a_button_changes_nothing_on_a_get(admin_client_mfa, therapist):
    consultation = consultation_at(FIRST_SLOT)

    with time_machine.travel(FIRST_SLOT + timedelta(minutes=25), tick=False):
        admin_client_mfa.force_login(therapist)
        response = admin_client_mfa.get(step_url(consultation, "complete"))

    assert response.status_code == 302
    consultation.appointment.refresh_from_db()
    assert consultation.appointment.status == "booked"


def test_a_button_post_without_the_csrf_token_is_refused(therapist):
    from django.test import Client as BrowserClient

    consultation = consultation_at(FIRST_SLOT)
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(therapist)

    response = browser.post(step_url(consultation, "convert"))

    assert response.status_code == 403
    consultation.refresh_from_db()
    assert consultation.client is None


def test_a_button_for_a_consultation_that_is_gone_goes_back_to_the_list(admin_client_mfa):
    response = admin_client_mfa.post(f"{LIST}999999/complete/", follow=True)

    assert response.redirect_chain == [(LIST, 302)]
    assert messages_of(response) == ["That consultation no longer exists."]


def test_the_page_shows_her_time_beside_the_practices_with_zone_names(admin_client_mfa):
    consultation = consultation_at(FIRST_SLOT, time_zone="America/New_York")
    far = consultation_at(FIRST_SLOT + timedelta(hours=6), time_zone="Australia/Sydney")

    html = admin_client_mfa.get(change_url(consultation)).content.decode()
    far_html = admin_client_mfa.get(change_url(far)).content.decode()

    assert (
        "Tue, Jan 5, 9:00 AM (Pacific time, Los Angeles) — 12:00 PM for her "
        "(Eastern time, New York)" in html
    )
    assert "Eastern time, New York" in html.split("Her time zone")[1][:300]
    assert "America/New_York" not in html
    # Her day is named when it is not the practice's.
    assert (
        "Tue, Jan 5, 3:00 PM (Pacific time, Los Angeles) — Wed, Jan 6, 10:00 AM for her (Sydney)"
        in far_html
    )


def test_the_list_shows_times_on_a_twelve_hour_clock(admin_client_mfa):
    consultation_at(FIRST_SLOT + timedelta(hours=5))

    html = admin_client_mfa.get(LIST).content.decode()

    assert "Tue, Jan 5, 2:00 PM" in html


def test_her_phone_is_a_tap_to_call_link(admin_client_mfa):
    consultation = consultation_at(FIRST_SLOT, phone="+1 (510) 555-0100")
    no_phone = consultation_at(FIRST_SLOT + timedelta(hours=1), phone="")

    html = admin_client_mfa.get(change_url(consultation)).content.decode()
    without = admin_client_mfa.get(change_url(no_phone)).content.decode()

    assert '<a href="tel:+15105550100">Call +1 (510) 555-0100</a>' in html
    assert 'name="phone"' in html  # still editable beside the link
    assert "tel:" not in without
    assert "No phone given" in without


def test_call_notes_are_saved_and_the_change_is_audited_without_them(admin_client_mfa, therapist):
    from django.contrib.admin.models import LogEntry

    consultation = consultation_at(FIRST_SLOT)
    notes = "Sleeps three hours a night; wants to start after the holidays."

    response = admin_client_mfa.post(
        change_url(consultation), change_form_data(consultation, call_notes=notes)
    )

    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.call_notes == notes
    event = AuditEvent.objects.get()
    assert (event.actor_id, event.action, event.object_type, event.object_id) == (
        therapist.pk,
        "change",
        "consultations.consultation",
        str(consultation.pk),
    )
    recorded = [str(value) for row in AuditEvent.objects.values() for value in row.values()] + [
        f"{entry.object_repr} {entry.change_message}" for entry in LogEntry.objects.all()
    ]
    assert all("Sleeps" not in value and "holidays" not in value for value in recorded)


def test_call_notes_have_their_own_private_section(admin_client_mfa):
    consultation = consultation_at(FIRST_SLOT, call_notes="Spoke about her sister.")

    html = admin_client_mfa.get(change_url(consultation)).content.decode()

    assert "Call notes (private)" in html
    assert 'name="call_notes"' in html
    assert "Spoke about her sister." in html


def test_the_page_switches_a_call_to_phone_and_back_with_its_own_link(admin_client_mfa):
    consultation = consultation_at(FIRST_SLOT)

    admin_client_mfa.post(
        change_url(consultation), change_form_data(consultation, meeting_mode="phone")
    )
    consultation.appointment.refresh_from_db()
    as_phone = (consultation.appointment.mode, consultation.video_link)
    admin_client_mfa.post(
        change_url(consultation),
        change_form_data(
            consultation, meeting_mode="video", video_url="https://video.example/ada-only"
        ),
    )
    consultation.appointment.refresh_from_db()

    assert as_phone == ("phone", "")
    assert consultation.appointment.mode == "video"
    assert consultation.video_link == "https://video.example/ada-only"
    html = admin_client_mfa.get(change_url(consultation)).content.decode()
    assert 'href="https://video.example/ada-only"' in html


def test_a_cancelled_call_keeps_how_it_was_held(admin_client_mfa):
    consultation = consultation_at(FIRST_SLOT)
    Appointment.objects.filter(pk=consultation.appointment_id).update(status="cancelled")

    response = admin_client_mfa.post(
        change_url(consultation), change_form_data(consultation, meeting_mode="phone")
    )

    assert response.status_code == 302
    consultation.appointment.refresh_from_db()
    assert consultation.appointment.mode == "video"


def test_the_change_page_has_a_constant_query_budget(
    admin_client_mfa, django_assert_max_num_queries, video_room
):
    consultation = consultation_at(FIRST_SLOT)
    admin_client_mfa.get(change_url(consultation))

    # 1 of them: the view's audit line (one insert; it is sealed off the request).
    with django_assert_max_num_queries(10):
        admin_client_mfa.get(change_url(consultation))
