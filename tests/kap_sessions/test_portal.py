"""The client portal's home and profile: her appointments, what is left to do, her details.

"Now" is Monday 4 January 2027, 16:00 UTC (8:00 AM in the practice's Los
Angeles). Amara lives in New York; Beth is another client, whose things
Amara must never reach.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlparse

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from kap_sessions.models import ConsentDocument, ConsentKind, ScreeningStatus
from kap_sessions.services import superbill_prefill_lines
from kap_sessions.services.portal import client_profile_update, portal_todo
from kap_sessions.services.portal_cache import portal_changed
from kap_sessions.views.access import CLIENT_ID_SESSION_KEY, portal_client
from practice.discretion import discretion_words_in
from practice.identity import practice_profile_forget
from practice.invitations import client_invite
from practice.models import Appointment, AppointmentKind, AuditEvent, Client, MeetingMode
from practice.outbox.services import outbox_send_due
from tests.factories import (
    PASSWORD,
    AppointmentFactory,
    ClientDocumentFactory,
    ClientFactory,
    UserFactory,
)
from tests.kap_sessions.factories import (
    ConsentDocumentFactory,
    ConsentSignatureFactory,
    IntakeFactory,
    ScreeningAssignmentFactory,
)
from tests.kap_sessions.factories_documents import (
    SuperbillFactory,
    SuperbillLineFactory,
    completed_course,
)
from tests.support.layout import sideways_overflow

NOW = datetime(2027, 1, 4, 16, 0, tzinfo=UTC)
TUESDAY_NOON_IN_NEW_YORK = datetime(2027, 1, 5, 17, 0, tzinfo=UTC)


@pytest.fixture
def now():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def amara(client_user, practice_profile) -> Client:  # type: ignore[no-untyped-def]
    her = client_user.client
    her.time_zone = "America/New_York"
    her.phone = "(212) 555-0101"
    her.save()
    return her


@pytest.fixture
def beth(other_client_user) -> Client:  # type: ignore[no-untyped-def]
    return other_client_user.client


@pytest.fixture
def portal(client, amara):  # type: ignore[no-untyped-def]
    """Django's test client, signed in as Amara."""
    client.force_login(amara.user)
    return client


@pytest.fixture
def no_consent_documents(db):  # type: ignore[no-untyped-def]
    """No consent document but the test's own (the data migration writes version 1 of each)."""
    ConsentDocument.objects.all().delete()


def session(*, client: Client | None, start: datetime, **fields):  # type: ignore[no-untyped-def]
    return AppointmentFactory(
        client=client,
        kind=fields.pop("kind", AppointmentKind.PREPARATION),
        mode=fields.pop("mode", MeetingMode.VIDEO),
        start=start,
        end=start + timedelta(minutes=50),
        occupied_end=start + timedelta(minutes=60),
        **fields,
    )


def page_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


# --- Who may come in --------------------------------------------------------------------


PORTAL_PATHS = ["/portal/", "/portal/profile/"]


@pytest.mark.parametrize("path", PORTAL_PATHS)
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, practice_profile, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_an_anonymous_visitor_cannot_download_a_calendar_file(client, amara, now):
    appointment = session(client=amara, start=TUESDAY_NOON_IN_NEW_YORK)

    response = client.get(f"/portal/appointments/{appointment.pk}.ics")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("path", PORTAL_PATHS)
def test_staff_get_a_friendly_page_not_an_error(client, therapist, path):
    client.force_login(therapist)

    response = client.get(path)

    assert response.status_code == 403
    assert "<h1>The client portal is for clients</h1>" in page_of(response)
    assert 'href="/admin/"' in page_of(response)


def test_a_login_without_a_client_record_gets_the_same_page(client, practice_profile):
    client.force_login(UserFactory())

    response = client.get("/portal/")

    assert response.status_code == 403
    assert "This login is not linked to a client record yet." in page_of(response)


def signed_in_request(user, session=None):  # type: ignore[no-untyped-def]
    request = RequestFactory().get("/portal/")
    request.user = user
    request.session = session if session is not None else SessionStore()
    return request


def test_each_portal_page_reads_her_whole_record_by_her_login(amara, beth):
    def lookup(user):  # type: ignore[no-untyped-def]
        return portal_client(signed_in_request(user))[0]

    def fields(record: Client | None) -> list[object]:
        assert record is not None
        return [getattr(record, f.attname) for f in Client._meta.concrete_fields]

    found = lookup(amara.user)

    assert fields(found) == fields(Client.objects.get(pk=amara.pk))
    assert lookup(beth.user) == beth
    assert lookup(UserFactory()) is None
    assert lookup(AnonymousUser()) is None


