"""The course's emails: her session reminders, the notes before a long session,
"a short form is ready", and the therapist's agenda of the day.

**To her, nothing clinical.** Every course session is "your appointment" in
her emails, whatever its kind: no kind label (the calendar's labels name the
treatment), no questionnaire name, nothing about why. What she needs is
there: when (in her zone), how long, where (the practice's address, the video
link, or the number we call), and how to change it. The practical notes
before a medicine session (nothing to eat for 4 hours, the ride home,
childcare, clothes, what to bring) say what to do, never what for. Tests
render every one of them and check them against ``practice.discretion``.

**Reminders** are the calendar's (``practice.calendar.reminders``): the
24-hour and 1-hour ones of every appointment, and for a medicine session an
extra one two days before (``CALENDAR_REMINDER_EXTRA_OFFSETS["dosing"]``)
that carries the practical notes. A session booked less than two days ahead
gets no such row, so its day-before reminder repeats the notes in short. The
rows of every course kind are sent as one outbox kind, ``reminder.session``,
so no log line or list of outgoing email names the kind of session. At send
time a reminder is voided unless the appointment still stands (the
calendar's check) and its course is still open (ours).

**Stopping.** :func:`course_reminders_stop` is called by ``course_advance``
when a course closes: completion voids every reminder of its sessions still
waiting (the follow-up questionnaires' emails go on); withdrawal voids those
too.

**A short form is ready.** :func:`measures_due_emails_plan` (called by the
measures planner for each course measure it plans) asks for one email per
client and due date, sent on the morning of that date
(``KAP_FORM_READY_TIME``, practice time), and voided at send time when
nothing of a course due that day is open for her any more.

**The therapist's agenda.** :func:`agenda_plan` (beat, every few minutes)
asks for the next morning's agenda: one row per day (its key), due at
``KAP_AGENDA_TIME`` in the practice's zone, to the practice's address. It is
written at send time from the calendar as it is then, and lists each booked
appointment's times, initials and a plain word for its kind, never a name or a
note. A day with no appointments sends nothing (the row is voided): an empty
inbox says the same, and one email fewer is read on a day off. Planning only
the next agenda means a beat that was down across the agenda's time loses
that one day's email; one that is down for minutes loses nothing (the row
was written the day before).

Imported by ``KapSessionsConfig.ready()``, which registers the kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Subquery
from django.urls import reverse
from django.utils import timezone

from practice.calendar.display import appointments_with, clock, short_day
from practice.calendar.reminders import KIND_PREFIX, reminder_email
from practice.calendar.zones import zone_label
from practice.identity import practice_profile
from practice.mail import absolute_url, build_email
from practice.models import Appointment, AppointmentKind, Client, MeetingMode, OutboxMessage
from practice.outbox.kinds import email_kind, object_of
from practice.outbox.models import object_type_of
from practice.outbox.services import outbox_put

from .emails import PORTAL_PATH
from .models import SESSION_KINDS, Course, CourseSession, ScreeningAssignment, ScreeningStatus

SESSION_REMINDER_KIND = "reminder.session"
FORM_READY_KIND = "kap.form_ready"
AGENDA_KIND = "kap.agenda"

# The reminder a medicine session has two days before (the key of
# CALENDAR_REMINDER_EXTRA_OFFSETS["dosing"]): the practical notes.
GETTING_READY = "two_days_before"
DAY_BEFORE = "day_before"

# How the agenda names each kind: plain words a glance at the practice's
# inbox learns nothing from (the calendar's own labels name the treatment).
AGENDA_LABELS: dict[str, str] = {
    AppointmentKind.CONSULTATION: "Free consultation",
    AppointmentKind.PREPARATION: "Preparation",
    AppointmentKind.DOSING: "Long session",
    AppointmentKind.INTEGRATION: "Follow-up",
    AppointmentKind.CHECK_IN: "Check-in call",
}


# --- Words and times -------------------------------------------------------------


def her_when(moment: datetime, zone: ZoneInfo) -> str:
    """'Tuesday, January 5, 2027 at 10:00 AM (Pacific time, Los Angeles)'."""
    local = moment.astimezone(zone)
    return f"{local:%A, %B} {local.day}, {local.year} at {clock(local)} ({zone_label(zone.key)})"


def soon_when(moment: datetime, zone: ZoneInfo, *, now: datetime) -> str:
    """'today at 10:00 AM', 'tomorrow at 10:00 AM', else 'on Thu, Jan 7 at 10:00 AM' (in zone)."""
    local = moment.astimezone(zone)
    days = (local.date() - now.astimezone(zone).date()).days
    if days in (0, 1):
        return f"{'today' if days == 0 else 'tomorrow'} at {clock(local)}"
    return f"on {short_day(local)} at {clock(local)}"


def length_words(minutes: int) -> str:
    """'about 50 minutes', 'about 2 hours', 'about 3 and a half hours'."""
    if minutes < 90:
        return f"about {minutes} minutes"
    hours, rest = divmod(minutes, 60)
    if rest == 0:
        return f"about {hours} hours"
    if rest == 30:
        return f"about {hours} and a half hours"
    return f"about {hours} hours {rest} minutes"


def initials(name: str) -> str:
    """'A. O.' for Amara Okafor: the first letter of each word of the name."""
    letters = (next((c for c in word if c.isalnum()), "") for word in name.split())
    return " ".join(f"{letter.upper()}." for letter in letters if letter)


# --- Her emails ---------------------------------------------------------------------


def _her_context(session: CourseSession, *, now: datetime) -> dict[str, object]:
    appointment = session.appointment
    client = session.course.client
    profile = practice_profile()
    zone = client.zone_or(profile.zone)
    local = appointment.start.astimezone(zone)
    return {
        "first_name": client.display_name,
        "when": her_when(appointment.start, zone),
        "soon_when": soon_when(appointment.start, zone, now=now),
        "day": f"{local:%A, %B} {local.day}",
        "short_day": short_day(local),
        "length": length_words(appointment.duration_minutes),
        "in_person": appointment.mode == MeetingMode.IN_PERSON,
        "video": appointment.mode == MeetingMode.VIDEO,
        "phone_call": appointment.mode == MeetingMode.PHONE,
        "address": profile.postal_address if profile.street_address else "",
        "video_link": appointment.video_link(profile.video_room_url),
        "her_phone": client.phone,
        "long_day": session.is_dosing,
        "portal_url": absolute_url(PORTAL_PATH),
    }


def session_reminder(
    *, session: CourseSession, reminder: str, now: datetime | None = None
) -> EmailMultiAlternatives:
    """To her: a reminder of ``session`` (``reminder``: a key of the reminder offsets).

    Two days before a medicine session, the practical notes (``kap-getting-ready``);
    otherwise "your appointment tomorrow/today" (``kap-reminder``), which on
    the day before a medicine session repeats the notes in short.
    """
    context = _her_context(session, now=now or timezone.now())
    context["day_before"] = reminder == DAY_BEFORE
    name = (
        "kap-getting-ready" if reminder == GETTING_READY and session.is_dosing else "kap-reminder"
    )
    return build_email(name, to=[session.course.client.email], context=context)


def form_ready(*, client: Client) -> EmailMultiAlternatives:
    """To her: a short form is ready in her portal. Not which, nor why."""
    return build_email(
        "kap-form-ready",
        to=[client.email],
        context={"first_name": client.display_name, "portal_url": absolute_url(PORTAL_PATH)},
    )


# --- The therapist's agenda -----------------------------------------------------------


@dataclass(frozen=True)
class AgendaLine:
    """One appointment of the day as the agenda shows it: times, initials, kind, how."""

    times: str
    initials: str
    kind: str
    how: str


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(day, time(0), tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone),
    )


def agenda_lines(day: date) -> list[AgendaLine]:
    """The booked appointments of ``day`` (practice time), blocked time left out.

    A constant number of queries: the appointments, and one per kind for who
    they are with (``practice.calendar.display.appointments_with``).
    """
    zone = practice_profile().zone
    start, end = _day_bounds(day, zone)
    appointments = list(
        Appointment.objects.filter(
            status=Appointment.Status.BOOKED, start__gte=start, start__lt=end
        )
        .exclude(kind=AppointmentKind.BLOCKED)
        .select_related("client")
        .order_by("start", "id")
    )
    people = appointments_with(appointments)
    lines = []
    for appointment in appointments:
        person = people.get(appointment.pk)
        # Only a person's name gives initials (not "No one linked").
        who = initials(person.name) if person is not None and person.record_url else ""
        lines.append(
            AgendaLine(
                times=f"{clock(appointment.start.astimezone(zone))}–"
                f"{clock(appointment.end.astimezone(zone))}",
                initials=who or "–",
                kind=AGENDA_LABELS.get(appointment.kind, "Appointment"),
                how=appointment.get_mode_display().lower(),
            )
        )
    return lines


def agenda(*, day: date, lines: list[AgendaLine]) -> EmailMultiAlternatives:
    """To the therapist: the day's appointments, times, initials and kinds only."""
    return build_email(
        "kap-agenda",
        to=[practice_profile().email],
        context={
            "day": f"{day:%A, %B} {day.day}",
            "short_day": short_day(day),
            "lines": lines,
            "count": len(lines),
            "workspace_url": absolute_url(reverse("admin:index")),
        },
    )


