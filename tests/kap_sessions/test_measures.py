"""The course's measures: planned by phase and before each medicine session, once per occasion;
the follow-ups continue after completion, withdrawal withdraws what is open."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, connections, transaction

from kap_sessions.course_emails import FORM_READY_KIND
from kap_sessions.models import ScreeningAssignment
from kap_sessions.services import course_start, measures_plan_before_dosing, measures_plan_for_phase
from kap_sessions.services.measures import occasion_label
from practice.models import AuditEvent, OutboxMessage
from tests.factories import ClientFactory, CourseFactory, UserFactory
from tests.kap_sessions.factories import ScreeningAssignmentFactory
from tests.kap_sessions.factories_notes import CourseSessionFactory, SessionAppointmentFactory

pytestmark = pytest.mark.django_db

# 19:00 on 9 March in Los Angeles (the practice's zone), already 10 March in UTC.
EVENING = datetime(2027, 3, 10, 3, 0, tzinfo=UTC)
TODAY = date(2027, 3, 9)
INSTRUMENTS = ["phq-9", "gad-7", "epds"]


@pytest.fixture(autouse=True)
def _profile(practice_profile):  # type: ignore[no-untyped-def]
    return practice_profile


def with_login(**fields):  # type: ignore[no-untyped-def]
    user = UserFactory()
    return ClientFactory(user=user, email=user.email, **fields)


def measures(course) -> list[tuple[str, str, date, str]]:  # type: ignore[no-untyped-def]
    return [
        (a.occasion, a.instrument, a.due_on, a.status)
        for a in ScreeningAssignment.objects.filter(course=course).order_by(
            "due_on", "occasion", "id"
        )
    ]


def form_ready_rows(client) -> list[tuple[str, datetime]]:  # type: ignore[no-untyped-def]
    return [
        (row.params["due_on"], row.not_before)
        for row in OutboxMessage.objects.filter(kind=FORM_READY_KIND)
        .about(client)
        .order_by("not_before")
    ]


def close(course, phase: str) -> None:  # type: ignore[no-untyped-def]
    """Close ``course`` as ``course_advance`` would: the row only (its side effects are CORE's)."""
    type(course).objects.filter(pk=course.pk).update(phase=phase, closed_on=TODAY)
    course.refresh_from_db()


# --- Baseline ------------------------------------------------------------------


def test_a_course_in_preparation_plans_the_baseline_due_that_day():
    course = CourseFactory(client=with_login())

    planned = measures_plan_for_phase(course=course, now=EVENING)

    assert planned == 3
    assert measures(course) == [
        ("baseline", slug, TODAY, "open") for slug in ["phq-9", "gad-7", "epds"]
    ]
    assignment = ScreeningAssignment.objects.filter(course=course).first()
    assert (assignment.client, assignment.assigned_by, assignment.assigned_at) == (
        course.client,
        None,
        EVENING,
    )


def test_each_planned_measure_has_an_audit_line_naming_her():
    course = CourseFactory(client=with_login())

    measures_plan_for_phase(course=course, now=EVENING)

    ids = {
        str(pk)
        for pk in ScreeningAssignment.objects.filter(course=course).values_list("pk", flat=True)
    }
    lines = AuditEvent.objects.filter(object_type="kap_sessions.screeningassignment")
    assert {line.object_id for line in lines} == ids
    assert {(line.action, line.client_id, line.actor_id) for line in lines} == {
        ("create", course.client_id, None)
    }


def test_the_baseline_asks_for_one_email_that_day(settings):
    course = CourseFactory(client=with_login())

    measures_plan_for_phase(course=course, now=EVENING)

    # Its morning (8:00) has passed: at once.
    assert form_ready_rows(course.client) == [("2027-03-09", EVENING)]


def test_a_client_without_a_portal_login_gets_no_email():
    course = CourseFactory(client=ClientFactory())

    assert measures_plan_for_phase(course=course, now=EVENING) == 3

    assert not OutboxMessage.objects.filter(kind=FORM_READY_KIND).exists()


def test_planning_twice_plans_nothing_new():
    course = CourseFactory(client=with_login())
    measures_plan_for_phase(course=course, now=EVENING)

    again = measures_plan_for_phase(course=course, now=EVENING + timedelta(days=1))

    assert again == 0
    assert ScreeningAssignment.objects.filter(course=course).count() == 3
    assert AuditEvent.objects.filter(object_type="kap_sessions.screeningassignment").count() == 3
    assert len(form_ready_rows(course.client)) == 1


def test_course_start_plans_the_baseline():
    client = with_login()

    course = course_start(client=client, now=EVENING)

    assert measures(course) == [
        ("baseline", slug, TODAY, "open") for slug in ["phq-9", "gad-7", "epds"]
    ]


@pytest.mark.parametrize("phase", ["dosing", "integration"])
def test_the_middle_phases_plan_nothing_by_themselves(phase):
    course = CourseFactory(phase=phase)

    assert measures_plan_for_phase(course=course, now=EVENING) == 0
    assert measures(course) == []


# --- Before each medicine session ------------------------------------------------


def dosing_session(course, *, number: int, start: datetime):  # type: ignore[no-untyped-def]
    appointment = SessionAppointmentFactory(
        kind="dosing",
        client=course.client,
        start=start,
        end=start + timedelta(minutes=210),
        status="booked",
    )
    return CourseSessionFactory(
        course=course, kind="dosing", dosing_number=number, appointment=appointment
    )


def test_a_medicine_session_plans_its_measures_due_the_day_before():
    course = CourseFactory(client=with_login(), phase="integration")
    session = dosing_session(course, number=2, start=datetime(2027, 3, 16, 17, tzinfo=UTC))

    planned = measures_plan_before_dosing(session=session, now=EVENING)

    assert planned == 3
    assert measures(course) == [
        ("before_dosing_2", slug, date(2027, 3, 15), "open") for slug in INSTRUMENTS
    ]
    # On the morning they are due, 8:00 in Los Angeles.
    assert form_ready_rows(course.client) == [("2027-03-15", datetime(2027, 3, 15, 15, tzinfo=UTC))]


def test_a_medicine_session_tomorrow_makes_them_due_today():
    course = CourseFactory(phase="preparation")
    # 9:00 on 10 March in Los Angeles: the day after EVENING's date.
    session = dosing_session(course, number=1, start=datetime(2027, 3, 10, 17, tzinfo=UTC))

    measures_plan_before_dosing(session=session, now=EVENING)

    assert {due for _, _, due, _ in measures(course)} == {TODAY}


def test_the_same_medicine_session_plans_once():
    course = CourseFactory(phase="preparation")
    session = dosing_session(course, number=1, start=datetime(2027, 3, 16, 17, tzinfo=UTC))
    measures_plan_before_dosing(session=session, now=EVENING)

    assert measures_plan_before_dosing(session=session, now=EVENING) == 0
    assert ScreeningAssignment.objects.filter(course=course).count() == 3


def test_each_medicine_session_has_its_own_occasion():
    course = CourseFactory(phase="integration")
    first = dosing_session(course, number=1, start=datetime(2027, 3, 16, 17, tzinfo=UTC))
    second = dosing_session(course, number=2, start=datetime(2027, 3, 30, 17, tzinfo=UTC))

    counts = [measures_plan_before_dosing(session=s, now=EVENING) for s in (first, second)]

    assert counts == [3, 3]
    assert sorted({occasion for occasion, *_ in measures(course)}) == [
        "before_dosing_1",
        "before_dosing_2",
    ]


def test_a_session_that_is_not_a_medicine_session_plans_nothing():
    session = CourseSessionFactory(kind="integration")

    assert measures_plan_before_dosing(session=session, now=EVENING) == 0
    assert not ScreeningAssignment.objects.exists()


def test_a_closed_course_plans_nothing_before_a_session():
    course = CourseFactory(phase="withdrawn", closed_on=TODAY)
    session = dosing_session(course, number=1, start=datetime(2027, 3, 16, 17, tzinfo=UTC))

    assert measures_plan_before_dosing(session=session, now=EVENING) == 0
    assert measures(course) == []


# --- Completion and the follow-ups ---------------------------------------------


def test_completion_plans_the_last_measures_and_both_follow_ups():
    course = CourseFactory(client=with_login(), phase="completed", closed_on=TODAY)

    planned = measures_plan_for_phase(course=course, now=EVENING)

    assert planned == 9
    assert measures(course) == [
        *[("after_integration", slug, TODAY, "open") for slug in INSTRUMENTS],
        *[("one_month", slug, date(2027, 4, 8), "open") for slug in INSTRUMENTS],
        *[("three_months", slug, date(2027, 6, 7), "open") for slug in INSTRUMENTS],
    ]


def test_a_follow_up_waits_out_of_her_list_until_three_days_before_it_is_due():
    course = CourseFactory(client=with_login(), phase="completed", closed_on=TODAY)
    measures_plan_for_phase(course=course, now=EVENING)

    def her_list(on: date) -> list[str]:
        return [
            f"{a.occasion} {a.instrument}"
            for a in ScreeningAssignment.objects.open_for(course.client, on=on)
        ]

    assert her_list(TODAY) == [f"after_integration {slug}" for slug in INSTRUMENTS]
    assert her_list(date(2027, 4, 4)) == her_list(TODAY)
    assert her_list(date(2027, 4, 5)) == [
        *her_list(TODAY),
        *[f"one_month {slug}" for slug in INSTRUMENTS],
    ]


def test_completion_asks_for_an_email_now_and_on_each_follow_up_morning():
    course = CourseFactory(client=with_login(), phase="completed", closed_on=TODAY)

    measures_plan_for_phase(course=course, now=EVENING)

    assert form_ready_rows(course.client) == [
        ("2027-03-09", EVENING),
        ("2027-04-08", datetime(2027, 4, 8, 15, tzinfo=UTC)),  # 8:00 PDT
        ("2027-06-07", datetime(2027, 6, 7, 15, tzinfo=UTC)),
    ]


def test_completion_leaves_the_earlier_measures_as_they_are():
    course = CourseFactory(client=with_login())
    measures_plan_for_phase(course=course, now=EVENING)
    ScreeningAssignment.objects.filter(course=course, instrument="phq-9").update(status="completed")
    close(course, "completed")

    measures_plan_for_phase(course=course, now=EVENING)

    baseline = {(i, s) for o, i, _, s in measures(course) if o == "baseline"}
    assert baseline == {("phq-9", "completed"), ("gad-7", "open"), ("epds", "open")}


def test_completion_twice_plans_nothing_new():
    course = CourseFactory(phase="completed", closed_on=TODAY)
    measures_plan_for_phase(course=course, now=EVENING)

    assert measures_plan_for_phase(course=course, now=EVENING + timedelta(days=2)) == 0
    assert ScreeningAssignment.objects.filter(course=course).count() == 9


# --- Withdrawal ------------------------------------------------------------------


def test_withdrawal_withdraws_every_open_measure_of_the_course_and_nothing_else():
    client = with_login()
    course = CourseFactory(client=client)
    measures_plan_for_phase(course=course, now=EVENING)
    answered = ScreeningAssignment.objects.get(course=course, instrument="gad-7")
    answered.status = "completed"
    answered.save()
    by_hand = ScreeningAssignmentFactory(client=client, instrument="phq-9")
    elsewhere = ScreeningAssignmentFactory(course=CourseFactory(), occasion="baseline")
    close(course, "withdrawn")

    withdrawn = measures_plan_for_phase(course=course, now=EVENING)

    assert withdrawn == 2
    assert {(i, s) for _, i, _, s in measures(course)} == {
        ("phq-9", "withdrawn"),
        ("gad-7", "completed"),
        ("epds", "withdrawn"),
    }
    by_hand.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (by_hand.status, elsewhere.status) == ("open", "open")
    changes = AuditEvent.objects.filter(
        object_type="kap_sessions.screeningassignment", action="change"
    )
    assert sorted(int(line.object_id) for line in changes) == sorted(
        ScreeningAssignment.objects.filter(course=course, status="withdrawn").values_list(
            "pk", flat=True
        )
    )


def test_withdrawal_plans_nothing():
    course = CourseFactory(phase="withdrawn", closed_on=TODAY)

    assert measures_plan_for_phase(course=course, now=EVENING) == 0
    assert measures(course) == []


# --- Words ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("occasion", "label"),
    [
        ("baseline", "Baseline"),
        ("before_dosing_2", "Before medicine session 2"),
        ("after_integration", "After the last integration"),
        ("one_month", "One month after completion"),
        ("three_months", "Three months after completion"),
        ("", "Assigned by hand"),
    ],
)
def test_occasions_read_in_plain_words(occasion, label):
    assert occasion_label(occasion) == label


# --- Two planners at once ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_planners_racing_for_one_course_plan_each_measure_once():
    if connection.vendor != "postgresql":
        pytest.skip("a race between two connections needs PostgreSQL")
    course = CourseFactory(client=with_login())
    racers = 6
    barrier = threading.Barrier(racers)
    outcomes: list[object] = []
    lock = threading.Lock()

    def plan() -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                result: object = measures_plan_for_phase(course=course, now=EVENING)
        except Exception as exc:  # an IntegrityError here is the failure to report
            result = repr(exc)
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=plan) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes, key=str) == [0] * (racers - 1) + [3]
    assert ScreeningAssignment.objects.filter(course=course).count() == 3
    assert len(form_ready_rows(course.client)) == 1
