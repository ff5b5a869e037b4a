from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction

from kap_sessions.models import CLOSED_PHASES, Course
from kap_sessions.services import course_advance, course_start
from practice.models import AppointmentKind, AuditEvent, Client
from practice.transitions import InvalidTransition, transitions_complete
from tests.factories import ClientFactory, CourseFactory
from tests.kap_sessions.factories_course import held_session

pytestmark = pytest.mark.django_db

# 19:00 on 9 March in Los Angeles, already 10 March in UTC.
EVENING = datetime(2027, 3, 10, 3, 0, tzinfo=UTC)
# The moves that bring a new course into each open phase.
ROUTE_TO = {"preparation": [], "dosing": ["dosing"], "integration": ["dosing", "integration"]}


def needs_postgres(why: str) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(f"{why} needs PostgreSQL")


def advance(course: Course, phase: str, **kwargs) -> Course:
    """Move ``course`` to ``phase``, holding this round's medicine session before integration."""
    if phase == "integration":
        held_session(course, kind=AppointmentKind.DOSING)
    return course_advance(course=course, to=phase, **kwargs)


# --- The phases and their map -------------------------------------------------


def test_a_course_moves_through_its_phases_in_order():
    course = course_start(client=ClientFactory(), planned_dosing_sessions=1)

    for phase in ["dosing", "integration", "completed"]:
        course = advance(course, phase, closing_summary="Done well.")

    assert course.phase == "completed"
    assert course.closed_on is not None
    assert course.closing_summary == "Done well."


def test_dosing_and_integration_alternate_until_the_course_completes():
    course = course_start(client=ClientFactory(), planned_dosing_sessions=2)

    phases = ["dosing", "integration", "dosing", "integration", "completed"]
    for phase in phases:
        course = advance(course, phase)

    course.refresh_from_db()
    assert course.phase == "completed"


def test_a_course_cannot_skip_or_go_back():
    course = course_start(client=ClientFactory())

    with pytest.raises(ValidationError) as skip:
        course_advance(course=course, to="completed")
    course = course_advance(course=course, to="dosing")
    with pytest.raises(ValidationError):
        course_advance(course=course, to="preparation")

    assert skip.value.messages == ["A course in preparation cannot move to completed."]


@pytest.mark.parametrize("phase", ["dosing", "integration"])
def test_a_course_never_goes_back_to_preparation(phase):
    course = course_start(client=ClientFactory())
    for step in ROUTE_TO[phase]:
        course = advance(course, step)

    with pytest.raises(InvalidTransition) as refused:
        course_advance(course=course, to="preparation")

    course.refresh_from_db()
    assert course.phase == phase
    assert refused.value.messages == [f"A course in {phase} cannot move to preparation."]


@pytest.mark.parametrize("phase", ["preparation", "dosing", "integration"])
def test_a_course_can_be_withdrawn_from_any_open_phase(phase):
    course = course_start(client=ClientFactory())
    for step in ROUTE_TO[phase]:
        course = advance(course, step)

    course = course_advance(course=course, to="withdrawn")

    assert course.phase == "withdrawn"
    assert course.closed_on is not None


@pytest.mark.parametrize("closed", ["completed", "withdrawn"])
@pytest.mark.parametrize("to", Course.Phase.values)
def test_a_closed_course_moves_nowhere(closed, to):
    course = CourseFactory(phase=closed, closed_on=date(2027, 3, 1))

    with pytest.raises(InvalidTransition):
        course_advance(course=course, to=to)

    course.refresh_from_db()
    assert course.phase == closed


def test_every_phase_has_a_place_in_the_map():
    assert transitions_complete(Course) == []
    targets = {to for moves in Course.TRANSITIONS.values() for to in moves}
    assert targets <= set(Course.Phase.values)
    assert [phase for phase, moves in Course.TRANSITIONS.items() if not moves] == list(
        CLOSED_PHASES
    )


def test_saving_a_jumped_phase_directly_is_refused():
    course = Course.objects.get(pk=CourseFactory().pk)

    course.phase = Course.Phase.COMPLETED
    course.closed_on = date(2027, 3, 9)
    with pytest.raises(InvalidTransition):
        course.save()

    course.refresh_from_db()
    assert (course.phase, course.closed_on) == ("preparation", None)


# --- What a move stamps --------------------------------------------------------