def test_her_record_is_kept_by_the_id_in_her_session_and_each_view_gets_its_own_copy(amara):
    session = SessionStore()
    first, _ = portal_client(signed_in_request(amara.user, session))
    assert session[CLIENT_ID_SESSION_KEY] == amara.pk

    with CaptureQueriesContext(connection) as captured:
        again, _ = portal_client(signed_in_request(amara.user, session))
        once_more, _ = portal_client(signed_in_request(amara.user, session))

    assert captured.captured_queries == []
    assert again == once_more == amara
    assert again is not once_more
    again.phone = "changed by one view only"
    assert once_more.phone == "(212) 555-0101"
    assert portal_client(signed_in_request(amara.user, session))[0].phone == "(212) 555-0101"


def test_a_change_to_her_record_is_seen_by_the_next_view(amara):
    session = SessionStore()
    portal_client(signed_in_request(amara.user, session))
    amara.phone = "(212) 555-0199"
    amara.save()

    found, _ = portal_client(signed_in_request(amara.user, session))

    assert found.phone == "(212) 555-0199"


def test_a_record_no_longer_linked_to_her_login_is_not_hers(amara, beth):
    session = SessionStore()
    portal_client(signed_in_request(amara.user, session))
    # Her login is linked to nobody any more; the session still names her old record.
    Client.objects.filter(pk=amara.pk).update(user=None)
    portal_changed(client_id=amara.pk)

    assert portal_client(signed_in_request(amara.user, session)) == (None, None)
    assert CLIENT_ID_SESSION_KEY not in session


def test_a_session_naming_another_record_finds_her_own(amara, beth):
    session = SessionStore()
    portal_client(signed_in_request(beth.user, session))  # keeps Beth's record in this process
    session[CLIENT_ID_SESSION_KEY] = beth.pk

    found, _ = portal_client(signed_in_request(amara.user, session))

    assert found == amara
    assert session[CLIENT_ID_SESSION_KEY] == amara.pk


# --- Home --------------------------------------------------------------------------------


def test_home_greets_her_by_the_name_she_goes_by(now, portal, amara):
    amara.preferred_name = "Mara"
    amara.save()

    response = portal.get("/portal/")

    assert response.status_code == 200
    assert "<h1>Hello, Mara</h1>" in page_of(response)


def test_home_lists_her_upcoming_appointments_in_her_own_zone(now, portal, amara, beth):
    upcoming = session(client=amara, start=TUESDAY_NOON_IN_NEW_YORK)
    session(client=amara, start=NOW - timedelta(days=2))
    session(client=amara, start=NOW + timedelta(days=3), status=Appointment.Status.CANCELLED)
    session(client=beth, start=NOW + timedelta(days=4))

    page = page_of(portal.get("/portal/"))

    assert re.findall(r'<p class="portal-when">([^<]+)</p>', page) == [
        "Tuesday, January 5 at 12:00 PM"
    ]
    assert f'href="/portal/appointments/{upcoming.pk}.ics"' in page
    assert "Times are in Eastern time, New York." in page
    assert "Preparation session · Video call · 50 minutes" in page


def test_without_a_zone_of_her_own_times_are_the_practices(now, portal, amara):
    amara.time_zone = ""
    amara.save()
    session(client=amara, start=TUESDAY_NOON_IN_NEW_YORK)

    page = page_of(portal.get("/portal/"))

    assert "Tuesday, January 5 at 9:00 AM" in page
    assert "Times are in Pacific time, Los Angeles." in page


def test_the_calendar_file_is_her_appointment_in_utc_with_no_treatment_word(
    now, portal, amara, practice_profile
):
    appointment = session(client=amara, start=TUESDAY_NOON_IN_NEW_YORK, kind=AppointmentKind.DOSING)

    response = portal.get(f"/portal/appointments/{appointment.pk}.ics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"] == (
        f'attachment; filename="appointment-{appointment.pk}.ics"'
    )
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["METHOD"]) == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Appointment with Lena Marsh"
    assert event.decoded("DTSTART") == TUESDAY_NOON_IN_NEW_YORK
    assert "DTSTART:20270105T170000Z" in response.content.decode()
    assert event.decoded("DTEND") == TUESDAY_NOON_IN_NEW_YORK + timedelta(minutes=50)
    assert "ATTENDEE" not in event
    assert str(event["CLASS"]) == "PRIVATE"
    assert discretion_words_in(response.content.decode()) == []
    assert "therap" not in response.content.decode().lower()