# --- Writes: planning and stopping ------------------------------------------------------


def _local_moment(day: date, setting: str, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.fromisoformat(setting), tzinfo=zone)


def agenda_plan(*, now: datetime | None = None) -> date:
    """Ask the outbox for the next agenda of the day; return the day it is for.

    The next ``KAP_AGENDA_TIME`` in the practice's zone after ``now``: today's
    until that time, tomorrow's after it. One row per day (its key), so beat
    may call this every few minutes. Not durable: one outbox write.
    """
    now = now or timezone.now()
    zone = practice_profile().zone
    day = now.astimezone(zone).date()
    send_at = _local_moment(day, settings.KAP_AGENDA_TIME, zone)
    if send_at <= now:
        day += timedelta(days=1)
        send_at = _local_moment(day, settings.KAP_AGENDA_TIME, zone)
    outbox_put(
        kind=AGENDA_KIND,
        key=f"{AGENDA_KIND}:{day.isoformat()}",
        recipient=practice_profile().email,
        params={"day": day.isoformat()},
        not_before=send_at,
    )
    return day


def measures_due_emails_plan(
    *, assignment: ScreeningAssignment, now: datetime | None = None
) -> bool:
    """Ask for her "a short form is ready" email on the morning ``assignment`` is due.

    For a course's measure (``assignment.course`` set) that is open, when she
    has a portal login; returns whether a row is there for it now. One email
    per client and due date (its key), however many measures are due that
    day: called for each, it writes one row. Due at ``KAP_FORM_READY_TIME``
    (practice time) on ``assignment.due_on``, or at once when that time has
    passed. At send time it is voided when nothing of a course due that day
    is still open for her (answered or withdrawn), or her login is gone.

    Not durable: called inside the measures planner's transaction.
    """
    now = now or timezone.now()
    if assignment.course_id is None or assignment.status != ScreeningStatus.OPEN:
        return False
    client = assignment.client
    if client.user_id is None:
        return False
    morning = _local_moment(
        assignment.due_on, settings.KAP_FORM_READY_TIME, practice_profile().zone
    )
    outbox_put(
        kind=FORM_READY_KIND,
        key=f"{FORM_READY_KIND}:{client.pk}:{assignment.due_on.isoformat()}",
        about=client,
        recipient=client.email,
        params={"due_on": assignment.due_on.isoformat()},
        not_before=max(morning, now),
    )
    return True


