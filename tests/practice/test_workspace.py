"""The therapist's workspace: her sections, the Today page, times as she reads them.

"Now" is Monday 4 January 2027, 8:00 AM in Los Angeles (the practice's zone),
so today's 9:00 AM call is 17:00 UTC.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consultations.models import Consultation
from practice import dashboard, panels
from practice.admin_site import Section, WorkspaceAdminSite
from practice.calendar.display import appointments_with, in_practice_time
from practice.models import (
    Appointment,
    AppointmentKind,
    AvailabilityException,
    MeetingMode,
    OutboxMessage,
    WeeklyHours,
)
from tests.conftest import totp_code
from tests.consultations.factories import ConsultationFactory, WaitlistEntryFactory
from tests.factories import (
    PASSWORD,
    AppointmentFactory,
    ClientFactory,
    OutboxMessageFactory,
    StaffFactory,
)
from tests.kap_sessions.factories import SafetyFlagFactory
from tests.support.calendar import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TODAY_9AM = datetime(2027, 1, 4, 17, 0, tzinfo=UTC)  # Mon, Jan 4, 9:00 AM in Los Angeles
TOMORROW_2PM = datetime(2027, 1, 5, 22, 0, tzinfo=UTC)  # Tue, Jan 5, 2:00 PM
YESTERDAY = NOW - timedelta(days=1)
LAST_WEEK = NOW - timedelta(days=7)

PROJECT_APPS = {"practice", "consultations", "kap_sessions", "newsletter"}


def call(start: datetime, *, mode: str = MeetingMode.PHONE, **fields: object) -> Consultation:
    """A free consultation booked a week ago (so it is no news today)."""
    fields.setdefault("created_at", LAST_WEEK)
    appointment = AppointmentFactory(start=start, mode=mode, created_at=LAST_WEEK)
    return ConsultationFactory(appointment=appointment, **fields)


def sidebar(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return {
        section["name"]: [entry["name"] for entry in section["models"]]
        for section in response.context["available_apps"]
    }


def panel_titles(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [shown.panel.title for shown in response.context["panels"]]


# --- Sections ----------------------------------------------------------------


def test_the_sidebar_groups_her_work_in_her_words(admin_client_mfa):
    response = admin_client_mfa.get("/admin/")

    assert sidebar(response) == {
        "Consultations": ["Consultations", "Waitlist entries"],
        # A client's signatures, documents, answers, marks and decisions are
        # opened from her page (workspace_section = None).
        # Notes are listed (drafts wait to be signed); a medicine session's
        # record is opened from its session.
        "Clients": [
            "Clients",
            "Course sessions",
            "Courses",
            "Psychotherapy notes",
            "Questionnaires",
            "Safety flags",
            "Session notes",
        ],
        "Calendar": [
            "Appointment kind settings",
            "Appointments",
            "Availability exceptions",
            "Calendar subscription link",
            "Weekly hours",
        ],
        "Billing": ["Good Faith Estimates", "Superbills"],
        "Newsletter": ["Articles", "Campaigns", "Subscriber exports", "Subscribers"],
        "Practice settings": [
            "Consent documents",
            "Contraindications",
            "Course settings",
            "Outgoing emails",
            "Practice profile",
            "Screening settings",
            "Users",
        ],
    }
    assert b">Today</a>" in response.content


def test_system_lists_stay_out_of_sight_until_she_asks(admin_client_mfa):
    hidden = admin_client_mfa.get("/admin/practice/client/")

    shown = admin_client_mfa.post(
        "/admin/workspace/system/", {"show": "1", "next": "/admin/practice/client/"}
    )
    remembered = admin_client_mfa.get("/admin/")
    admin_client_mfa.post("/admin/workspace/system/", {"show": "0", "next": "/admin/"})
    hidden_again = admin_client_mfa.get("/admin/")

    assert "System" not in sidebar(hidden)
    assert b"Show system settings" in hidden.content
    assert shown.status_code == 302
    assert shown["Location"] == "/admin/practice/client/"
    assert sidebar(remembered)["System"] == [
        "Audit events",
        "Authenticators",
        "Email addresses",
        "Groups",
        "Sites",
        "Worker heartbeats",
    ]
    assert b"Hide system settings" in remembered.content
    assert "System" not in sidebar(hidden_again)


def test_a_hidden_system_list_still_opens_by_its_address(admin_client_mfa):
    response = admin_client_mfa.get("/admin/sites/site/")

    assert response.status_code == 200
    assert "System" not in sidebar(response)


def test_an_apps_own_page_keeps_djangos_listing(admin_client_mfa):
    response = admin_client_mfa.get("/admin/practice/")

    assert response.status_code == 200
    assert [app["name"] for app in response.context["app_list"]] == ["Practice"]
    assert "Consultations" in sidebar(response)


def test_the_system_toggle_goes_back_only_to_this_site(admin_client_mfa):
    response = admin_client_mfa.post(
        "/admin/workspace/system/", {"show": "1", "next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_the_system_toggle_changes_nothing_on_a_get(admin_client_mfa):
    response = admin_client_mfa.get("/admin/workspace/system/", {"show": "1"})

    assert response.status_code == 405
    assert "System" not in sidebar(admin_client_mfa.get("/admin/"))


def test_every_list_of_the_practice_says_which_section_it_belongs_to():
    undeclared = sorted(
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in PROJECT_APPS and "workspace_section" not in dir(model_admin)
    )

    assert undeclared == []


def test_a_section_that_does_not_exist_is_a_system_check_error():
    site = WorkspaceAdminSite(name="scratch")

    class MisplacedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
        workspace_section = "Consultations"  # the label, not the value

    site.register(WeeklyHours, MisplacedAdmin)

    assert [error.id for error in site.check(None)] == ["practice.E001"]


def test_the_sections_come_in_her_order():
    assert [section.label for section in Section] == [
        "Consultations",
        "Clients",
        "Calendar",
        "Billing",
        "Newsletter",
        "Practice settings",
        "System",
    ]


# --- The Today page ------------------------------------------------------------


def test_today_shows_todays_and_tomorrows_calls_with_name_time_phone_and_intake(
    admin_client_mfa,
):
    nora = call(TODAY_9AM, first_name="Nora", last_name="Quinn", phone="+1 (510) 555-0100")
    ines = call(TOMORROW_2PM, mode=MeetingMode.VIDEO, first_name="Ines", last_name="Park")
    call(TOMORROW_2PM + timedelta(days=1), first_name="Later", last_name="Day")

    response = admin_client_mfa.get("/admin/")

    days = response.context["panels"][0].data["days"]
    assert [day.heading for day in days] == ["Today, Mon, Jan 4", "Tomorrow, Tue, Jan 5"]
    assert [[item.shown_with.name for item in day.items] for day in days] == [
        ["Nora Quinn"],
        ["Ines Park"],
    ]
    html = response.content.decode()
    assert "9:00 AM" in html and "9:20 AM" in html
    assert "2:00 PM" in html
    assert "Later Day" not in html
    assert '<a class="agenda-call" href="tel:+15105550100">Call +1 (510) 555-0100</a>' in html
    assert f'href="/admin/consultations/consultation/{nora.pk}/change/">Intake' in html
    assert f'href="/admin/consultations/consultation/{ines.pk}/change/">Intake' in html
    assert "Free consultation · Phone call" in html
    assert "Free consultation · Video call" in html


def test_today_shows_a_video_calls_link_to_join(admin_client_mfa, practice_profile):
    practice_profile.video_room_url = "https://video.example/lena"
    practice_profile.save()
    call(TODAY_9AM, mode=MeetingMode.VIDEO, first_name="Vera", last_name="Lind")

    response = admin_client_mfa.get("/admin/")

    assert b'href="https://video.example/lena" rel="noopener noreferrer">Join video' in (
        response.content
    )


def test_today_shows_sessions_by_their_client_and_blocked_time_as_time_off(admin_client_mfa):
    amara = ClientFactory(first_name="Amara", last_name="Okafor", phone="(510) 555-0177")
    AppointmentFactory(
        kind=AppointmentKind.PREPARATION,
        start=TODAY_9AM + timedelta(hours=2),
        client=amara,
        mode=MeetingMode.IN_PERSON,
    )
    AppointmentFactory(
        kind=AppointmentKind.BLOCKED, start=TODAY_9AM + timedelta(hours=4), title="Dentist"
    )

    response = admin_client_mfa.get("/admin/")

    html = response.content.decode()
    assert "Amara Okafor" in html
    assert "Preparation session · In person" in html
    assert f'href="/admin/practice/client/{amara.pk}/change/">Client record' in html
    assert 'href="tel:5105550177"' in html
    assert "Time off: Dentist" in html


def test_today_leaves_out_cancelled_calls(admin_client_mfa):
    gone = call(TODAY_9AM, first_name="Gone", last_name="Away")
    Appointment.objects.filter(pk=gone.appointment_id).update(status="cancelled")

    response = admin_client_mfa.get("/admin/")

    assert [day.items for day in response.context["panels"][0].data["days"]] == [[], []]
    assert response.content.count(b"Nothing booked.") == 2


def test_today_lists_new_bookings_moves_and_cancellations_since_yesterday(admin_client_mfa):
    new = call(TOMORROW_2PM, first_name="New", last_name="Booking", created_at=YESTERDAY)
    cancelled = call(TODAY_9AM + timedelta(days=3), first_name="Can", last_name="Celled")
    Appointment.objects.filter(pk=cancelled.appointment_id).update(
        status="cancelled", status_changed_at=NOW - timedelta(hours=2)
    )
    Consultation.objects.filter(pk=cancelled.pk).update(cancelled_by="client")
    moved = call(TODAY_9AM + timedelta(days=4), first_name="Mo", last_name="Ved")
    Appointment.objects.filter(pk=moved.appointment_id).update(created_at=NOW - timedelta(hours=1))
    call(TODAY_9AM + timedelta(days=5), first_name="Old", last_name="News")
    call(
        TODAY_9AM + timedelta(days=6),
        first_name="Before",
        last_name="Yesterday",
        created_at=datetime(2027, 1, 3, 7, 59, tzinfo=UTC),  # Jan 2, 11:59 PM in LA
    )

    response = admin_client_mfa.get("/admin/")

    changes = next(p for p in response.context["panels"] if p.panel.name == "consultations.changes")
    assert [(c.what, c.consultation.full_name) for c in changes.data["changes"]] == [
        ("Moved", "Mo Ved"),
        ("Cancelled by her", "Can Celled"),
        ("New booking", "New Booking"),
    ]
    html = response.content.decode()
    assert "Since the start of Sun, Jan 3." in html
    assert f'href="/admin/consultations/consultation/{new.pk}/change/">New Booking</a>' in html
    assert "call Tue, Jan 5, 2:00 PM" in html
    assert "Old News" not in html


def test_today_shows_who_is_waiting(admin_client_mfa):
    WaitlistEntryFactory(name="Ivy Waiting", preferred_times="weekday evenings")
    WaitlistEntryFactory(name="Told Already", status="notified")

    response = admin_client_mfa.get("/admin/")

    html = response.content.decode()
    assert "Ivy Waiting" in html
    assert "weekday evenings" in html
    assert "Central time, Chicago" in html
    assert "Told Already" not in html
    assert 'href="/admin/consultations/waitlistentry/?status__exact=waiting"' in html


def test_today_shows_failed_emails_with_a_link_to_send_them_again(admin_client_mfa):
    OutboxMessageFactory(
        status=OutboxMessage.Status.FAILED,
        finished_at=NOW - timedelta(hours=3),
        recipient="nora@example.com",
        last_error="SMTPRecipientsRefused 550",
    )
    OutboxMessageFactory(
        status=OutboxMessage.Status.SENT, finished_at=NOW, recipient="ok@example.com"
    )

    response = admin_client_mfa.get("/admin/")

    html = response.content.decode()
    assert "1 email could not be sent." in html
    assert "consultation.booked to nora@example.com" in html
    assert "failed Mon, Jan 4, 5:00 AM · SMTPRecipientsRefused 550" in html
    assert "ok@example.com" not in html
    assert 'href="/admin/practice/outboxmessage/?status__exact=failed"' in html


def test_a_failed_reminder_on_today_names_whom_it_was_for(admin_client_mfa):
    """A reminder keeps no address (it is read when sent): Today names her by its appointment."""
    consultation = ConsultationFactory(first_name="Ivy", last_name="Rowe")
    OutboxMessageFactory(
        kind="reminder.consultation",
        status=OutboxMessage.Status.FAILED,
        finished_at=NOW - timedelta(hours=1),
        recipient="",
        object_type="practice.appointment",
        object_id=consultation.appointment_id,
    )
    OutboxMessageFactory(
        kind="practice.agenda",
        status=OutboxMessage.Status.FAILED,
        finished_at=NOW - timedelta(hours=2),
        recipient="",
    )

    html = admin_client_mfa.get("/admin/").content.decode()

    assert "reminder.consultation to Ivy Rowe" in html
    assert "practice.agenda to the practice" in html


def test_today_says_so_when_every_email_went_out(admin_client_mfa):
    response = admin_client_mfa.get("/admin/")

    assert b"None: every email went out." in response.content


def test_the_panels_come_from_the_core_and_the_leaf_apps():
    assert [(panel.name, panel.order) for panel in dashboard.panels()] == [
        ("kap_sessions.safety_flags", 5),
        ("calendar.agenda", 10),
        ("kap_sessions.week_sessions", 12),
        ("kap_sessions.courses_waiting", 14),
        ("kap_sessions.courses_past_plan", 16),
        ("consultations.changes", 20),
        ("consultations.waitlist", 30),
        ("outbox.failed", 40),
        ("practice.audit_trail", 90),
    ]


@pytest.fixture
def scratch_panels(monkeypatch):  # type: ignore[no-untyped-def]
    """Panels registered by a test are forgotten after it."""
    monkeypatch.setattr(panels, "_panels", dict(panels._panels))


def test_a_panel_registered_by_another_app_shows_on_today_in_its_order(
    admin_client_mfa, scratch_panels
):
    @dashboard.dashboard_panel(
        "course.due",
        title="Course steps due",
        order=15,
        template="practice/admin/panel_agenda.html",
    )
    def due(request, *, now):  # type: ignore[no-untyped-def]
        return {"days": []}

    response = admin_client_mfa.get("/admin/")

    assert panel_titles(response) == [
        "Today and tomorrow",
        "Course steps due",
        "New bookings and cancellations",
        "Waitlist",
        "Failed emails",
        "Audit trail",
    ]
    assert b'<h2 id="panel-course-due">Course steps due</h2>' in response.content


def test_a_panel_with_nothing_to_show_is_left_out(admin_client_mfa, scratch_panels):
    dashboard.dashboard_panel(
        "quiet", title="Quiet", order=1, template="practice/admin/panel_agenda.html"
    )(lambda request, *, now: None)

    response = admin_client_mfa.get("/admin/")

    assert "Quiet" not in panel_titles(response)


def test_a_panel_is_shown_only_to_staff_allowed_to_see_it(client, practice_profile):
    from django.contrib.auth.models import Permission

    from tests.conftest import enrol_totp

    assistant = StaffFactory(is_superuser=False)
    enrol_totp(assistant)
    assistant.user_permissions.add(Permission.objects.get(codename="view_appointment"))
    client.force_login(assistant)

    response = client.get("/admin/")

    assert panel_titles(response) == ["Today and tomorrow"]
    assert sidebar(response) == {"Calendar": ["Appointments"]}


def test_registering_two_panels_under_one_name_is_refused(scratch_panels):
    dashboard.dashboard_panel("twice", title="One", order=1, template="x.html")(
        lambda request, *, now: {}
    )

    with pytest.raises(ValueError, match="registered twice"):
        dashboard.dashboard_panel("twice", title="Two", order=2, template="x.html")(
            lambda request, *, now: {}
        )


def _fill_today(count: int, offset: int = 0) -> None:
    """``count`` appointments today and tomorrow, with news, a waitlist, failed emails, flags."""
    kinds = [AppointmentKind.CONSULTATION, AppointmentKind.PREPARATION, AppointmentKind.BLOCKED]
    for i in range(offset, offset + count):
        start = TODAY_9AM + timedelta(hours=i)  # an hour apart: no overlap
        kind = kinds[i % 3]
        if kind == AppointmentKind.CONSULTATION:
            call(start, first_name=f"Caller{i}", created_at=YESTERDAY)
        elif kind == AppointmentKind.PREPARATION:
            AppointmentFactory(kind=kind, start=start, client=ClientFactory(), mode="in_person")
        else:
            AppointmentFactory(kind=kind, start=start, title=f"Errand {i}")
        WaitlistEntryFactory()
        OutboxMessageFactory(status=OutboxMessage.Status.FAILED, finished_at=NOW)
        SafetyFlagFactory()


def _queries(client) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/admin/")
    assert response.status_code == 200
    return len(captured)


def test_today_costs_the_same_queries_for_2_and_20_appointments(
    admin_client_mfa, django_assert_max_num_queries
):
    _fill_today(2)
    admin_client_mfa.get("/admin/")  # warm the per-process caches
    few = _queries(admin_client_mfa)

    _fill_today(18, offset=2)
    many = _queries(admin_client_mfa)

    assert many == few
    # 16 for the day, the changes, the waitlist, failed emails and safety
    # flags; 5 for the course panels (the week's sessions, the courses held up
    # and their overdue integrations, the courses past their plan); 1 for the
    # audit trail's last check.
    with django_assert_max_num_queries(22):
        response = admin_client_mfa.get("/admin/")
    shown = {panel.panel.name: panel.data for panel in response.context["panels"]}
    assert sum(len(day.items) for day in shown["calendar.agenda"]["days"]) == 20
    assert shown["kap_sessions.safety_flags"]["total"] == 20


def test_today_opens_after_the_real_login_with_a_second_factor(client, therapist):
    call(TODAY_9AM, first_name="Nora", last_name="Quinn")
    start = client.post(
        "/accounts/login/?next=/admin/", {"login": therapist.email, "password": PASSWORD}
    )
    done = client.post(start["Location"], {"code": totp_code(therapist.totp_secret)})

    response = client.get(done["Location"])

    assert done["Location"] == "/admin/"
    assert response.status_code == 200
    assert b"<h1>Today <span" in response.content
    assert b"Nora Quinn" in response.content
    assert b"<title>Today | Practice workspace</title>" in response.content


# --- Who an appointment is with ----------------------------------------------------


def test_the_appointment_list_says_who_each_is_with(admin_client_mfa):
    nora = call(TODAY_9AM, first_name="Nora", last_name="Quinn")
    AppointmentFactory(
        kind=AppointmentKind.BLOCKED, start=TODAY_9AM + timedelta(hours=2), title="Dentist"
    )

    response = admin_client_mfa.get("/admin/practice/appointment/")

    html = response.content.decode()
    assert (
        f'Nora Quinn (<a href="/admin/consultations/consultation/{nora.pk}/change/">intake</a>)'
        in html
    )
    assert '<td class="field-with_display">Dentist</td>' in html
    assert '<td class="field-with_display">-</td>' not in html


def test_a_moved_away_appointment_names_the_booker_through_its_replacement(admin_client_mfa):
    nora = call(TOMORROW_2PM, first_name="Nora", last_name="Quinn")
    first = AppointmentFactory(start=TODAY_9AM, status="cancelled", created_at=LAST_WEEK)
    second = AppointmentFactory(
        start=TODAY_9AM + timedelta(hours=1), status="cancelled", created_at=LAST_WEEK
    )
    Appointment.objects.filter(pk=first.pk).update(rescheduled_to=second)
    Appointment.objects.filter(pk=second.pk).update(rescheduled_to=nora.appointment)

    shown = appointments_with(Appointment.objects.filter(pk__in=[first.pk, second.pk]))

    assert {pk: who.name for pk, who in shown.items()} == {
        first.pk: "Nora Quinn",
        second.pk: "Nora Quinn",
    }
    assert shown[first.pk].record_url == f"/admin/consultations/consultation/{nora.pk}/change/"


def test_the_display_hook_costs_the_same_for_2_and_20_appointments():
    for i in range(20):
        call(TODAY_9AM + timedelta(hours=i), first_name=f"Caller{i}")
    ids = list(Appointment.objects.values_list("pk", flat=True))

    def queries(count: int) -> int:
        appointments = list(Appointment.objects.filter(pk__in=ids[:count]))
        with CaptureQueriesContext(connection) as captured:
            shown = appointments_with(appointments)
        assert len(shown) == count
        return len(captured)

    assert queries(2) == queries(20) == 1


def test_the_appointment_page_says_who_it_is_with(admin_client_mfa):
    nora = call(TODAY_9AM, first_name="Nora", last_name="Quinn")

    response = admin_client_mfa.get(f"/admin/practice/appointment/{nora.appointment_id}/change/")

    assert b"Nora Quinn" in response.content


# --- Times as she reads them -----------------------------------------------------


def test_the_appointment_list_reads_times_on_a_twelve_hour_clock(admin_client_mfa):
    call(TODAY_9AM, first_name="Nora", last_name="Quinn")

    response = admin_client_mfa.get("/admin/practice/appointment/")

    html = response.content.decode()
    assert '<td class="field-end nowrap">Mon, Jan 4, 2027, 9:20 AM</td>' in html
    assert "09:00" not in html


def test_the_admin_works_in_the_practice_profiles_zone(admin_client_mfa, practice_profile):
    practice_profile.time_zone = "America/New_York"
    practice_profile.save()
    call(TODAY_9AM, first_name="Nora", last_name="Quinn")

    response = admin_client_mfa.get("/admin/practice/appointment/")

    assert b"Mon, Jan 4, 2027, 12:20 PM" in response.content


def test_weekly_hours_are_edited_as_times_of_day_without_seconds(admin_client_mfa):
    hours = WeeklyHours.objects.create(weekday=0, start_time=time(9), end_time=time(17))
    url = f"/admin/practice/weeklyhours/{hours.pk}/change/"

    page = admin_client_mfa.get(url)
    saved = admin_client_mfa.post(
        url, {"weekday": "0", "start_time": "9:30 am", "end_time": "17:15"}
    )

    assert b'value="9:00 AM"' in page.content
    assert b'value="5:00 PM"' in page.content
    assert saved.status_code == 302
    hours.refresh_from_db()
    assert (hours.start_time, hours.end_time) == (time(9, 30), time(17, 15))
    assert str(hours) == "Monday 9:30 AM–5:15 PM"


def test_the_weekly_hours_list_edits_times_without_seconds(admin_client_mfa):
    WeeklyHours.objects.create(weekday=1, start_time=time(13), end_time=time(17, 30))

    response = admin_client_mfa.get("/admin/practice/weeklyhours/")

    assert b'value="1:00 PM"' in response.content
    assert b'value="5:30 PM"' in response.content
    assert b"13:00:00" not in response.content


def test_availability_exceptions_read_as_days_and_times_of_day():
    single = AvailabilityException(
        effect="extra",
        first_day=date(2027, 1, 9),
        last_day=date(2027, 1, 9),
        start_time=time(10),
        end_time=time(13),
    )
    holiday = AvailabilityException(first_day=date(2027, 1, 25), last_day=date(2027, 1, 29))

    assert str(single) == "Extra hours Sat, Jan 9, 2027 10:00 AM–1:00 PM"
    assert str(holiday) == "Time off Mon, Jan 25, 2027 – Fri, Jan 29, 2027"


def test_in_practice_time_writes_the_year_only_when_it_is_not_this_one(practice_profile):
    assert in_practice_time(TODAY_9AM) == "Mon, Jan 4, 9:00 AM"
    assert in_practice_time(datetime(2026, 12, 4, 17, tzinfo=UTC)) == "Fri, Dec 4, 2026, 9:00 AM"


def test_the_demo_practice_opens_on_today(admin_client_mfa):
    call_command("seed_demo", stdout=io.StringIO())

    response = admin_client_mfa.get("/admin/")

    assert response.status_code == 200
    # The demo has one open safety flag (Hana's EPDS), which comes before the day.
    assert panel_titles(response)[:2] == ["Safety flags to look at", "Today and tomorrow"]
