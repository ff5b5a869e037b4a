"""Session notes: written as drafts, signed once, then changed only by dated addenda.

Both kinds of note go through these functions: the progress note of a
session (:class:`SessionNote`, part of her record) and the therapist's
psychotherapy note (:class:`PsychotherapyNote`, kept apart: its own table,
its own permission, left out of exports unless asked for).

**What a signature guarantees.** ``note_sign`` locks the note's row, checks
it is still a draft and stamps who signed and when; from then on the model's
``save()`` and ``delete()`` refuse (``RecordIsFinal``) and ``note_save``
refuses before it writes. Two clicks on "Sign" sign once; the second is told
the note is signed already. A correction is a :class:`NoteAddendum`, dated
when written and itself final.

Every write appends an audit line naming the note (never its text) and her.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from practice.models import AuditEvent, Client, User
from practice.services import audit_record

from ..models import CourseSession, NoteAddendum, PsychotherapyNote, RecordIsFinal, SessionNote

Note = SessionNote | PsychotherapyNote
AnyNote = TypeVar("AnyNote", SessionNote, PsychotherapyNote)

SIGNED_MESSAGE = "This note is signed and cannot change; add an addendum instead."
EMPTY_MESSAGE = "Write the note before signing it."
DRAFT_ADDENDUM_MESSAGE = "Only a signed note takes an addendum; change the draft itself instead."
ADDENDUM_REQUIRED = "Write the addendum."


def _client_of(note: Note) -> Client:
    return note.session.course.client


def _is_empty(note: Note) -> bool:
    return not any(str(getattr(note, name) or "").strip() for name in note.CONTENT_FIELDS)


def _locked(note: AnyNote) -> AnyNote:
    model = type(note)
    return (
        model.objects.select_for_update(of=("self",))
        .select_related("session__course__client")
        .get(pk=note.pk)
    )


@transaction.atomic
def note_save(*, note: AnyNote, actor: User | None) -> AnyNote:
    """Write ``note`` (new or changed) as a draft and return it.

    Not durable: the admin's change form saves inside a transaction of its
    own, and this is what it saves with.

    Raises ``RecordIsFinal`` (a ``ValidationError``) when the note is signed,
    whether the instance says so or the stored row does (the row is locked
    first, so a save racing a signature loses to it).

    Side effects:
    - inserts or updates the note; a new note's ``author`` is ``actor`` unless set;
    - appends a "created" or "changed" line to the audit log for it and her.
    """
    if note.is_signed:
        raise RecordIsFinal(SIGNED_MESSAGE)
    created = note.pk is None
    if not created:
        signed_at = (
            type(note)
            .objects.select_for_update()
            .filter(pk=note.pk)
            .values_list("signed_at", flat=True)
            .first()
        )
        if signed_at is not None:
            raise RecordIsFinal(SIGNED_MESSAGE)
    elif note.author_id is None and actor is not None:
        note.author = actor
    note.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE if created else AuditEvent.Action.CHANGE,
        obj=note,
        client=_client_of(note),
    )
    return note


@transaction.atomic(durable=True)
def note_sign(*, note: AnyNote, actor: User, now: datetime | None = None) -> AnyNote:
    """Sign the draft ``note`` as ``actor``: from then on it is final.

    Signs the note as stored (what the therapist last saved), not the
    instance's unsaved values. Raises ``RecordIsFinal`` when it is signed
    already and ``ValidationError`` when it is empty.

    Side effects:
    - stamps ``signed_at`` (``now``) and ``signed_by``; the note is locked
      (``save()`` and ``delete()`` refuse from now on);
    - appends a "changed" line to the audit log for it and her.
    """
    locked = _locked(note)
    if locked.is_signed:
        raise RecordIsFinal("This note is signed already.")
    if _is_empty(locked):
        raise ValidationError(EMPTY_MESSAGE, code="empty")
    locked.signed_at = now or timezone.now()
    locked.signed_by = actor
    locked.save(update_fields=["signed_at", "signed_by", "updated_at"])
    audit_record(
        actor=actor, action=AuditEvent.Action.CHANGE, obj=locked, client=_client_of(locked)
    )
    return locked


@transaction.atomic(durable=True)
def note_addendum_add(
    *, note: AnyNote, text: str, actor: User, now: datetime | None = None
) -> NoteAddendum:
    """Add a dated addendum to the signed ``note``: the one way a signed note changes.

    Raises ``ValidationError`` when the note is still a draft (the draft
    itself is changed instead) or ``text`` is blank.

    Side effects:
    - inserts the addendum, dated ``now``, by ``actor`` (final once written);
    - appends a "created" line to the audit log for it and her.
    """
    text = text.strip()
    if not text:
        raise ValidationError({"text": ADDENDUM_REQUIRED})
    locked = _locked(note)
    if not locked.is_signed:
        raise ValidationError(DRAFT_ADDENDUM_MESSAGE, code="draft")
    addendum = NoteAddendum(text=text, author=actor, written_at=now or timezone.now())
    if isinstance(locked, SessionNote):
        addendum.session_note = locked
    else:
        addendum.psychotherapy_note = locked
    addendum.save()
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, obj=addendum, client=_client_of(locked)
    )
    return addendum


# --- Reading notes for an export -------------------------------------------------


@dataclass(frozen=True)
class ExportedNote:
    """One note of hers as an export shows it: the session, the text by section, the addenda."""

    note: Note
    session: CourseSession
    is_psychotherapy: bool
    # (label, text) per content field, in the form's order; empty fields included.
    sections: tuple[tuple[str, str], ...]
    addenda: tuple[NoteAddendum, ...]

    @property
    def is_signed(self) -> bool:
        return self.note.is_signed

    @property
    def held_at(self) -> datetime:
        return self.session.appointment.start


def _sections(note: Note) -> tuple[tuple[str, str], ...]:
    return tuple(
        (
            str(getattr(note._meta.get_field(name), "verbose_name", name)).capitalize(),
            str(getattr(note, name)),
        )
        for name in note.CONTENT_FIELDS
    )


def _addenda() -> Prefetch:
    return Prefetch("addenda", queryset=NoteAddendum.objects.select_related("author"))


def notes_for_export(*, client: Client, include_psychotherapy: bool = False) -> list[ExportedNote]:
    """Her session notes, oldest session first, each with its addenda, for an export.

    Psychotherapy notes are kept apart from her record: they are included
    only when ``include_psychotherapy`` is true (the caller checks that the
    person asking may see them: ``kap_sessions.view_psychotherapynote``).
    Drafts are included and say so (``is_signed``); the caller decides
    whether an unsigned note belongs in what it exports.

    Two queries per kind of note (the notes with their sessions, and the
    addenda), whatever the number of notes. Reads only; the caller audits
    the export.
    """
    related = ("session__appointment", "session__course", "signed_by", "author")
    exported: list[ExportedNote] = []
    session_notes = (
        SessionNote.objects.filter(session__course__client=client)
        .select_related(*related)
        .prefetch_related(_addenda())
    )
    exported += [
        ExportedNote(
            note=note,
            session=note.session,
            is_psychotherapy=False,
            sections=_sections(note),
            addenda=tuple(note.addenda.all()),
        )
        for note in session_notes
    ]
    if include_psychotherapy:
        psychotherapy_notes = (
            PsychotherapyNote.objects.filter(session__course__client=client)
            .select_related(*related)
            .prefetch_related(_addenda())
        )
        exported += [
            ExportedNote(
                note=note,
                session=note.session,
                is_psychotherapy=True,
                sections=_sections(note),
                addenda=tuple(note.addenda.all()),
            )
            for note in psychotherapy_notes
        ]
    # The progress note of a session comes before its psychotherapy note.
    exported.sort(key=lambda row: (row.held_at, row.session.pk, row.is_psychotherapy))
    return exported
