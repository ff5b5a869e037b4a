"""Session notes: structured, signed, then locked; a signed note changes by addendum only.

Each session has at most one progress note (:class:`SessionNote`, part of
her record and of exports) and at most one psychotherapy note
(:class:`PsychotherapyNote`, the therapist's process notes: kept in a table
of their own, behind their own permission, and left out of exports unless
asked for). Both are drafts until signed; ``save()`` refuses any change to
a signed note with :class:`~kap_sessions.models.final.RecordIsFinal`, and a
correction is a dated :class:`NoteAddendum`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from practice.encryption import EncryptedTextField

from .final import RecordIsFinal, stored_values
from .sessions import CourseSession


class SignedNote(models.Model):
    """A note that is a draft until signed and final afterwards."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    signed_at = models.DateTimeField(null=True, blank=True, editable=False)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    # The fields a signature covers (the content).
    CONTENT_FIELDS: ClassVar[tuple[str, ...]] = ()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        stored = stored_values(self, ["signed_at"])
        if stored is not None and stored["signed_at"] is not None:
            raise RecordIsFinal("A signed note cannot change; add an addendum instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_signed:
            raise RecordIsFinal("A signed note cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class SessionNote(SignedNote):
    """The progress note of a session: part of her clinical record."""

    session = models.OneToOneField(CourseSession, on_delete=models.PROTECT, related_name="note")
    presentation = EncryptedTextField(
        "how she presented", blank=True, help_text="Mood, affect, what she brought."
    )
    interventions = EncryptedTextField(blank=True, help_text="What was done in the session.")
    response = EncryptedTextField("her response", blank=True)
    risk = EncryptedTextField(
        "risk assessment", blank=True, help_text="Safety concerns and what was done about them."
    )
    plan = EncryptedTextField(blank=True, help_text="Next steps, homework, the next session.")

    CONTENT_FIELDS = ("presentation", "interventions", "response", "risk", "plan")

    class Meta:
        verbose_name = "session note"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(signed_at__isnull=True, signed_by__isnull=True)
                | models.Q(signed_at__isnull=False, signed_by__isnull=False),
                name="kap_sessions_sessionnote_signed_by_whom",
            ),
        ]

    def __str__(self) -> str:
        return f"Session note #{self.pk}"


class PsychotherapyNote(SignedNote):
    """The therapist's process notes: apart from the record, out of exports unless asked for."""

    session = models.OneToOneField(
        CourseSession, on_delete=models.PROTECT, related_name="psychotherapy_note"
    )
    text = EncryptedTextField()

    CONTENT_FIELDS = ("text",)

    class Meta:
        verbose_name = "psychotherapy note"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(signed_at__isnull=True, signed_by__isnull=True)
                | models.Q(signed_at__isnull=False, signed_by__isnull=False),
                name="kap_sessions_psychotherapynote_signed_by_whom",
            ),
        ]

    def __str__(self) -> str:
        return f"Psychotherapy note #{self.pk}"


class NoteAddendum(models.Model):
    """A dated addition to a signed note: the one way a signed note changes."""

    session_note = models.ForeignKey(
        SessionNote, null=True, blank=True, on_delete=models.PROTECT, related_name="addenda"
    )
    psychotherapy_note = models.ForeignKey(
        PsychotherapyNote, null=True, blank=True, on_delete=models.PROTECT, related_name="addenda"
    )
    text = EncryptedTextField()
    written_at = models.DateTimeField(default=timezone.now, editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["written_at", "id"]
        verbose_name_plural = "note addenda"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(session_note__isnull=False, psychotherapy_note__isnull=True)
                | models.Q(session_note__isnull=True, psychotherapy_note__isnull=False),
                name="kap_sessions_noteaddendum_one_note",
            ),
        ]

    def __str__(self) -> str:
        return f"Addendum #{self.pk} of {self.written_at:%Y-%m-%d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RecordIsFinal("An addendum cannot change; add another one.")
        super().save(*args, **kwargs)