def course_reminders_stop(*, course: Course, withdrawn: bool, now: datetime | None = None) -> int:
    """Void the course's emails that must not go out once it closes; return how many.

    Called by ``course_advance`` in its transaction when ``course`` is
    completed or withdrawn. Every waiting reminder of its sessions is voided
    (the appointments themselves are the caller's to cancel or keep); with
    ``withdrawn`` also every "a short form is ready" email waiting for her.
    After completion those go on: the follow-up questionnaires are still due.
    A reminder of a closed course that is planned later (a session moved
    after the close) is voided at send time all the same.
    """
    now = now or timezone.now()
    sessions = CourseSession.objects.filter(course=course).values("appointment_id")
    pending = OutboxMessage.objects.pending()
    stopped = pending.filter(
        object_type=object_type_of(Appointment),
        object_id__in=Subquery(sessions),
        kind__startswith=KIND_PREFIX,
    ).update(status=OutboxMessage.Status.VOIDED, finished_at=now)
    if withdrawn:
        stopped += (
            pending.about(course.client)
            .filter(kind=FORM_READY_KIND)
            .update(status=OutboxMessage.Status.VOIDED, finished_at=now)
        )
    return stopped


# --- Outbox kinds: build from ids at send time, or void --------------------------------


@reminder_email(*SESSION_KINDS, name=SESSION_REMINDER_KIND)
def _session_reminder(*, appointment: Appointment, reminder: str) -> EmailMultiAlternatives | None:
    session = CourseSession.objects.with_appointment().filter(appointment=appointment).first()
    if session is None or not session.course.is_open:
        return None  # not a course's (any more), or the course has closed
    return session_reminder(session=session, reminder=reminder)


@email_kind(FORM_READY_KIND)
def _form_ready(message: OutboxMessage) -> EmailMultiAlternatives | None:
    client = object_of(Client.objects.all(), message)
    if client is None or client.user_id is None:
        return None  # gone, or no portal login to sign in with
    still_open = ScreeningAssignment.objects.filter(
        client=client,
        course__isnull=False,
        status=ScreeningStatus.OPEN,
        due_on=date.fromisoformat(message.params["due_on"]),
    ).exists()
    return form_ready(client=client) if still_open else None


@email_kind(AGENDA_KIND)
def _agenda(message: OutboxMessage) -> EmailMultiAlternatives | None:
    day = date.fromisoformat(message.params["day"])
    if timezone.now().astimezone(practice_profile().zone).date() > day:
        return None  # the day is over: its agenda is of no use now
    lines = agenda_lines(day)
    if not lines:
        return None  # nothing booked: no email (see the module docstring)
    return agenda(day=day, lines=lines)
