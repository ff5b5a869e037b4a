"""Demo data for KAP: one client in every course phase, and one at each point of preparation.

Courses are written directly rather than through ``course_advance``: a demo
course is born in the phase it shows, with dates weeks in the past, which no
sequence of live moves would give.

The preparation clients show the portal at each step: invited (an
invitation waiting, no login yet), intake half done, questionnaires due,
consents to sign, and eligible. Their invitations and logins go through the
real services (``client_invite``, then ``client_invitation_accept`` with the
demo password), as do the questionnaires assigned. The intake's and the
questionnaires' own write services are durable (the outermost transaction
of a request), and ``seed_demo`` runs each app's seed in a transaction, so
their rows are written here through the models, in the shape those services
give them. Every step looks first and adds only what is missing.

Every course client past preparation has what that phase needs behind it:
a submitted intake (calm answers: eligible) and her signature on each
current consent document she must sign, with its PDF. Signatures go through
the consent service's own write (``consent_signature_keep``, not durable):
the PDF is rendered by ``consent_pdf_render`` and kept as a private file,
as when she signs in the portal.

One preparation client (Hana, questionnaires due) answered her EPDS this
morning with "Hardly ever" to the thought of harming herself: scored by
``instruments.score``, the flag raised by ``safety_flag_raise``, so the
Today page, her client page and the safety flag list show an open flag. The
therapist's alert that wrote is marked sent when the flag was raised: it is
part of the story already told (she would have had it this morning), and
the worker of ``make run`` does not mail the practice's demo address.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TextIO

from django.core.exceptions import ValidationError
from django.utils import timezone

from practice.calendar.services import SlotUnavailable, appointment_book
from practice.demo import CLIENT_PASSWORD, THERAPIST_EMAIL
from practice.identity import practice_profile
from practice.invitations import client_invitation_accept, client_invite
from practice.models import (
    AppointmentKind,
    Client,
    ClientInvitation,
    MeetingMode,
    User,
)
from practice.outbox.models import OutboxMessage

from .instruments import EPDS, INSTRUMENTS, Instrument, score
from .models import (
    CLOSED_PHASES,
    OPTIONAL_CONSENT_KINDS,
    SECTIONS,
    BloodPressure,
    ConsentDocument,
    ConsentSignature,
    Course,
    CoursePhase,
    CourseSession,
    DosingRecord,
    GoodFaithEstimate,
    Intake,
    Pregnancy,
    PregnancyStatus,
    SafetyFlag,
    SafetySource,
    ScreeningAnswer,
    ScreeningAssignment,
    ScreeningResponse,
    ScreeningStatus,
    SubstanceUse,
    Superbill,
)
from .services.consent import consent_pdf_render, consent_signature_keep
from .services.course import course_advance, course_start
from .services.safety import SAFETY_ALERT_KIND, safety_flag_raise
from .services.screening import screening_assign, screening_settings
from .services.sessions import (
    TIME_TAKEN,
    medical_clearance_record,
    pregnancy_attestation_record,
    session_book,
    session_complete,
    session_start,
)

DEMO_PHASES = {
    "amara.okafor@example.com": Course.Phase.PREPARATION,
    "beth.lindqvist@example.com": Course.Phase.DOSING,
    "carmen.reyes@example.com": Course.Phase.INTEGRATION,
    "dana.whitfield@example.com": Course.Phase.COMPLETED,
    "esther.nakamura@example.com": Course.Phase.WITHDRAWN,
}

# (first, last, email, time zone, point of preparation), in the order she goes.
INVITED = "invited"
INTAKE_HALF_DONE = "intake half done"
QUESTIONNAIRES_DUE = "questionnaires due"
CONSENT_TO_SIGN = "consent to sign"
ELIGIBLE = "eligible"
PREPARATION_CLIENTS = [
    ("Fiona", "Adeyemi", "fiona.adeyemi@example.com", "", INVITED),
    ("Grace", "Holloway", "grace.holloway@example.com", "", INTAKE_HALF_DONE),
    ("Hana", "Petrova", "hana.petrova@example.com", "America/Denver", QUESTIONNAIRES_DUE),
    ("Imani", "Brooks", "imani.brooks@example.com", "", CONSENT_TO_SIGN),
    ("Julia", "Moreno", "julia.moreno@example.com", "America/New_York", ELIGIBLE),
]
# How far into the intake each point is: (sections answered, sent).
INTAKE_PROGRESS = {
    INTAKE_HALF_DONE: (len(SECTIONS) // 2, False),
    QUESTIONNAIRES_DUE: (len(SECTIONS), True),
    CONSENT_TO_SIGN: (len(SECTIONS), True),
    ELIGIBLE: (len(SECTIONS), True),
}

# Answers that make her eligible: nothing that counts against it.
INTAKE_ANSWERS: dict[str, Any] = {
    "blood_pressure": BloodPressure.NORMAL,
    "heart_condition": False,
    "liver_condition": False,
    "bladder_condition": False,
    "glaucoma": False,
    "seizures": False,
    "psychosis_history": False,
    "mania_or_bipolar": False,
    "psychiatric_hospitalization": False,
    "current_suicidal_thoughts": False,
    "substance_use": SubstanceUse.NONE,
    "medications": "None",
    "allergies": "None",
    "pregnant": Pregnancy.NO,
    "breastfeeding": True,
    "prior_ketamine": False,
    "prior_psychedelics": False,
    "driver_name": "Sam (partner)",
    "driver_phone": "(510) 555-0177",
    "childcare_plan": "My mother stays with the children for the day.",
}
CLIENT_ANSWERS: dict[str, Any] = {
    "state": "CA",
    "emergency_contact_name": "Sam Rivera",
    "emergency_contact_phone": "(510) 555-0177",
    "emergency_contact_relationship": "partner",
}


def seed(*, stdout: TextIO) -> None:
    _seed_courses(stdout)
    _seed_paperwork(stdout)
    _seed_preparation(stdout)


# The fees the demo therapist enters: (CPT code, fee) by kind of session.
DEMO_FEES: dict[str, tuple[str, Decimal]] = {
    AppointmentKind.PREPARATION: ("90837", Decimal("200.00")),
    AppointmentKind.DOSING: ("90837", Decimal("650.00")),
    AppointmentKind.INTEGRATION: ("90837", Decimal("200.00")),
    AppointmentKind.CHECK_IN: ("90832", Decimal("0.00")),
}


def _seed_paperwork(stdout: TextIO) -> None:
    """Dana's superbill for her completed course, and Amara's Good Faith Estimate.

    Written directly (the therapist would enter the codes and fees by hand,
    and sharing the estimate would email the demo address).
    """
    dana = Client.objects.filter(email__iexact="dana.whitfield@example.com").first()
    course = None if dana is None else dana.courses.filter(phase=CoursePhase.COMPLETED).first()
    if dana is not None and course is not None and not dana.superbills.exists():
        superbill = Superbill.objects.create(
            client=dana, course=course, diagnosis_codes="F53.0", visible_to_client=True
        )
        held = course.sessions.filter(appointment__status="completed").select_related("appointment")
        for session in held.order_by("appointment__start"):
            code, fee = DEMO_FEES[session.kind]
            superbill.lines.create(
                service_date=timezone.localdate(session.appointment.start),
                code=code,
                description=session.get_kind_display(),
                fee=fee,
                appointment=session.appointment,
            )
    amara = Client.objects.filter(email__iexact="amara.okafor@example.com").first()
    if amara is not None and not amara.good_faith_estimates.exists():
        today = timezone.localdate()
        estimate = GoodFaithEstimate.objects.create(
            client=amara,
            course=amara.courses.first(),
            services_from=today,
            services_until=today + timedelta(weeks=12),
            notes="Medication and the prescriber's visits are billed by the prescriber.",
            shared_at=timezone.now(),
        )
        for description, code, quantity, fee in [
            ("Preparation session, 50 min", "90837", 2, Decimal("200.00")),
            ("Supervised medicine session, 3.5 hours", "90837", 3, Decimal("650.00")),
            ("Integration session, 50 min", "90837", 3, Decimal("200.00")),
        ]:
            estimate.lines.create(
                description=description, code=code, quantity=quantity, unit_fee=fee
            )
    stdout.write(
        f"  Paperwork: {Superbill.objects.count()} superbill(s), "
        f"{GoodFaithEstimate.objects.count()} Good Faith Estimate(s)\n"
    )


def _seed_courses(stdout: TextIO) -> None:
    today = timezone.localdate()
    for weeks_ago, (email, phase) in enumerate(DEMO_PHASES.items(), start=1):
        client = Client.objects.filter(email__iexact=email).first()
        if client is None:
            continue
        course = client.courses.order_by("started_on", "pk").first()
        if course is None and email in COURSE_BUILDERS:
            started = _practice_time(today - timedelta(weeks=3 * weeks_ago), 0, 10)
            course = COURSE_BUILDERS[email](client, started)
        if course is None:
            closed = phase in CLOSED_PHASES
            course = Course.objects.create(
                client=client,
                phase=phase,
                started_on=today - timedelta(weeks=3 * weeks_ago),
                closed_on=today - timedelta(days=3) if closed else None,
                closing_summary=(
                    "Course closed; summary shared with the client." if closed else ""
                ),
            )
        if course.phase != Course.Phase.PREPARATION:
            # Past preparation (withdrawn too: Esther left after weeks in her
            # course): her intake was sent in its first days, her consents
            # signed a week later, before any dosing session.
            _seed_intake(
                client, len(SECTIONS), True, sent_at=_practice_time(course.started_on, 2, 20)
            )
            _seed_signatures(client, signed_at=_practice_time(course.started_on, 9, 11))
    stdout.write(f"  Courses: {Course.objects.count()} ({Course.objects.open().count()} open)\n")


# --- Courses built through the services --------------------------------------------
#
# Three courses are lived through the services, each call given the moment it
# happened (``now``), so their history, sessions, reminders, questionnaires and
# audit lines are what the practice would have: Amara in preparation with the
# gates of a medicine session still missing, Beth in dosing with a medicine
# session on the next weekday (every gate met, her attestation taken today),
# Dana completed after one medicine session. Past appointments are marked held
# as they end, which voids their reminders; nothing is mailed for the past.


def _next_weekday(day: date) -> date:
    while day.weekday() > 4:
        day += timedelta(days=1)
    return day


def _demo_book(
    course: Course, kind: str, day: date, hour: int, mode: str, *, now: datetime
) -> CourseSession:
    """Book ``kind`` on the first weekday from ``day`` at ``hour``, or later that day if taken."""
    zone = practice_profile().zone
    day = _next_weekday(day)
    for later in range(8):
        start = datetime.combine(day, time(hour + later), tzinfo=zone)
        try:
            return session_book(course=course, kind=kind, start=start, mode=mode, now=now)
        except ValidationError as exc:
            if TIME_TAKEN not in exc.messages:
                raise
    raise AssertionError(f"no free time for the demo's {kind} on {day}")


def _demo_hold(session: CourseSession) -> None:
    """Mark ``session`` held just after it ended (a medicine session: started, discharged)."""
    appointment = session.appointment
    if session.is_dosing:
        pregnancy_attestation_record(
            client=session.course.client,
            status=PregnancyStatus.NOT_PREGNANT,
            attested_at=appointment.start - timedelta(minutes=20),
            now=appointment.start - timedelta(minutes=20),
        )
        session_start(
            session=session,
            baseline_systolic=118,
            baseline_diastolic=76,
            now=appointment.start - timedelta(minutes=10),
        )
        # The discharge's own service is durable (see the module docstring):
        # written here in the shape it gives.
        DosingRecord.objects.filter(session=session).update(
            alert_and_oriented=True,
            steady_on_feet=True,
            driver_present=True,
            present_until=appointment.end,
            discharged_at=appointment.end,
        )
    done = session_complete(session=session, now=appointment.end + timedelta(minutes=5))
    if done.check_in is not None:
        _demo_hold(done.check_in)


def _past_preparation(client: Client, started: datetime) -> Course:
    """A course started at ``started`` with the client's intake, consents, one preparation
    session held and the clearance recorded: every gate of a medicine session met."""
    course = course_start(client=client, now=started)
    Course.objects.filter(pk=course.pk).update(
        driver_name=INTAKE_ANSWERS["driver_name"], driver_phone=INTAKE_ANSWERS["driver_phone"]
    )
    course.refresh_from_db()
    _seed_intake(client, len(SECTIONS), True, sent_at=started + timedelta(days=2))
    _seed_signatures(client, signed_at=started + timedelta(days=9))
    first_day = started.date() + timedelta(days=7)
    preparation = _demo_book(
        course, AppointmentKind.PREPARATION, first_day, 11, MeetingMode.VIDEO, now=started
    )
    _demo_hold(preparation)
    medical_clearance_record(
        course=course,
        prescriber="Dr. Ana Whitcombe, MD",
        cleared_on=started.date() + timedelta(days=10),
        note="Blood pressure log reviewed; no interactions with her current medicines.",
        now=started + timedelta(days=10),
    )
    return course


def _course_in_preparation(client: Client, started: datetime) -> Course:
    """Amara: started, a video preparation session to come; no clearance, driver or session held."""
    course = course_start(client=client, now=started)
    _demo_book(
        course,
        AppointmentKind.PREPARATION,
        timezone.localdate() + timedelta(days=2),
        14,
        MeetingMode.VIDEO,
        now=timezone.now(),
    )
    return course


def _course_in_dosing(client: Client, started: datetime) -> Course:
    """Beth: prepared, in dosing, her first medicine session on the next weekday at 9:00."""
    course = _past_preparation(client, started)
    now = timezone.now()
    course = course_advance(course=course, to=CoursePhase.DOSING, now=now - timedelta(days=2))
    _demo_book(
        course,
        AppointmentKind.DOSING,
        timezone.localdate() + timedelta(days=1),
        9,
        MeetingMode.IN_PERSON,
        now=now,
    )
    pregnancy_attestation_record(
        client=client, status=PregnancyStatus.NOT_PREGNANT, now=now - timedelta(minutes=5)
    )
    return course


def _course_completed(client: Client, started: datetime) -> Course:
    """Dana: one medicine session planned and held, its check-in and integration, completed."""
    course = _past_preparation(client, started)
    Course.objects.filter(pk=course.pk).update(planned_dosing_sessions=1)
    course.refresh_from_db()
    booked_at = started + timedelta(days=12)
    course = course_advance(course=course, to=CoursePhase.DOSING, now=booked_at)
    dosing = _demo_book(
        course,
        AppointmentKind.DOSING,
        started.date() + timedelta(days=14),
        9,
        MeetingMode.IN_PERSON,
        now=booked_at,
    )
    _demo_hold(dosing)
    held_at = dosing.appointment.end + timedelta(hours=1)
    course = course_advance(course=course, to=CoursePhase.INTEGRATION, now=held_at)
    integration = _demo_book(
        course,
        AppointmentKind.INTEGRATION,
        dosing.appointment.start.date() + timedelta(days=2),
        13,
        MeetingMode.VIDEO,
        now=held_at,
    )
    _demo_hold(integration)
    return course_advance(
        course=course,
        to=CoursePhase.COMPLETED,
        closing_summary="Course closed; summary shared with the client.",
        now=integration.appointment.end + timedelta(days=3),
    )


COURSE_BUILDERS = {
    "amara.okafor@example.com": _course_in_preparation,
    "beth.lindqvist@example.com": _course_in_dosing,
    "dana.whitfield@example.com": _course_completed,
}


def _practice_time(day: date, days_after: int, hour: int) -> datetime:
    """``hour`` o'clock, practice time, ``days_after`` days after ``day``."""
    zone = practice_profile().zone
    return datetime.combine(day + timedelta(days=days_after), time(hour), tzinfo=zone)


