"""One way for every state machine: a ``TRANSITIONS`` map that is enforced.

A model with a state field mixes in :class:`Transitions` and declares::

    STATE_FIELD = "status"
    TRANSITIONS = {Status.DRAFT: (Status.SENT,), Status.SENT: ()}

Each machine has one service function that changes the state (its docstring
lists the side effects) and calls :meth:`Transitions.move_to`. The map is
enforced twice: ``move_to`` refuses a move the map does not allow with a
friendly ``ValidationError``, and ``save()`` refuses to write a state that
differs from the one loaded unless the map allows the step, so an admin form
or a careless caller cannot jump a state either. ``QuerySet.update()`` is the
one path that bypasses ``save()``; code here uses it only for claims whose
filter names the state they move from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models


class InvalidTransition(ValidationError):
    """A state change the model's ``TRANSITIONS`` map does not allow."""


class Transitions(models.Model):
    STATE_FIELD: ClassVar[str] = "status"
    TRANSITIONS: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        loaded = getattr(self, "_loaded_state", None)
        current = getattr(self, self.STATE_FIELD)
        if (
            loaded is not None
            and current != loaded
            and current not in self.TRANSITIONS.get(loaded, ())
        ):
            raise InvalidTransition(
                f"{self._meta.verbose_name} #{self.pk}: {loaded} cannot become {current}."
            )
        super().save(*args, **kwargs)
        self._loaded_state = current

    def clean(self) -> None:
        # A form that edits the state (the admin) gets the refusal as a
        # message on the field instead of an error at save().
        super().clean()
        loaded = getattr(self, "_loaded_state", None)
        if (
            loaded is not None
            and self.state != loaded
            and self.state not in self.TRANSITIONS.get(loaded, ())
        ):
            raise ValidationError(
                {self.STATE_FIELD: self.transition_refused_message(self.state, current=loaded)}
            )

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Any:
        instance = super().from_db(db, field_names, values)
        instance._loaded_state = getattr(instance, cls.STATE_FIELD, None)
        return instance

    @property
    def state(self) -> str:
        return str(getattr(self, self.STATE_FIELD))

    def can_move_to(self, to: str) -> bool:
        return to in self.TRANSITIONS.get(self.state, ())

    def move_to(self, to: str) -> None:
        """Set the state to ``to`` (unsaved), or raise :class:`InvalidTransition`."""
        if not self.can_move_to(to):
            raise InvalidTransition(self.transition_refused_message(to, current=self.state))
        setattr(self, self.STATE_FIELD, to)

    def transition_refused_message(self, to: str, *, current: str) -> str:
        labels = _state_labels(type(self))
        now = str(labels.get(current, current)).lower()
        then = str(labels.get(to, to)).lower()
        name = str(self._meta.verbose_name)
        article = "An" if name[:1].lower() in "aeiou" else "A"
        return f"{article} {name} that is {now} cannot become {then}."


def transitions_complete(model: type[Transitions]) -> list[str]:
    """The states of ``model``'s field that its map forgets (for a test of every machine)."""
    return [value for value in _state_labels(model) if value not in model.TRANSITIONS]


def _state_labels(model: type[Transitions]) -> dict[str, str]:
    field = model._meta.get_field(model.STATE_FIELD)
    return {str(value): str(label) for value, label in getattr(field, "choices", None) or ()}