@pytest.mark.parametrize("kind", ["another client's", "blocked time", "cancelled"])
def test_a_calendar_file_that_is_not_hers_is_a_404(now, portal, beth, amara, kind):
    appointment = {
        "another client's": lambda: session(client=beth, start=TUESDAY_NOON_IN_NEW_YORK),
        "blocked time": lambda: session(
            client=None, start=TUESDAY_NOON_IN_NEW_YORK, kind=AppointmentKind.BLOCKED, mode=""
        ),
        "cancelled": lambda: session(
            client=amara, start=TUESDAY_NOON_IN_NEW_YORK, status=Appointment.Status.CANCELLED
        ),
    }[kind]()

    response = portal.get(f"/portal/appointments/{appointment.pk}.ics")

    assert response.status_code == 404


def test_home_lists_the_documents_shown_to_her_only(now, portal, amara, beth):
    letter = ClientDocumentFactory(client=amara, title="Signed informed consent")
    ClientDocumentFactory(client=amara, title="Therapist's working copy", visible_to_client=False)
    ClientDocumentFactory(client=beth, title="Beth's consent")

    page = page_of(portal.get("/portal/"))

    assert re.findall(r'<a href="/portal/documents/(\d+)/">([^<]+)</a>', page) == [
        (str(letter.pk), "Signed informed consent")
    ]


def test_home_shows_her_details_and_where_to_change_them(now, portal, amara):
    amara.emergency_contact_name = "Sam Rivera"
    amara.emergency_contact_relationship = "partner"
    amara.emergency_contact_phone = "(212) 555-0199"
    amara.save()

    page = page_of(portal.get("/portal/"))

    assert "<dd>(212) 555-0101</dd>" in page
    assert "<dd>Sam Rivera (partner), (212) 555-0199</dd>" in page
    assert "<dd>None named</dd>" in page
    assert '<a href="/portal/profile/">Edit your details</a>' in page


def test_home_puts_her_one_next_step_first(now, portal, amara, no_consent_documents):
    ScreeningAssignmentFactory(client=amara, instrument="gad-7", due_on=date(2027, 1, 8))

    page = page_of(portal.get("/portal/"))

    next_step = page[page.index('id="next-step-heading"') : page.index("</section>")]
    assert "Your health questions" in next_step
    assert 'href="/portal/intake/"' in next_step
    assert 'href="/portal/questionnaires/gad-7/"' in page[page.index('id="later-heading"') :]


def test_home_says_when_nothing_is_left(now, portal, amara, no_consent_documents):
    IntakeFactory(client=amara, submitted_at=NOW)

    page = page_of(portal.get("/portal/"))

    assert "Nothing to do right now" in page


# --- The to-do list ----------------------------------------------------------------------


def answered(intake, *, sections: int) -> None:  # type: ignore[no-untyped-def]
    """Answer the first ``sections`` of the intake as a client with nothing to report."""
    from kap_sessions.models import SECTIONS

    values = {
        "blood_pressure": "normal",
        "substance_use": "none",
        "pregnant": "no",
        "medications": "None",
        "allergies": "None",
        "driver_name": "Sam",
        "driver_phone": "555-0100",
        "childcare_plan": "My mother",
        "state": "NY",
        "emergency_contact_name": "Sam",
        "emergency_contact_phone": "555-0100",
    }
    for section in SECTIONS[:sections]:
        for name in section.fields:
            setattr(intake, name, values.get(name, False))
        for name in section.client_fields:
            if name in values:
                setattr(intake.client, name, values[name])
    intake.client.save()
    intake.save()


def test_todo_starts_with_the_intake_when_she_has_not_begun(amara, no_consent_documents):
    [todo] = portal_todo(amara)

    assert (todo.kind, todo.url, todo.action) == ("intake", "/portal/intake/", "Start")
    assert todo.detail == "8 short parts. Your answers are saved as you go."


def test_todo_says_how_far_the_intake_has_come(amara, no_consent_documents):
    intake = IntakeFactory(client=amara)
    answered(intake, sections=3)

    [todo] = portal_todo(amara)

    assert todo.action == "Carry on"
    assert todo.detail == "3 of 8 parts done. Next: Medications and allergies."


