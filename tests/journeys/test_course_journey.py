"""Journey 3: a whole course of care, end to end, in Chromium against the app as in production.

gunicorn, a Celery worker and beat, Redis and an SMTP sink (the ``stack``).
The therapist works at her desk (1280 x 900), the client on her phone
(390 x 844); every link the client follows comes out of an email that
arrived at the sink. The course runs over five days of the journey's clock
(``course_steps.JourneyClock``: the app's processes and both browsers read
the moved time), so each session is booked for a time to come and marked
held once it has come, as in the practice:

- Monday: the therapist signs in with her password and authenticator code,
  converts a completed free consultation into a client and invites her to
  the portal; the client sets her password from the invitation, sends her
  intake and signs her consents; the therapist starts her course, and from
  the "a short form is ready" email the client answers the PHQ-9, GAD-7 and
  EPDS; the therapist records the prescriber's clearance and books a
  preparation session;
- Tuesday: the preparation session is held; the medicine session is booked
  (every gate met) and the course moves to dosing;
- Wednesday: her reminder arrives with the notes for the day; its link
  shows the session in her portal;
- Thursday: on the tablet page the therapist records what the client says
  about pregnancy, starts the session with a blood pressure under the
  limit, records what was given and the vitals, and three and a half hours
  later discharges her; the check-in call books itself and the proposed
  integration time is booked from the link;
- Friday: the check-in and the integration session are held, the course is
  completed, and the therapist and the client each download the course
  summary (a PDF with the client's name in it).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import Page, expect

from consultations.models import Consultation
from kap_sessions.instruments import INSTRUMENTS
from kap_sessions.models import (
    ConsentSignature,
    Course,
    CoursePhase,
    CourseSession,
    DosingRecord,
    Intake,
    ScreeningResponse,
    VitalSign,
)
from practice.audit import audit_verify
from practice.discretion import DISCRETION_WORDS
from practice.models import (
    Appointment,
    AppointmentKind,
    AuditEvent,
    Client,
    MeetingMode,
    User,
)
from tests.conftest import IN_CI
from tests.consultations.factories import ConsultationFactory
from tests.factories import PASSWORD, AppointmentFactory, WeeklyHoursFactory
from tests.journeys.course_steps import (
    JourneyClock,
    admin_messages,
    answer_questionnaire,
    client_sign_in,
    download,
    fill_intake_section,
    link_in,
    pdf_text,
    sign_consent,
    staff_sign_in,
    words,
)
from tests.journeys.support import password_the_app_can_check
from tests.kap_sessions.intake_steps import COMPLETE
from tests.support.screenshots import screenshot_on_failure
from tests.support.smtp import SMTPSink, html_part, text_part
from tests.support.stack import Stack

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.slow]

PRACTICE_ZONE = ZoneInfo("America/Los_Angeles")
DESK = {"viewport": {"width": 1280, "height": 900}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
HER_EMAIL = "amara@example.com"
HER_NAME = "Amara Okafor"
HER_PASSWORD = "quiet harbour mornings 42"
EMAIL_WAIT = 60.0


def journey_monday() -> datetime:
    """9:00 AM practice time on the Monday of next week, the first day of the journey (a week
    later when that week ends in another year: the workspace adds the year to such days)."""
    today = datetime.now(PRACTICE_ZONE).date()
    monday = today + timedelta(days=7 - today.weekday())
    if (monday + timedelta(days=4)).year != monday.year:
        monday += timedelta(days=7)
    return datetime(monday.year, monday.month, monday.day, 9, 0, tzinfo=PRACTICE_ZONE)


def on(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PRACTICE_ZONE)


def short_day(moment: datetime) -> str:
    """'Mon, Mar 1', as the workspace writes a day."""
    local = moment.astimezone(PRACTICE_ZONE)
    return f"{local:%a}, {local:%b} {local.day}"


def clock_time(moment: datetime) -> str:
    """'9:00 AM', as the booking form takes a time."""
    local = moment.astimezone(PRACTICE_ZONE)
    return f"{local.hour % 12 or 12}:{local:%M} {local:%p}"


def authenticator_code(secret: str, at: datetime) -> str:
    """Her authenticator app's code at the journey's time (each code works once)."""
    return format_hotp_value(hotp_value(secret, int(at.timestamp()) // 30))


def least_worrying_answers(slug: str, *, mild_items: int) -> list[str | None]:
    """A low, safe set of answers: "Several days" (1) on the first ``mild_items`` items, 0 on
    the rest (so no safety item is raised), and the optional item left out."""
    answers: list[str | None] = []
    for item in INSTRUMENTS[slug].items:
        if not item.required:
            answers.append(None)
            continue
        wanted = 1 if item.number <= mild_items else 0
        answers.append(next(label for label, score in item.options if score == wanted))
    return answers


def she_signs_in(page: Page) -> None:
    """Asked to sign in (her session has ended since), she does, and is in her portal."""
    page.wait_for_url(re.compile(r"/accounts/login/\?next="))
    client_sign_in(page, email=HER_EMAIL, password=HER_PASSWORD)


def treatment_words_in(message: EmailMessage) -> list[str]:
    text = " ".join([str(message["Subject"]), text_part(message), html_part(message)]).lower()
    return [
        word
        for word in DISCRETION_WORDS
        if re.search(r"\bkap\b" if word == "kap" else re.escape(word), text)
    ]


def wait_for_email(sink: SMTPSink, *, to: str, subject: str) -> EmailMessage:
    """The first message to ``to`` with ``subject``, once it has arrived."""
    deadline = time.monotonic() + EMAIL_WAIT
    while time.monotonic() < deadline:
        found = [m for m in sink.to(to) if str(m["Subject"]) == subject]
        if found:
            return found[0]
        time.sleep(0.1)
    got = [str(m["Subject"]) for m in sink.to(to)]
    raise AssertionError(f"no email {subject!r} to {to} within {EMAIL_WAIT:.0f} s; got {got}")


# --- The practice as it stands before the journey ----------------------------------------


@pytest.fixture
def clock(tmp_path, monkeypatch) -> JourneyClock:  # type: ignore[no-untyped-def]
    """The journey's clock, in the environment before the stack's processes start."""
    journey = JourneyClock(tmp_path / "clock", start=journey_monday())
    for name, value in journey.environment().items():
        monkeypatch.setenv(name, value)
    return journey


@pytest.fixture
def pdftotext() -> str:
    """poppler's ``pdftotext``, to read the summary back (CI installs it)."""
    found = shutil.which("pdftotext")
    if found is None:
        if IN_CI:
            pytest.fail("pdftotext (poppler-utils) is required in CI")
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return found


