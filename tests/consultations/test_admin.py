"""The therapist's consultation list and its actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from consultations.models import Consultation
from practice.models import Appointment, AuditEvent, Client
from tests.consultations.conftest import FIRST_SLOT, NOW
from tests.consultations.factories import AppointmentFactory, ConsultationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("weekly_hours", "frozen_now")]

LIST = "/admin/consultations/consultation/"


def consultation_at(start, **fields):  # type: ignore[no-untyped-def]
    return ConsultationFactory(appointment=AppointmentFactory(start=start), **fields)


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
    assert (event.actor, event.action, event.object_id) == (
        therapist,
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
    assert [(e.actor, e.action, e.client) for e in events] == [
        (therapist, "change", known),
        (therapist, "create", new.client),
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