# --- Preparation --------------------------------------------------------------------


def _seed_preparation(stdout: TextIO) -> None:
    therapist = User.objects.filter(email__iexact=THERAPIST_EMAIL).first()
    for first, last, email, zone, point in PREPARATION_CLIENTS:
        client, _ = Client.objects.get_or_create(
            email=email,
            defaults={
                "first_name": first,
                "last_name": last,
                "phone": "(510) 555-0190",
                "time_zone": zone,
            },
        )
        if not ClientInvitation.objects.filter(client=client).exists():
            client_invite(client=client, actor=therapist)
        if point == INVITED:
            continue
        if client.user_id is None:
            waiting = ClientInvitation.objects.usable(timezone.now()).filter(client=client).first()
            invitation = waiting or client_invite(client=client, actor=therapist)
            client_invitation_accept(invitation=invitation, password=CLIENT_PASSWORD)
            client.refresh_from_db()
        _seed_intake(client, *INTAKE_PROGRESS[point])
        if point == QUESTIONNAIRES_DUE:
            _seed_questionnaires(client, therapist, answered=False)
            _seed_safety_flag(client)
        if point in (CONSENT_TO_SIGN, ELIGIBLE):
            _seed_questionnaires(client, therapist, answered=True)
            _seed_appointment(client, days_ahead=8 if point == ELIGIBLE else 5)
        if point == ELIGIBLE:
            _seed_signatures(client, signed_at=timezone.now() - timedelta(days=2))
    open_flags = SafetyFlag.objects.open().count()
    stdout.write(f"  Safety flags open: {open_flags}\n")
    for _first, _last, email, _zone, point in PREPARATION_CLIENTS:
        login = "invitation only, no login yet" if point == INVITED else CLIENT_PASSWORD
        stdout.write(f"  Client portal ({point}): {email} / {login}\n")


