"""What her portal shows and what she changes there: the to-do list and her profile.

:func:`portal_todo` reads the preparation records directly (a fixed number of
queries, whatever she has) and answers with what is left, in the order she
is asked: the intake, then open questionnaires (earliest due first, one per
questionnaire, as its page opens the earliest), then the consent documents
whose current version she has not signed. The first item is her one next
step. Links follow the portal's URL contract (DESIGN.md): ``/portal/intake/``,
``/portal/questionnaires/<slug>/``, ``/portal/consents/<id>/``.

:func:`client_profile_update` is the one write of her contact details,
emergency contact and support person, from the portal's profile page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction

from practice.models import AuditEvent, Client, User
from practice.services import audit_record

from ..instruments import instrument_for
from ..models import SECTIONS, ConsentDocument, Intake, ScreeningAssignment
from .consent import consents_to_sign

__all__ = [
    "PROFILE_FIELDS",
    "PortalTodo",
    "client_profile_update",
    "portal_todo",
]

# What she may change about herself on /portal/profile/ (the rest is the therapist's).
PROFILE_FIELDS = ("phone", "time_zone", "state", *Client.PEOPLE_FIELDS)

# The questionnaires named as she would say what they ask about.
QUESTIONNAIRE_TITLES = {
    "phq-9": "How your mood has been",
    "gad-7": "How worry has been for you",
    "epds": "How you have been feeling since your baby",
}


@dataclass(frozen=True)
class PortalTodo:
    """One thing she still has to do: what, a line of detail, and where to do it."""

    kind: str  # "intake", "questionnaire" or "consent"
    title: str
    detail: str
    url: str
    action: str
    due_on: date | None = None


def _intake_todo(intake: Intake | None) -> PortalTodo | None:
    if intake is None:
        return PortalTodo(
            kind="intake",
            title="Your health questions",
            detail=f"{len(SECTIONS)} short parts. Your answers are saved as you go.",
            url="/portal/intake/",
            action="Start",
        )
    if intake.is_submitted:
        return None  # sent to the therapist: nothing more to do here
    missing = intake.missing_sections()
    if not missing:
        return PortalTodo(
            kind="intake",
            title="Your health questions",
            detail="Every part is answered: look them over and send them.",
            url="/portal/intake/",
            action="Look over and send",
        )
    done = len(SECTIONS) - len(missing)
    return PortalTodo(
        kind="intake",
        title="Your health questions",
        detail=f"{done} of {len(SECTIONS)} parts done. Next: {intake.resume_section.title}.",
        url="/portal/intake/",
        action="Carry on" if done else "Start",
    )


def _questionnaire_todos(assignments: list[ScreeningAssignment]) -> list[PortalTodo]:
    todos: list[PortalTodo] = []
    seen: set[str] = set()
    for assignment in assignments:
        if assignment.instrument in seen:
            continue  # its page opens the earliest one; the next shows once that is done
        seen.add(assignment.instrument)
        instrument = instrument_for(assignment.instrument)
        todos.append(
            PortalTodo(
                kind="questionnaire",
                title=QUESTIONNAIRE_TITLES.get(assignment.instrument, instrument.name),
                detail=f"A short questionnaire ({instrument.name}), a few minutes.",
                url=f"/portal/questionnaires/{assignment.instrument}/",
                action="Answer",
                due_on=assignment.due_on,
            )
        )
    return todos


def _consent_todos(documents: list[ConsentDocument]) -> list[PortalTodo]:
    return [
        PortalTodo(
            kind="consent",
            title=document.title,
            detail=(
                "Updated since you signed it: please read and sign the new version."
                if document.signed_kind  # type: ignore[attr-defined]
                else "Read it, then sign by typing your name."
            ),
            url=f"/portal/consents/{document.pk}/",
            action="Read and sign",
        )
        for document in documents
    ]


def portal_todo(client: Client) -> list[PortalTodo]:
    """What ``client`` still has to complete, her next step first (four queries)."""
    intake = Intake.objects.filter(client=client).first()
    if intake is not None:
        intake.client = client  # missing_sections() reads her record; spare the query
    assignments = list(ScreeningAssignment.objects.open_for(client))
    # The same list the consent pages and the dosing gate read (one query).
    documents = consents_to_sign(client)
    todos: list[PortalTodo] = []
    intake_item = _intake_todo(intake)
    if intake_item is not None:
        todos.append(intake_item)
    todos += _questionnaire_todos(assignments)
    todos += _consent_todos(documents)
    return todos


@transaction.atomic
def client_profile_update(*, client: Client, actor: User, changes: dict[str, Any]) -> Client:
    """Save what she changed on her profile page; return her record.

    Only :data:`PROFILE_FIELDS` are written (anything else in ``changes`` is
    refused with ``ValueError``); values are validated by the caller's form
    and by the model's ``full_clean``. Side effects: the client row, and one
    audit line with ``actor`` when anything changed (none when nothing did).
    """
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not a profile field: {', '.join(sorted(unknown))}")
    client = Client.objects.select_for_update().get(pk=client.pk)
    changed = [name for name, value in changes.items() if getattr(client, name) != value]
    if not changed:
        return client
    for name in changed:
        setattr(client, name, changes[name])
    client.full_clean(exclude=[f.name for f in Client._meta.fields if f.name not in changed])
    client.save(update_fields=[*changed, "updated_at"])
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, obj=client, client=client)
    return client