def test_todo_asks_her_to_send_an_intake_that_is_complete(amara, no_consent_documents):
    intake = IntakeFactory(client=amara)
    answered(intake, sections=8)

    [todo] = portal_todo(amara)

    assert (todo.kind, todo.action) == ("intake", "Look over and send")


def test_todo_lists_each_open_questionnaire_once_earliest_first(amara, beth, no_consent_documents):
    IntakeFactory(client=amara, submitted_at=NOW)
    ScreeningAssignmentFactory(client=amara, instrument="epds", due_on=date(2027, 1, 9))
    ScreeningAssignmentFactory(client=amara, instrument="phq-9", due_on=date(2027, 1, 7))
    ScreeningAssignmentFactory(client=amara, instrument="phq-9", due_on=date(2027, 1, 20))
    ScreeningAssignmentFactory(client=amara, instrument="gad-7", status=ScreeningStatus.COMPLETED)
    ScreeningAssignmentFactory(client=beth, instrument="gad-7")

    todos = portal_todo(amara)

    assert [(t.url, t.due_on) for t in todos] == [
        ("/portal/questionnaires/phq-9/", date(2027, 1, 7)),
        ("/portal/questionnaires/epds/", date(2027, 1, 9)),
    ]


def test_todo_lists_the_consents_she_has_not_signed_in_their_order(
    amara, beth, no_consent_documents
):
    IntakeFactory(client=amara, submitted_at=NOW)
    privacy = ConsentDocumentFactory(kind=ConsentKind.PRIVACY_NOTICE, title="Privacy")
    consent_v1 = ConsentDocumentFactory(kind=ConsentKind.KAP_INFORMED_CONSENT, version=2)
    consent_v2 = ConsentDocumentFactory(kind=ConsentKind.KAP_INFORMED_CONSENT, version=3)
    financial = ConsentDocumentFactory(kind=ConsentKind.FINANCIAL_POLICY, title="Fees")
    ConsentDocumentFactory(kind=ConsentKind.RELEASE_SUPPORT_PERSON, title="Optional")
    ConsentDocumentFactory(kind=ConsentKind.RELEASE_PRESCRIBER, published_at=None)
    ConsentSignatureFactory(client=amara, document=consent_v1)
    ConsentSignatureFactory(client=amara, document=privacy)
    ConsentSignatureFactory(client=beth, document=financial)

    todos = portal_todo(amara)

    assert [(t.url, t.detail) for t in todos] == [
        (
            f"/portal/consents/{consent_v2.pk}/",
            "Updated since you signed it: please read and sign the new version.",
        ),
        (f"/portal/consents/{financial.pk}/", "Read it, then sign by typing your name."),
    ]


def test_todo_costs_the_same_few_queries_however_much_is_open(amara, no_consent_documents):
    IntakeFactory(client=amara)
    ConsentDocumentFactory(kind=ConsentKind.PRIVACY_NOTICE)

    with CaptureQueriesContext(connection) as few:
        portal_todo(amara)
    for slug in ("phq-9", "gad-7", "epds", "phq-9"):
        ScreeningAssignmentFactory(client=amara, instrument=slug)
    for kind in (ConsentKind.FINANCIAL_POLICY, ConsentKind.RELEASE_PRESCRIBER):
        ConsentDocumentFactory(kind=kind)
    with CaptureQueriesContext(connection) as many:
        todos = portal_todo(amara)

    assert len(todos) == 7
    assert len(few) == len(many) == 4


# --- Profile -----------------------------------------------------------------------------


def profile_data(**overrides: str) -> dict[str, str]:
    data = {
        "phone": "(212) 555-0101",
        "time_zone": "America/New_York",
        "state": "NY",
        "emergency_contact_name": "Sam Rivera",
        "emergency_contact_phone": "(212) 555-0199",
        "emergency_contact_relationship": "partner",
        "support_person_name": "Ruth Okafor",
        "support_person_phone": "(212) 555-0123",
        "support_person_email": "ruth@example.com",
    }
    return {**data, **overrides}


def test_the_profile_shows_her_details_in_a_form(portal, amara):
    page = page_of(portal.get("/portal/profile/"))

    assert 'value="(212) 555-0101"' in page
    assert '<option value="America/New_York" selected>Eastern time, New York</option>' in page
    assert "The practice&#x27;s time (Pacific time, Los Angeles)" in page
    assert '<option value="NY">New York</option>' in page
    assert 'value="amara@example.com" readonly' in page