def _seed_intake(
    client: Client, sections_done: int, sent: bool, *, sent_at: datetime | None = None
) -> None:
    if Intake.objects.filter(client=client).exists():
        return
    intake = Intake(client=client)
    if sent_at is not None:
        intake.started_at = sent_at - timedelta(minutes=40)
    changed_client = False
    for section in SECTIONS[:sections_done]:
        for name in section.fields:
            if name in INTAKE_ANSWERS:
                setattr(intake, name, INTAKE_ANSWERS[name])
        for name in section.client_fields:
            if name in CLIENT_ANSWERS and not getattr(client, name):
                setattr(client, name, CLIENT_ANSWERS[name])
                changed_client = True
    if sent:
        intake.submitted_at = sent_at or timezone.now()
    else:
        intake.current_section = SECTIONS[sections_done].name
    intake.save()
    if changed_client:
        client.save()


def _quiet_answers(instrument: Instrument) -> dict[int, int]:
    """Mild answers that raise no safety flag: the lowest-scoring option, a 1 on the first two."""
    answers = {}
    for item in instrument.items:
        scores = [points for _, points in item.options]
        position = scores.index(min(scores))
        if item.number <= 2 and item.number != instrument.safety_item and 1 in scores:
            position = scores.index(1)
        answers[item.number] = position
    return answers


