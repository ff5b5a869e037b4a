from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kap_sessions.models import Course
from kap_sessions.services import course_advance, course_start
from tests.factories import ClientFactory, CourseFactory

pytestmark = pytest.mark.django_db


def test_a_course_moves_through_its_phases_in_order():
    course = course_start(client=ClientFactory())

    for phase in ["dosing", "integration", "completed"]:
        course = course_advance(course=course, to=phase, closing_summary="Done well.")

    assert course.phase == "completed"
    assert course.closed_on is not None
    assert course.closing_summary == "Done well."


def test_a_course_cannot_skip_or_go_back():
    course = course_start(client=ClientFactory())

    with pytest.raises(ValidationError) as skip:
        course_advance(course=course, to="completed")
    course = course_advance(course=course, to="dosing")
    with pytest.raises(ValidationError):
        course_advance(course=course, to="preparation")

    assert skip.value.messages == ["A course in preparation cannot move to completed."]


def test_a_course_can_be_withdrawn_from_any_open_phase():
    course = course_start(client=ClientFactory())

    course = course_advance(course=course, to="withdrawn")

    assert course.phase == "withdrawn"
    assert course.closed_on is not None


def test_a_client_has_one_open_course_at_a_time():
    client = ClientFactory()
    course_start(client=client)

    with pytest.raises(ValidationError):
        course_start(client=client)
    with pytest.raises(IntegrityError), transaction.atomic():
        Course.objects.create(client=client)


def test_a_new_course_may_start_after_the_last_one_closed():
    client = ClientFactory()
    first = CourseFactory(client=client)
    course_advance(course=first, to="withdrawn")

    second = course_start(client=client)

    assert second.phase == "preparation"


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