@pytest.fixture
def lena(therapist):  # type: ignore[no-untyped-def]
    """The therapist, her password hashed as the app hashes it (the tests' own hasher, for
    speed, is not one the app's processes know)."""
    password_the_app_can_check(therapist, PASSWORD)
    return therapist


@pytest.fixture
def availability(transactional_db) -> None:  # type: ignore[no-untyped-def]
    """Her working hours: weekdays, 9 AM to 5 PM."""
    for weekday in range(5):
        WeeklyHoursFactory(weekday=weekday)


@pytest.fixture
def consultation(clock) -> Consultation:  # type: ignore[no-untyped-def]
    """Amara's free consultation, held last Thursday and marked completed."""
    start = clock.now() - timedelta(days=4) + timedelta(hours=1)
    appointment = AppointmentFactory(
        start=start, status=Appointment.Status.COMPLETED, mode=MeetingMode.VIDEO
    )
    return ConsultationFactory(
        appointment=appointment,
        first_name="Amara",
        last_name="Okafor",
        email=HER_EMAIL,
        time_zone="America/Los_Angeles",
    )


# --- The journey ------------------------------------------------------------------------------


class Journey:
    """The two people of the journey, their browsers, and what they share."""

    def __init__(
        self, stack: Stack, clock: JourneyClock, therapist: User, desk: Page, phone: Page
    ) -> None:
        self.stack = stack
        self.clock = clock
        self.therapist = therapist
        self.desk = desk
        self.phone = phone
        self.base = stack.url

    @contextmanager
    def step(self, page: Page, name: str) -> Iterator[None]:
        """A step that, failing, leaves the page's picture and HTML and the processes' logs."""
        with screenshot_on_failure(page, f"journey3-{name}"):
            try:
                yield
            except Exception as failure:
                failure.add_note(self.stack.logs())
                raise

    def therapist_signs_in(self, next_path: str) -> None:
        staff_sign_in(
            self.desk,
            self.base,
            email=self.therapist.email,
            password=PASSWORD,
            code=authenticator_code(self.therapist.totp_secret, self.clock.now()),
            next_path=next_path,
        )

    def days_pass(self, until: datetime) -> None:
        self.clock.move_to(until)

    def therapist_opens_the_session(self, label: str) -> None:
        """From the course page, the session of the table named ``label`` ("Check-in #12")."""
        self.desk.locator(".course-page table").get_by_role("link", name=label).click()
        expect(
            self.desk.get_by_role("heading", level=2, name=re.compile(f"^{re.escape(label)}: "))
        ).to_have_text(f"{label}: Booked")

    def therapist_moves_the_course(self, to: str, **fields: str) -> None:
        page = self.desk
        page.get_by_role("link", name="Move the course").click()
        page.get_by_label("Move the course to").select_option(label=to)
        for label, value in fields.items():
            page.get_by_label(label).fill(value)
        page.get_by_role("button", name="Move the course").click()
        assert "The course has moved." in admin_messages(page)
        assert f"Phase: {to}" in words(page.locator(".course-page").inner_text())

    def therapist_books(self, kind: str, at: datetime) -> str:
        """Book a session from the course page; return the workspace's confirmation."""
        page = self.desk
        page.get_by_role("link", name="Book a session").click()
        page.get_by_label("Session").select_option(label=kind)
        page.get_by_label("Day").fill(at.astimezone(PRACTICE_ZONE).date().isoformat())
        page.get_by_label("Time (practice time)").fill(clock_time(at))
        page.get_by_role("button", name="Book the session").click()
        return admin_messages(page)

    def she_does_what_her_portal_asks(self) -> list[str]:
        """Her portal's "next step", one after the other, until nothing is left."""
        page = self.phone
        done: list[str] = []
        for _ in range(12):
            page.goto(f"{self.base}/portal/")
            if page.get_by_role("heading", name="Nothing to do right now").count():
                return done
            page.locator(".portal-next").get_by_role("link").click()
            path = urlparse(page.url).path
            if path == "/portal/intake/":
                self.she_sends_her_intake()
                done.append("intake")
            elif path.startswith("/portal/questionnaires/"):
                slug = path.split("/")[3]
                answer_questionnaire(page, least_worrying_answers(slug, mild_items=3))
                expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
                done.append(slug)
            elif path.startswith("/portal/consents/"):
                title = page.get_by_role("heading", level=1).inner_text()
                sign_consent(page, HER_NAME)
                expect(page.get_by_text("You signed this on")).to_be_visible()
                done.append(title)
            else:
                raise AssertionError(f"an unexpected next step: {page.url}")
        raise AssertionError(f"her portal kept asking after {done}")

    def she_sends_her_intake(self) -> None:
        page = self.phone
        for number, section in enumerate(COMPLETE, start=1):
            assert page.get_by_text(f"Step {number} of {len(COMPLETE)}").is_visible()
            assert page.locator("input[name=section]").input_value() == section
            fill_intake_section(page, COMPLETE[section])
            last = number == len(COMPLETE)
            page.get_by_role(
                "button", name="Send my intake" if last else "Save and continue", exact=True
            ).click()
            if not last:
                page.wait_for_url(f"**/portal/intake/?section={list(COMPLETE)[number]}")
        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")