def _seed_questionnaires(client: Client, therapist: User | None, *, answered: bool) -> None:
    if ScreeningAssignment.objects.filter(client=client).exists():
        return
    today = timezone.localdate()
    for offset, slug in enumerate(INSTRUMENTS):
        due_on = today + timedelta(days=3 + offset) if not answered else today - timedelta(days=4)
        assignment = screening_assign(
            client=client, instrument=slug, due_on=due_on, actor=therapist
        )
        if not answered:
            continue
        answers = _quiet_answers(assignment.definition)
        _record_response(assignment, answers, completed_at=timezone.now() - timedelta(days=5))


def _record_response(
    assignment: ScreeningAssignment, answers: dict[int, int], *, completed_at: datetime
) -> ScreeningResponse:
    """Her answers scored and stored as ``screening_submit`` does (it is durable; see above)."""
    instrument = assignment.definition
    cutoffs = screening_settings().epds_cutoffs if instrument is EPDS else None
    result = score(instrument, answers, epds_cutoffs=cutoffs)
    response = ScreeningResponse.objects.create(
        assignment=assignment,
        client=assignment.client,
        instrument=instrument.slug,
        version=result.version,
        total=result.total,
        band=result.band,
        safety=result.safety,
        completed_at=completed_at,
    )
    ScreeningAnswer.objects.bulk_create(
        ScreeningAnswer(
            response=response,
            item_number=item.number,
            position=answers[item.number],
            score=item.score_of(answers[item.number]),
        )
        for item in instrument.items
    )
    assignment.move_to(ScreeningStatus.COMPLETED)
    assignment.save(update_fields=["status"])
    return response