def test_saving_the_profile_changes_her_record_and_is_audited(portal, amara):
    response = portal.post("/portal/profile/", profile_data(time_zone="America/Chicago"))

    assert response.status_code == 302
    assert response["Location"] == "/portal/profile/"
    amara.refresh_from_db()
    assert (
        amara.time_zone,
        amara.state,
        amara.emergency_contact_name,
        amara.support_person_email,
    ) == ("America/Chicago", "NY", "Sam Rivera", "ruth@example.com")
    events = AuditEvent.objects.filter(object_type="practice.client", action="change")
    assert [(e.actor_id, e.client_id, e.path) for e in events] == [(amara.user.pk, amara.pk, "")]
    assert "Your details are saved." in page_of(portal.get("/portal/profile/"))


def test_the_profile_cannot_change_her_email_or_name(portal, amara):
    portal.post(
        "/portal/profile/",
        profile_data(email="someone@example.com", first_name="Someone", user="1"),
    )

    amara.refresh_from_db()
    assert (amara.email, amara.first_name) == ("amara@example.com", "Amara")


def test_a_profile_with_mistakes_keeps_what_she_typed(portal, amara):
    response = portal.post(
        "/portal/profile/",
        profile_data(support_person_email="ruth-at-example", time_zone="Mars/Olympus"),
    )

    page = page_of(response)
    assert response.status_code == 400
    assert "Something needs a second look" in page
    assert "Support person&#x27;s email address: Enter a valid email address." in page
    assert 'href="#id_time_zone"' in page
    assert 'value="ruth-at-example"' in page
    assert 'value="Ruth Okafor"' in page
    amara.refresh_from_db()
    assert (amara.support_person_name, amara.time_zone) == ("", "America/New_York")


def test_an_unchanged_profile_writes_no_audit_line(amara):
    client_profile_update(client=amara, actor=amara.user, changes={"phone": amara.phone})

    assert not AuditEvent.objects.exists()


def test_the_profile_service_writes_profile_fields_only(amara):
    with pytest.raises(ValueError, match="not a profile field: email"):
        client_profile_update(client=amara, actor=amara.user, changes={"email": "x@example.com"})


# --- Query budgets ------------------------------------------------------------------------