# The clock and the practice's rows come before the stack: its processes take the clock
# from their environment, and read the practice's profile (and cache it) as they start.
def test_a_course_of_care_from_the_consultation_to_the_summary_both_of_them_download(
    clock, lena, availability, consultation, pdftotext, stack, new_page, tmp_path
):
    """The whole course as the therapist and her client live it, through the pages and the
    emails only: each step shows what it did, neither browser reports a problem, every email
    to her keeps treatment out of it, and at the end the course is completed and every
    record opened is in the audit log."""
    desk, phone = new_page(**DESK), new_page(**PHONE)
    clock.keep_in_step(desk.context)
    clock.keep_in_step(phone.context)
    journey = Journey(stack, clock, lena, desk, phone)
    walk_the_course(
        journey,
        consultation,
        read_pdf=lambda content: pdf_text(content, pdftotext=pdftotext, directory=tmp_path),
    )
    # Nothing broke in either browser (a refused script, an uncaught error).
    assert (desk.problems, phone.problems) == ([], [])


def walk_the_course(
    journey: Journey, consultation: Consultation, *, read_pdf: Callable[[bytes], str]
) -> None:
    desk, phone, base, clock, smtp = (
        journey.desk,
        journey.phone,
        journey.base,
        journey.clock,
        journey.stack.smtp,
    )
    monday = clock.now().astimezone(PRACTICE_ZONE).date()

    # --- Monday ------------------------------------------------------------------------------
    with journey.step(desk, "sign-in"):
        journey.therapist_signs_in("/admin/")
        # Her Today page names the journey's day: the app's processes read its clock.
        today = clock.now().astimezone(PRACTICE_ZONE)
        expect(desk.get_by_role("heading", level=1)).to_have_text(
            re.compile(f"^Today.*{today:%A}, {today:%B} {today.day}")
        )

    with journey.step(desk, "convert"):
        desk.goto(f"{base}/admin/consultations/consultation/?when=past")
        desk.get_by_role("link", name=HER_NAME).click()
        desk.get_by_role("button", name="Convert to client").click()
        client = Client.objects.get(email=HER_EMAIL)
        assert admin_messages(desk) == (
            f"{HER_NAME} is linked to client #{client.pk}. Open her client page to invite "
            "her to the client portal."
        )
        desk.get_by_role("link", name="Open her client page").click()
        invitation = desk.locator(".portal-invitation-state")
        expect(invitation).to_have_text("Not invited to the client portal yet.")

    with journey.step(desk, "invite"):
        desk.get_by_role("button", name="Send portal invitation").click()
        assert admin_messages(desk).startswith(f"Portal invitation sent to {HER_EMAIL}.")
        # Sent "today" on the journey's clock: the app's processes follow it.
        assert words(invitation.inner_text()).startswith(
            f"Invitation sent {short_day(clock.now())}"
        )
        invited = wait_for_email(smtp, to=HER_EMAIL, subject="Your client portal is ready")
        welcome = link_in(invited, "/accounts/welcome/")

    with journey.step(phone, "password"):
        phone.goto(welcome)
        expect(phone.get_by_role("heading", name="Welcome, Amara")).to_be_visible()
        phone.get_by_label("Choose a password").fill(HER_PASSWORD)
        phone.get_by_label("Type it again").fill(HER_PASSWORD)
        phone.get_by_role("button", name="Set my password").click()
        expect(phone.get_by_role("heading", name="Your password is set")).to_be_visible()
        phone.get_by_role("link", name="Go to my portal").click()
        phone.wait_for_url(f"{base}/portal/")
        expect(phone.get_by_role("heading", name="Hello, Amara")).to_be_visible()

    with journey.step(phone, "intake-and-consents"):
        done = journey.she_does_what_her_portal_asks()
        assert done == [
            "intake",
            "Informed consent for ketamine-assisted psychotherapy",
            "Notice of privacy practices",
            "Financial policy",
            "Permission to share information with your prescriber",
        ]

    with journey.step(desk, "start-the-course"):
        desk.goto(f"{base}/admin/kap_sessions/course/")
        desk.get_by_role("link", name="Add course").click()
        with desk.expect_popup() as lookup:
            desk.locator("#lookup_id_client").click()
        lookup.value.get_by_role("link", name=HER_NAME).click()
        expect(desk.locator("#id_client")).to_have_value(str(client.pk))
        desk.get_by_label("Planned dosing sessions").fill("1")
        desk.get_by_label("Driver name").fill("Chidi Okafor")
        desk.get_by_label("Driver phone").fill("(510) 555-0199")
        desk.get_by_role("button", name="Save and continue editing").click()
        course_page = desk.locator(".course-page")
        expect(course_page.get_by_role("heading", name="Phase: Preparation")).to_be_visible()
        course = Course.objects.get(client=client)
        course_path = urlparse(desk.url).path

    with journey.step(phone, "questionnaires"):
        ready = wait_for_email(smtp, to=HER_EMAIL, subject="A short form is ready in your portal")
        phone.goto(link_in(ready, "/portal/"))
        assert journey.she_does_what_her_portal_asks() == ["phq-9", "gad-7", "epds"]

    with journey.step(desk, "clearance"):
        desk.reload()
        gates = words(course_page.locator(".course-gates").first.inner_text())
        assert "Met: Eligible for the course." in gates
        assert "Met: Consent documents signed in their current versions." in gates
        assert "Missing: Medical clearance from the prescriber." in gates
        desk.get_by_role("link", name="Record the medical clearance").click()
        desk.get_by_label("Prescriber").fill("Dr. Maya Chen, MD")
        desk.get_by_label("Cleared on").fill(monday.isoformat())
        desk.get_by_role("button", name="Record the clearance").click()
        assert admin_messages(desk) == "The medical clearance is recorded."

    tuesday = monday + timedelta(days=1)
    with journey.step(desk, "book-preparation"):
        booked = journey.therapist_books("Preparation session", on(tuesday, 9))
        assert booked.startswith("Booked: Preparation session")
        assert booked.endswith(f"on {short_day(on(tuesday, 9))}, 9:00 AM.")

    # --- Tuesday -----------------------------------------------------------------------------
    journey.days_pass(on(tuesday, 10))
    preparation = CourseSession.objects.get(course=course, kind=AppointmentKind.PREPARATION)
    with journey.step(desk, "preparation-held"):
        journey.therapist_signs_in(course_path)
        journey.therapist_opens_the_session(str(preparation))
        desk.get_by_role("button", name="Mark held").click()
        assert admin_messages(desk) == f"{preparation} is marked held."
        desk.get_by_role("link", name=f"Course #{course.pk}").click()
        gates = words(course_page.locator(".course-gates").first.inner_text())
        assert "Missing" not in gates, gates

    thursday = monday + timedelta(days=3)
    with journey.step(desk, "book-medicine"):
        booked = journey.therapist_books("Medicine session", on(thursday, 9))
        assert booked.startswith("Booked: Medicine session 1")
        journey.therapist_moves_the_course("Dosing")

    # --- Wednesday: her reminder, with the notes for the day --------------------------------
    journey.days_pass(on(thursday - timedelta(days=1), 9, 5))
    with journey.step(phone, "reminder"):
        reminder = wait_for_email(
            smtp, to=HER_EMAIL, subject="Your appointment tomorrow at 9:00 AM"
        )
        notes = words(text_part(reminder))
        assert "How long: about 3 and a half hours" in notes
        assert "You cannot drive yourself home afterwards" in notes
        phone.goto(link_in(reminder, "/portal/"))
        she_signs_in(phone)
        appointments = phone.locator("section", has=phone.locator("#appointments-heading"))
        expect(appointments).to_contain_text("210 minutes")

    # --- Thursday: the medicine session on the tablet page -----------------------------------
    journey.days_pass(on(thursday, 9, 5))
    record = DosingRecord.objects.get(session__course=course)
    record_path = f"/admin/kap_sessions/dosingrecord/{record.pk}/change/"
    with journey.step(desk, "medicine-start"):
        journey.therapist_signs_in(course_path)
        course_page.get_by_role("link", name="Session record").click()
        desk.wait_for_url(f"{base}{record_path}")
        expect(desk.get_by_role("heading", name="Amara O.")).to_be_visible()
        start = desk.locator("section#start")
        assert "Missing Pregnancy status attested in the last days" in words(start.inner_text())
        start.get_by_label("Not pregnant").check()
        start.get_by_role("button", name="Record what she says").click()
        assert admin_messages(desk) == "What she said is recorded."
        start.get_by_label("Systolic").fill("118")
        start.get_by_label("Diastolic").fill("76")
        start.get_by_role("button", name="Start the session").click()
        assert admin_messages(desk) == "The session has started."
        expect(start).to_contain_text("blood pressure before the start 118/76 mmHg")

    with journey.step(desk, "medicine-given-and-vitals"):
        vitals = desk.locator("#vitals-form")
        # The tablet fills the row's time with the time now, the journey's.
        before = clock.now().astimezone(PRACTICE_ZONE)
        shown = vitals.get_by_label("Time").input_value()
        after = clock.now().astimezone(PRACTICE_ZONE)
        assert shown in {f"{before:%H:%M}", f"{after:%H:%M}"}
        given = desk.locator("section#medication")
        expect(given.get_by_label("Prescriber")).to_have_value("Dr. Maya Chen, MD")
        expect(given.get_by_label("Medication")).to_have_value("Ketamine")
        given.get_by_label("Dose (mg)").fill("40")
        given.get_by_label("Time given").fill(shown)
        given.get_by_label("Sublingual").check()
        given.get_by_role("button", name="Save what was given").click()
        assert admin_messages(desk) == "What was given is saved."
        vitals.get_by_label("Systolic").fill("122")
        vitals.get_by_label("Diastolic").fill("78")
        vitals.get_by_label("Heart rate").fill("72")
        vitals.get_by_label("SpO2").fill("98")
        vitals.get_by_role("button", name="Add this row").click()
        expect(desk.locator("#vitals-table tbody tr", has_text="Recorded")).to_have_count(1)

    journey.days_pass(on(thursday, 12, 35))
    with journey.step(desk, "medicine-discharge"):
        journey.therapist_signs_in(record_path)
        vitals = desk.locator("#vitals-form")
        vitals.get_by_label("Systolic").fill("116")
        vitals.get_by_label("Heart rate").fill("68")
        vitals.get_by_role("button", name="Add this row").click()
        expect(desk.locator("#vitals-table tbody tr", has_text="Recorded")).to_have_count(2)
        discharge = desk.locator("section#discharge")
        for item in ("Alert and oriented", "Steady on her feet", "Driver present"):
            discharge.get_by_label(item).check()
        discharge.get_by_role("button", name="Discharge and complete the session").click()
        done = admin_messages(desk)
        friday = monday + timedelta(days=4)
        assert done.startswith(
            "She is discharged and the session is completed. "
            f"Check-in booked for {short_day(on(friday, 9))}, 9:00 AM. "
            f"First free time for the integration session: {short_day(on(friday, 9))}, "
        ), done
        desk.locator("ul.messagelist").get_by_role("link", name="Book it").click()
        expect(desk.get_by_label("Session")).to_have_value(AppointmentKind.INTEGRATION)
        desk.get_by_role("button", name="Book the session").click()
        assert admin_messages(desk).startswith("Booked: Integration session")
        journey.therapist_moves_the_course("Integration")

    # --- Friday: the check-in, the integration session, the end of the course ----------------
    integration = CourseSession.objects.select_related("appointment").get(
        course=course, kind=AppointmentKind.INTEGRATION
    )
    check_in = CourseSession.objects.get(course=course, kind=AppointmentKind.CHECK_IN)
    journey.days_pass(integration.appointment.start + timedelta(minutes=55))
    with journey.step(desk, "check-in-and-integration"):
        journey.therapist_signs_in(course_path)
        for session in (check_in, integration):
            journey.therapist_opens_the_session(str(session))
            desk.get_by_role("button", name="Mark held").click()
            assert admin_messages(desk) == f"{session} is marked held."
            desk.get_by_role("link", name=f"Course #{course.pk}").click()

    with journey.step(desk, "complete"):
        journey.therapist_moves_the_course(
            "Completed",
            **{"Closing summary": "Steadier mornings; keeps the walking group and her journal."},
        )
        summary = download(desk, "Course summary (PDF)")
        assert summary.startswith(b"%PDF-")
        assert HER_NAME in read_pdf(summary)

    with journey.step(phone, "her-summary"):
        phone.goto(f"{base}/portal/")
        she_signs_in(phone)
        her_copy = download(phone, "Your course summary")
        assert her_copy.startswith(b"%PDF-")
        assert HER_NAME in read_pdf(her_copy)

    # --- What the database holds at the end ---------------------------------------------------
    course.refresh_from_db()
    client.refresh_from_db()
    assert course.phase == CoursePhase.COMPLETED
    assert Consultation.objects.get(pk=consultation.pk).client_id == client.pk
    assert Intake.objects.get(client=client).submitted_at is not None
    assert sorted(
        ScreeningResponse.objects.filter(client=client).values_list("instrument", flat=True)
    ) == ["epds", "gad-7", "phq-9"]
    assert ConsentSignature.objects.filter(client=client).count() == 4
    assert VitalSign.objects.filter(record=record).count() == 2
    record.refresh_from_db()
    assert (record.medication, record.dose_mg, record.discharged_at is not None) == (
        "Ketamine",
        Decimal("40.0"),
        True,
    )
    statuses = dict(
        CourseSession.objects.filter(course=course).values_list("kind", "appointment__status")
    )
    assert statuses == {
        AppointmentKind.PREPARATION: Appointment.Status.COMPLETED,
        AppointmentKind.DOSING: Appointment.Status.COMPLETED,
        AppointmentKind.CHECK_IN: Appointment.Status.COMPLETED,
        AppointmentKind.INTEGRATION: Appointment.Status.COMPLETED,
    }
    lines = set(
        AuditEvent.objects.filter(client_id=client.pk).values_list(
            "actor_id", "action", "object_type"
        )
    )
    therapist_id, her_id = journey.therapist.pk, client.user_id
    for expected in (
        (therapist_id, AuditEvent.Action.VIEW, "practice.client"),
        (therapist_id, AuditEvent.Action.VIEW, "kap_sessions.course"),
        (therapist_id, AuditEvent.Action.VIEW, "kap_sessions.dosingrecord"),
        (therapist_id, AuditEvent.Action.DOWNLOAD, "kap_sessions.course"),
        (her_id, AuditEvent.Action.DOWNLOAD, "kap_sessions.course"),
    ):
        assert expected in lines, f"no audit line {expected} in {sorted(lines, key=str)}"

    check = audit_verify()
    assert (check.ok, check.checked) == (True, AuditEvent.objects.count()), check.problem

    # Every email she received kept her treatment out of it.
    mailed = smtp.to(HER_EMAIL)
    assert [m["Subject"] for m in mailed if treatment_words_in(m)] == []