# Her EPDS this morning, by the option she chose: low, tired, worried, and
# "Hardly ever" to item 10 (the thought of harming herself).
FLAGGED_EPDS = {
    1: "Not quite so much now",
    2: "Rather less than I used to",
    3: "Yes, some of the time",
    4: "Yes, sometimes",
    5: "No, not much",
    6: "Yes, sometimes I haven't been coping as well as usual",
    7: "Not very often",
    8: "Yes, quite often",
    9: "Only occasionally",
    10: "Hardly ever",
}


def _seed_safety_flag(client: Client) -> None:
    """Her open EPDS answered with item 10 "Hardly ever": an open flag, its alert already sent.

    Once: an EPDS she has answered (or that was withdrawn) is left as it is,
    so a flag the therapist has acknowledged is not raised again.
    """
    assignment = (
        ScreeningAssignment.objects.filter(
            client=client, instrument=EPDS.slug, status=ScreeningStatus.OPEN
        )
        .select_related("client")
        .first()
    )
    if assignment is None:
        return
    answers = {
        item.number: [label for label, _ in item.options].index(FLAGGED_EPDS[item.number])
        for item in EPDS.items
    }
    answered_at = timezone.now() - timedelta(hours=3)
    response = _record_response(assignment, answers, completed_at=answered_at)
    if not response.safety:
        raise AssertionError("the demo EPDS must trip the safety item")
    flag = safety_flag_raise(client=client, source=SafetySource.EPDS, screening_response=response)
    SafetyFlag.objects.filter(pk=flag.pk).update(raised_at=answered_at)
    # The alert went out this morning, when she answered (see the module docstring).
    alert = (
        OutboxMessage.objects.about(flag)
        .filter(kind=SAFETY_ALERT_KIND, status=OutboxMessage.Status.PENDING)
        .first()
    )
    if alert is not None:
        alert.move_to(OutboxMessage.Status.SENT)
        alert.created_at = alert.not_before = answered_at
        alert.finished_at = answered_at + timedelta(minutes=1)
        alert.save(update_fields=["status", "created_at", "not_before", "finished_at"])


