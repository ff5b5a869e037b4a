"""Records that are final once written: changed only in the ways their model names.

A published consent document, a signature and an eligibility decision are
evidence of what was shown, agreed or decided at a time. Their ``save()``
compares the row about to be written with the one stored and refuses any
other change with :class:`RecordIsFinal`; a correction is a new row (a new
version, a superseding signature, a newer decision). ``QuerySet.update()``
and ``bulk_update()`` bypass ``save()``: they are kept for re-encrypting
text under a new key, which changes no value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models


class RecordIsFinal(ValidationError):
    """A change to a record that may no longer change in that way."""


def stored_values(instance: models.Model, names: Sequence[str]) -> dict[str, Any] | None:
    """The stored row's values of the fields ``names`` (one query), or ``None`` if unsaved.

    Foreign keys are read as ids (their ``attname``), so nothing related is
    loaded; compare them with :func:`current_value`.
    """
    if instance.pk is None:
        return None
    attnames = [_attname(instance, name) for name in names]
    row = type(instance)._default_manager.filter(pk=instance.pk).values(*attnames).first()
    if row is None:
        return None
    return {name: row[attname] for name, attname in zip(names, attnames, strict=True)}


def current_value(instance: models.Model, name: str) -> Any:
    return getattr(instance, _attname(instance, name))


def _attname(instance: models.Model, name: str) -> str:
    return str(instance._meta.get_field(name).attname)  # type: ignore[union-attr]