def queries_for(client, path: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The queries of a view just after her records changed, and of the view after it."""
    client.get(path)  # warm the per-process caches (the practice's profile)
    portal_changed(client_id=None)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200
        counts.append(len(captured))
    return counts[0], counts[1]


@pytest.mark.parametrize("path", PORTAL_PATHS)
def test_a_portal_page_costs_the_same_however_many_appointments_and_documents(
    now, portal, amara, path
):
    session(client=amara, start=TUESDAY_NOON_IN_NEW_YORK)
    ClientDocumentFactory(client=amara)
    ScreeningAssignmentFactory(client=amara)
    few = queries_for(portal, path)

    for day in range(2, 8):
        session(client=amara, start=TUESDAY_NOON_IN_NEW_YORK + timedelta(days=day))
        ClientDocumentFactory(client=amara)
        ScreeningAssignmentFactory(client=amara, instrument="epds")
    many = queries_for(portal, path)

    assert few == many
    first, again = many
    # 12, one for her course summary, superbills and estimates (issue 11) and
    # one for her own view's audit line (an insert: it is sealed off the request).
    assert first <= 14
    # The home's reads are kept until something of hers changes: her session,
    # user and record, the audit line and the session's save remain.
    assert again <= 7


# --- Her home's reads, kept between views --------------------------------------------------


def home_queries(portal) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        response = portal.get("/portal/")
    assert response.status_code == 200
    return len(captured)


def test_home_keeps_its_reads_until_something_of_hers_changes(now, portal, amara, beth):
    portal.get("/portal/")
    kept = home_queries(portal)
    session(client=beth, start=TUESDAY_NOON_IN_NEW_YORK + timedelta(days=1))  # not hers
    still_kept = home_queries(portal)
    appointment = session(client=amara, start=TUESDAY_NOON_IN_NEW_YORK)
    after_booking = page_of(portal.get("/portal/"))
    appointment.status = Appointment.Status.CANCELLED
    appointment.save()
    after_cancelling = page_of(portal.get("/portal/"))

    assert kept == still_kept
    assert after_booking.count("Add to my calendar") == 1
    assert after_cancelling.count("Add to my calendar") == 0


def make_change(change: str, amara: Client, letter, kap) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Change one thing her home shows; return what must appear and what must go ("" for none)."""
    if change == "document":
        ClientDocumentFactory(client=amara, title="Referral letter")
        return "Referral letter", ""
    if change == "deleted_document":
        letter.delete()
        return "", "Welcome letter"
    if change == "questionnaire":
        ScreeningAssignmentFactory(client=amara, instrument="epds")
        return 'href="/portal/questionnaires/epds/"', ""
    if change == "intake":
        IntakeFactory(client=amara)
        return "0 of 8 parts done", "8 short parts"
    if change == "signature":
        ConsentSignatureFactory(client=amara, document=kap)
        return "", f'href="/portal/consents/{kap.pk}/"'
    if change == "new_consent_version":
        newer = ConsentDocumentFactory(kind=ConsentKind.KAP_INFORMED_CONSENT, version=2)
        return f'href="/portal/consents/{newer.pk}/"', f'href="/portal/consents/{kap.pk}/"'
    if change == "support_person_named":
        release = ConsentDocumentFactory(kind=ConsentKind.RELEASE_SUPPORT_PERSON, version=1)
        link = f'href="/portal/consents/{release.pk}/"'
        client_profile_update(
            client=amara, actor=amara.user, changes={"support_person_name": "Sam"}
        )
        return link, ""
    raise AssertionError(change)


@pytest.mark.parametrize(
    "change",
    [
        "document",
        "deleted_document",
        "questionnaire",
        "intake",
        "signature",
        "new_consent_version",
        "support_person_named",
    ],
)
def test_home_shows_each_kind_of_change_on_the_next_view(
    now, portal, amara, no_consent_documents, change
):
    letter = ClientDocumentFactory(client=amara, title="Welcome letter")
    kap = ConsentDocumentFactory(kind=ConsentKind.KAP_INFORMED_CONSENT, version=1)
    portal.get("/portal/")
    before = page_of(portal.get("/portal/"))  # from the kept reads

    appears, goes = make_change(change, amara, letter, kap)
    after = page_of(portal.get("/portal/"))

    if appears:
        assert (appears in before, appears in after) == (False, True)
    if goes:
        assert (goes in before, goes in after) == (True, False)


def test_home_drops_an_appointment_once_it_has_started(now, portal, amara):
    session(client=amara, start=NOW + timedelta(minutes=30))
    before = page_of(portal.get("/portal/"))
    with time_machine.travel(NOW + timedelta(minutes=31), tick=False):
        after = page_of(portal.get("/portal/"))

    assert before.count("Add to my calendar") == 1
    assert after.count("Add to my calendar") == 0


def test_home_reads_the_database_every_time_while_the_cache_is_away(settings, now, portal, amara):
    settings.CACHES = {"default": {"BACKEND": "tests.support.caches.SilentlyDownCache"}}
    portal.get("/portal/")

    first = home_queries(portal)
    ClientDocumentFactory(client=amara, title="Referral letter")
    again = home_queries(portal)
    page = page_of(portal.get("/portal/"))

    assert first == again
    assert first >= 14
    assert "Referral letter" in page


def test_lines_added_at_once_to_a_superbill_take_it_off_her_home_until_coded(
    portal, amara, therapist
):
    course = completed_course(client=amara)
    superbill = SuperbillFactory(client=amara, course=course, visible_to_client=True)
    SuperbillLineFactory(superbill=superbill, code="90837")
    shown = page_of(portal.get("/portal/"))

    # Lines from the course come with no code (bulk_create: no signal is sent).
    superbill_prefill_lines(superbill=superbill, actor=therapist)
    waiting = page_of(portal.get("/portal/"))

    link = f'href="/portal/paperwork/superbills/{superbill.pk}/"'
    assert (link in shown, link in waiting) == (True, False)


# --- In Chromium, at a phone's size ------------------------------------------------------


def invitation_path(mailoutbox) -> str:  # type: ignore[no-untyped-def]
    outbox_send_due()
    [email] = [m for m in mailoutbox if m.subject == "Your client portal is ready"]
    match = re.search(r"https?://\S+/accounts/welcome/\S+?/", email.body)
    assert match is not None
    return urlparse(match.group(0)).path


@pytest.mark.browser
def test_the_invitation_on_a_phone_sets_her_password_and_opens_her_portal(
    live_server, phone_page, practice_profile, therapist, mailoutbox
):
    nora = ClientFactory(first_name="Nora", last_name="Quinn", email="nora@example.com")
    client_invite(client=nora, actor=therapist)
    page = phone_page

    page.goto(live_server.url + invitation_path(mailoutbox))
    page.get_by_role("heading", name="Welcome, Nora").wait_for()
    page.get_by_label("Choose a password").fill("evenings by the window")
    page.get_by_label("Type it again").fill("evenings by the window")
    page.get_by_role("button", name="Set my password").click()
    page.get_by_role("heading", name="Your password is set").wait_for()
    assert page.get_by_role("link", name="Set up a sign-in code").is_visible()
    page.get_by_role("link", name="Go to my portal").click()
    page.wait_for_url(live_server.url + "/portal/")

    assert page.get_by_role("heading", level=1).inner_text() == "Hello, Nora"
    assert page.get_by_role("link", name="Start (Your health questions)").is_visible()
    assert sideways_overflow(page) == 0
    nora.refresh_from_db()
    assert nora.user is not None and nora.user.check_password("evenings by the window")


def axe_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [
        f"{page.url}: {rule['id']} ({rule['impact']}) at {node['target']}"
        for rule in found
        for node in rule["nodes"]
    ]


@pytest.mark.browser
def test_the_portal_pages_pass_axe(live_server, phone_page, practice_profile, therapist):
    user = UserFactory(email="nora@example.com", first_name="Nora")
    nora = ClientFactory(user=user, email=user.email, first_name="Nora", time_zone="UTC")
    session(client=nora, start=datetime.now(UTC) + timedelta(days=3))
    ClientDocumentFactory(client=nora, title="Signed privacy notice")
    ScreeningAssignmentFactory(client=nora, instrument="epds")
    page = phone_page

    page.goto(live_server.url + "/accounts/login/?next=/portal/")
    page.locator("input[name=login]").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/portal/")
    found = axe_violations(page)
    page.get_by_role("link", name="Profile").click()
    page.wait_for_url(live_server.url + "/portal/profile/")
    found += axe_violations(page)
    page.get_by_label("Email address").fill("not-an-address")
    page.get_by_role("button", name="Save my details").click()
    page.get_by_role("heading", name="Something needs a second look").wait_for()
    found += axe_violations(page)

    assert found == []
    assert sideways_overflow(page) == 0


@pytest.mark.browser
def test_the_invitation_pages_pass_axe(
    live_server, phone_page, practice_profile, therapist, mailoutbox
):
    nora = ClientFactory(first_name="Nora", email="nora@example.com")
    client_invite(client=nora, actor=therapist)
    path = invitation_path(mailoutbox)
    page = phone_page

    page.goto(live_server.url + path)
    found = axe_violations(page)
    page.get_by_role("button", name="Set my password").click()
    page.get_by_text("This field is required.").first.wait_for()
    found += axe_violations(page)
    page.goto(live_server.url + "/accounts/welcome/not-a-real-token/")
    found += axe_violations(page)
    page.get_by_role("button", name="Send me a new link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    found += axe_violations(page)

    assert found == []


@pytest.mark.parametrize("path", ["/portal/", "/portal/profile/"])
def test_her_pages_speak_of_her_privacy_in_the_footer_not_of_the_newsletter(
    now, portal, amara, path
):
    page = page_of(portal.get(path))

    assert '<h2 id="footer-signup-heading">Your privacy</h2>' in page
    assert "can see what is in your portal" in page
    assert "Sign up to my newsletter" not in page
    assert 'action="/newsletter/' not in page


def test_home_shows_a_new_therapist_name_and_video_room_at_once(
    now, portal, amara, practice_profile
):
    """The kept body names what it shows beyond her rows in its key (portal_cache)."""
    session(client=amara, start=TUESDAY_NOON_IN_NEW_YORK)  # a video call
    before = page_of(portal.get("/portal/"))
    practice_profile.therapist_name = "Dr. Ines Vale"
    practice_profile.video_room_url = "https://video.example.com/new-room"
    practice_profile.save()
    practice_profile_forget()

    after = page_of(portal.get("/portal/"))

    assert "Dr. Ines Vale" not in before and "new-room" not in before
    assert "private space with Dr. Ines Vale" in after
    assert 'href="https://video.example.com/new-room"' in after