def test_a_move_stamps_the_time_and_leaves_the_course_open(settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    course = course_start(client=ClientFactory())

    with time_machine.travel(EVENING, tick=False):
        course = course_advance(course=course, to="dosing", closing_summary="Not yet.")

    assert course.phase_changed_at == EVENING
    assert (course.closed_on, course.closing_summary) == (None, "")
    assert course.is_open is True


def test_closing_stamps_the_practice_day_and_keeps_the_summary(settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    course = course_start(client=ClientFactory())

    with time_machine.travel(EVENING, tick=False):
        course = course_advance(course=course, to="withdrawn", closing_summary="Moved away.")

    course.refresh_from_db()
    assert course.phase_changed_at == EVENING
    assert course.closed_on == date(2027, 3, 9)
    assert course.closing_summary == "Moved away."
    assert course.is_open is False
    assert list(Course.objects.open()) == []


def test_the_database_ties_the_closing_date_to_the_phase():
    client = ClientFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Course.objects.create(client=client, phase=Course.Phase.COMPLETED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Course.objects.create(client=client, closed_on=date(2027, 3, 9))


# --- One open course per client ------------------------------------------------


def test_a_client_has_one_open_course_at_a_time():
    client = ClientFactory()
    course_start(client=client)

    with pytest.raises(ValidationError) as refused:
        course_start(client=client)
    with pytest.raises(IntegrityError), transaction.atomic():
        Course.objects.create(client=client)

    assert refused.value.messages == ["This client already has a course under way."]
    assert Course.objects.filter(client=client).count() == 1


def test_a_new_course_may_start_after_the_last_one_closed():
    client = ClientFactory()
    first = CourseFactory(client=client)
    course_advance(course=first, to="withdrawn")

    second = course_start(client=client)

    assert second.phase == "preparation"


def test_a_start_refused_for_another_reason_is_not_reworded():
    # Checked at once rather than at commit, a missing client is an integrity
    # error of its own, which must not read as "already under way".
    needs_postgres("checking a foreign key at once")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    ghost = Client(pk=10**9)

    with pytest.raises(IntegrityError, match="foreign key"):
        course_start(client=ghost)


@pytest.mark.django_db(transaction=True)
def test_two_starts_racing_for_one_client_leave_one_course_and_a_friendly_refusal():
    needs_postgres("a race between two connections")
    client = ClientFactory()
    racers = 8
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def start() -> None:
        try:
            barrier.wait()
            course_start(client=client)
            result = "started"
        except ValidationError as exc:
            result = exc.messages[0]
        except Exception as exc:  # an IntegrityError here is the failure to report
            result = repr(exc)
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=start) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["This client already has a course under way."] * (racers - 1) + [
        "started"
    ]
    assert Course.objects.filter(client=client).count() == 1


# --- The audit log ---------------------------------------------------------------


def test_a_move_appends_an_audit_line_naming_who_made_it(therapist):
    course = course_start(client=ClientFactory())

    course_advance(course=course, to="dosing", actor=therapist)

    event = AuditEvent.objects.get(action="change")
    assert (event.actor_id, event.action, event.client_id) == (
        therapist.pk,
        "change",
        course.client.pk,
    )
    assert (event.object_type, event.object_id) == ("kap_sessions.course", str(course.pk))
    assert event.object_repr == f"course #{course.pk}"


def test_a_refused_move_leaves_no_audit_line(therapist):
    course = course_start(client=ClientFactory())

    with pytest.raises(InvalidTransition):
        course_advance(course=course, to="completed", actor=therapist)

    assert list(AuditEvent.objects.filter(action="change")) == []


# --- The admin -------------------------------------------------------------------


def test_the_admin_moves_the_selected_courses_and_names_the_ones_it_cannot(admin_client_mfa):
    ready = CourseFactory()
    stuck = CourseFactory()
    course_advance(course=stuck, to="withdrawn")

    response = admin_client_mfa.post(
        "/admin/kap_sessions/course/",
        {"action": "move_to_dosing", "_selected_action": [ready.pk, stuck.pk]},
        follow=True,
    )

    ready.refresh_from_db()
    stuck.refresh_from_db()
    assert (ready.phase, stuck.phase) == ("dosing", "withdrawn")
    notes = [str(m) for m in response.context["messages"]]
    assert notes == [
        f"{stuck}: A course in withdrawn cannot move to dosing.",
        "1 course(s) moved.",
    ]


def test_an_admin_move_commits_per_row_and_is_audited_under_her_name(
    transactional_db, admin_client_mfa, therapist
):
    # Transactional: the admin action runs outside any transaction, so each
    # durable course_advance commits on its own.
    first, second = CourseFactory(), CourseFactory()

    admin_client_mfa.post(
        "/admin/kap_sessions/course/",
        {"action": "move_to_dosing", "_selected_action": [first.pk, second.pk]},
    )

    assert sorted(Course.objects.values_list("phase", flat=True)) == ["dosing", "dosing"]
    events = AuditEvent.objects.filter(action="change")
    assert {event.object_id: event.actor_id for event in events} == {
        str(first.pk): therapist.pk,
        str(second.pk): therapist.pk,
    }
    assert events.count() == 2