def _seed_appointment(client: Client, *, days_ahead: int) -> None:
    """A video preparation session at 11 AM practice time, on the first free weekday."""
    if client.appointments.exists():
        return
    zone = practice_profile().zone
    day = timezone.localdate() + timedelta(days=days_ahead)
    for _ in range(14):
        day += timedelta(days=1)
        if day.weekday() > 4:
            continue
        start = datetime.combine(day, time(11), tzinfo=zone).astimezone(UTC)
        try:
            appointment_book(
                kind=AppointmentKind.PREPARATION,
                start=start,
                client_id=client.pk,
                mode=MeetingMode.VIDEO,
                offered_only=False,
            )
        except SlotUnavailable:
            continue
        return


def _seed_signatures(client: Client, *, signed_at: datetime) -> None:
    """Her signature, with its PDF, on every current document she must sign.

    Kept by the consent service's own write, as the portal keeps hers. A
    signature an earlier seed wrote without its PDF gets it now.
    """
    for signature in ConsentSignature.objects.filter(
        client=client, pdf__isnull=True
    ).select_related("document", "client__user"):
        consent_signature_keep(signature=signature, pdf=consent_pdf_render(signature=signature))
    signed = set(ConsentSignature.objects.filter(client=client).values_list("document", flat=True))
    required = [
        document
        for document in ConsentDocument.objects.current()
        if document.kind not in OPTIONAL_CONSENT_KINDS and document.pk not in signed
    ]
    for minutes, document in enumerate(required):
        # She reads one, signs it, and goes on to the next.
        signature = ConsentSignature(
            client=client,
            document=document,
            typed_name=client.full_name,
            signed_at=signed_at + timedelta(minutes=4 * minutes),
            user_agent="Demo data",
            text_sha256=document.text_sha256(),
        )
        consent_signature_keep(signature=signature, pdf=consent_pdf_render(signature=signature))
