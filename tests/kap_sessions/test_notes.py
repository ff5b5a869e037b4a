"""Session and psychotherapy notes: drafts, the signature that locks them, addenda, exports."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, connections

from kap_sessions.models import NoteAddendum, PsychotherapyNote, RecordIsFinal, SessionNote
from kap_sessions.services import note_addendum_add, note_save, note_sign, notes_for_export
from practice.models import AuditEvent
from tests.factories import ClientFactory, CourseFactory, StaffFactory
from tests.kap_sessions.factories_notes import (
    CourseSessionFactory,
    PsychotherapyNoteFactory,
    SessionNoteFactory,
)

pytestmark = pytest.mark.django_db

SIGNING = datetime(2027, 3, 3, 1, 30, tzinfo=UTC)
NOTE_FACTORIES = {"session": SessionNoteFactory, "psychotherapy": PsychotherapyNoteFactory}


@pytest.fixture(params=["session", "psychotherapy"])
def kind(request):  # type: ignore[no-untyped-def]
    return request.param


@pytest.fixture
def lena(db):  # type: ignore[no-untyped-def]
    return StaffFactory(first_name="Lena", last_name="Marsh")


def a_draft(kind: str):  # type: ignore[no-untyped-def]
    return NOTE_FACTORIES[kind]()


def audit_lines(note) -> list[tuple[str, str, str, int | None, int | None]]:  # type: ignore[no-untyped-def]
    return [
        (line.action, line.object_type, line.object_id, line.actor_id, line.client_id)
        for line in AuditEvent.objects.filter(object_id=str(note.pk)).order_by("id")
    ]


def content(note) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    return tuple(getattr(note, name) for name in note.CONTENT_FIELDS)


def change_content(note) -> None:  # type: ignore[no-untyped-def]
    if isinstance(note, SessionNote):
        note.plan = "A different plan."
    else:
        note.text = "A different thought."


# --- Drafts --------------------------------------------------------------------


def test_a_new_draft_is_saved_with_its_author_and_an_audit_line(lena):
    session = CourseSessionFactory()
    note = SessionNote(session=session, presentation="Calm.", plan="Next week.")

    note_save(note=note, actor=lena)

    note.refresh_from_db()
    assert (note.author, note.is_signed, note.presentation) == (lena, False, "Calm.")
    client_id = session.course.client_id
    assert audit_lines(note) == [
        ("create", "kap_sessions.sessionnote", str(note.pk), lena.pk, client_id)
    ]


def test_a_draft_changes_as_often_as_needed(kind, lena):
    note = a_draft(kind)

    change_content(note)
    note_save(note=note, actor=lena)
    change_content(note)
    note_save(note=note, actor=lena)

    assert [line[0] for line in audit_lines(note)] == ["change", "change"]


# --- Signing -------------------------------------------------------------------


@time_machine.travel(SIGNING, tick=False)
def test_signing_stamps_who_and_when(kind, lena):
    note = a_draft(kind)

    signed = note_sign(note=note, actor=lena)

    stored = type(note).objects.get(pk=note.pk)
    assert (stored.signed_at, stored.signed_by, signed.is_signed) == (SIGNING, lena, True)
    assert audit_lines(note) == [
        (
            "change",
            f"kap_sessions.{type(note)._meta.model_name}",
            str(note.pk),
            lena.pk,
            note.session.course.client_id,
        )
    ]


def test_a_signed_note_refuses_save_through_the_model(kind, lena):
    note = a_draft(kind)
    note_sign(note=note, actor=lena)
    stored = type(note).objects.get(pk=note.pk)

    change_content(stored)
    with pytest.raises(RecordIsFinal):
        stored.save()

    assert content(type(note).objects.get(pk=note.pk)) == content(note)


def test_a_signed_note_refuses_the_service_even_from_a_stale_draft(kind, lena):
    note = a_draft(kind)
    stale = type(note).objects.get(pk=note.pk)  # read before the signature
    note_sign(note=note, actor=lena)

    change_content(stale)
    with pytest.raises(RecordIsFinal) as refused:
        note_save(note=stale, actor=lena)

    assert refused.value.messages == [
        "This note is signed and cannot change; add an addendum instead."
    ]
    assert [line[0] for line in audit_lines(note)] == ["change"]  # the signature only


def test_a_signed_note_cannot_be_deleted(kind, lena):
    note = a_draft(kind)
    signed = note_sign(note=note, actor=lena)

    with pytest.raises(RecordIsFinal):
        signed.delete()

    assert type(note).objects.filter(pk=note.pk).exists()


def test_signing_twice_is_refused_and_keeps_the_first_signature(kind, lena):
    note = a_draft(kind)
    with time_machine.travel(SIGNING, tick=False):
        note_sign(note=note, actor=lena)
    other = StaffFactory()

    with pytest.raises(RecordIsFinal) as refused:
        note_sign(note=note, actor=other)

    stored = type(note).objects.get(pk=note.pk)
    assert (stored.signed_at, stored.signed_by) == (SIGNING, lena)
    assert refused.value.messages == ["This note is signed already."]


def test_an_empty_note_cannot_be_signed(lena):
    note = SessionNoteFactory(presentation="", interventions=" ", response="", risk="", plan="")

    with pytest.raises(ValidationError) as refused:
        note_sign(note=note, actor=lena)

    note.refresh_from_db()
    assert (note.is_signed, refused.value.messages) == (
        False,
        ["Write the note before signing it."],
    )


def test_signing_signs_what_is_stored_not_unsaved_changes(lena):
    note = SessionNoteFactory(plan="Medicine session next week.")
    note.plan = "Typed but never saved."

    note_sign(note=note, actor=lena)

    assert SessionNote.objects.get(pk=note.pk).plan == "Medicine session next week."


# --- Addenda -------------------------------------------------------------------


def test_an_addendum_is_dated_and_audited(kind, lena):
    note = a_draft(kind)
    note_sign(note=note, actor=lena)
    written = SIGNING + timedelta(days=2)

    with time_machine.travel(written, tick=False):
        addendum = note_addendum_add(
            note=note, text="  She called: the date was the 4th.  ", actor=lena
        )

    stored = NoteAddendum.objects.get(pk=addendum.pk)
    assert (stored.text, stored.written_at, stored.author) == (
        "She called: the date was the 4th.",
        written,
        lena,
    )
    assert list(type(note).objects.get(pk=note.pk).addenda.all()) == [stored]
    assert (
        AuditEvent.objects.filter(
            action="create",
            object_type="kap_sessions.noteaddendum",
            object_id=str(addendum.pk),
            actor_id=lena.pk,
        ).count()
        == 1
    )


def test_addenda_are_kept_in_the_order_written(lena):
    note = SessionNoteFactory()
    note_sign(note=note, actor=lena)

    first = note_addendum_add(note=note, text="First.", actor=lena, now=SIGNING + timedelta(days=1))
    second = note_addendum_add(
        note=note, text="Second.", actor=lena, now=SIGNING + timedelta(days=3)
    )

    assert list(note.addenda.all()) == [first, second]


def test_a_draft_takes_no_addendum(kind, lena):
    note = a_draft(kind)

    with pytest.raises(ValidationError) as refused:
        note_addendum_add(note=note, text="Too early.", actor=lena)

    assert not NoteAddendum.objects.exists()
    assert refused.value.messages == [
        "Only a signed note takes an addendum; change the draft itself instead."
    ]


def test_a_blank_addendum_is_refused(lena):
    note = SessionNoteFactory()
    note_sign(note=note, actor=lena)

    with pytest.raises(ValidationError) as refused:
        note_addendum_add(note=note, text="   ", actor=lena)

    assert not NoteAddendum.objects.exists()
    assert refused.value.messages == ["Write the addendum."]


def test_an_addendum_cannot_change_once_written(lena):
    note = SessionNoteFactory()
    note_sign(note=note, actor=lena)
    addendum = note_addendum_add(note=note, text="As written.", actor=lena)

    addendum.text = "Rewritten."
    with pytest.raises(RecordIsFinal):
        addendum.save()

    assert NoteAddendum.objects.get(pk=addendum.pk).text == "As written."


# --- Exports -------------------------------------------------------------------


def notes_of_one_client(lena, *, sessions: int = 2):  # type: ignore[no-untyped-def]
    course = CourseFactory()
    made = []
    for _ in range(sessions):
        session = CourseSessionFactory(course=course)
        progress = SessionNoteFactory(session=session)
        process = PsychotherapyNoteFactory(session=session)
        note_sign(note=progress, actor=lena)
        note_sign(note=process, actor=lena)
        note_addendum_add(note=progress, text="Addendum to the progress note.", actor=lena)
        note_addendum_add(note=process, text="Addendum to the process note.", actor=lena)
        made.append((session, progress, process))
    return course.client, made


def test_an_export_leaves_psychotherapy_notes_out_unless_asked(lena):
    client, made = notes_of_one_client(lena)

    exported = notes_for_export(client=client)

    assert [row.note for row in exported] == [progress for _, progress, _ in made]
    assert [row.is_psychotherapy for row in exported] == [False, False]
    text = repr([(row.sections, [a.text for a in row.addenda]) for row in exported])
    assert "Transference" not in text
    assert "process note" not in text


def test_an_export_includes_psychotherapy_notes_when_asked(lena):
    client, made = notes_of_one_client(lena)

    exported = notes_for_export(client=client, include_psychotherapy=True)

    (s1, progress1, process1), (s2, progress2, process2) = made
    assert [(row.session, row.note, row.is_psychotherapy) for row in exported] == [
        (s1, progress1, False),
        (s1, process1, True),
        (s2, progress2, False),
        (s2, process2, True),
    ]
    assert exported[1].sections == (
        ("Text", "Transference: she sees me as the older sister who left."),
    )
    assert [a.text for a in exported[1].addenda] == ["Addendum to the process note."]


def test_an_export_labels_each_section_and_says_whether_it_is_signed(lena):
    note = SessionNoteFactory()
    client = note.session.course.client

    (row,) = notes_for_export(client=client)

    assert row.is_signed is False
    assert row.sections == (
        ("How she presented", "Tired, hopeful; slept four hours."),
        ("Interventions", "Set intentions for the first medicine session."),
        ("Her response", "Engaged, tearful when speaking of her mother."),
        ("Risk assessment", "No current risk."),
        ("Plan", "Medicine session next week."),
    )
    assert row.held_at == note.session.appointment.start


def test_an_export_holds_only_her_notes(lena):
    client, _ = notes_of_one_client(lena, sessions=1)
    notes_of_one_client(lena, sessions=1)  # another client's

    assert {
        row.session.course.client_id
        for row in notes_for_export(client=client, include_psychotherapy=True)
    } == {client.pk}
    assert notes_for_export(client=ClientFactory()) == []


@pytest.mark.parametrize("sessions", [1, 4])
def test_an_export_costs_the_same_however_many_notes(lena, sessions, django_assert_num_queries):
    client, _ = notes_of_one_client(lena, sessions=sessions)

    with django_assert_num_queries(4):
        exported = notes_for_export(client=client, include_psychotherapy=True)
        for row in exported:
            _ = (row.held_at, row.note.signed_by, [a.author for a in row.addenda], row.sections)

    assert len(exported) == 2 * sessions


def test_psychotherapy_notes_are_a_table_of_their_own(lena):
    session = CourseSessionFactory()
    SessionNoteFactory(session=session)
    PsychotherapyNoteFactory(session=session)

    assert not hasattr(SessionNote, "text")
    assert PsychotherapyNote._meta.db_table != SessionNote._meta.db_table


# --- Two at once -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_signatures_at_once_sign_once():
    if connection.vendor != "postgresql":
        pytest.skip("a race between two connections needs PostgreSQL")
    note = SessionNoteFactory()
    signers = [StaffFactory() for _ in range(4)]
    barrier = threading.Barrier(len(signers))
    outcomes: list[str] = []
    lock = threading.Lock()

    def sign(actor) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            note_sign(note=note, actor=actor)
            result = "signed"
        except ValidationError as exc:
            result = exc.messages[0]
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=sign, args=(actor,)) for actor in signers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["This note is signed already."] * 3 + ["signed"]
    note.refresh_from_db()
    assert note.signed_by in signers
    assert (
        AuditEvent.objects.filter(object_type="kap_sessions.sessionnote", action="change").count()
        == 1
    )
