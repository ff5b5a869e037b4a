"""Writes to her intake: one section saved at a time, then sent to the therapist once.

**Saving as she goes.** :func:`intake_save_section` stores the answers of one
section (:data:`kap_sessions.models.SECTIONS`) whatever state they are in: an
empty answer is kept empty, a half-filled section is kept half filled, and
the answers given to other sections are left alone. Checking that an answer
is well formed (a phone number, an email address, a known choice) is the
form's job before it calls; what is required is checked only when she sends
the whole intake (:func:`intake_submit`). So "Save and continue later" never
loses what she typed.

Her state, emergency contact and support person are kept on her client
record; the "people" section writes them there through the profile page's
own service (``client_profile_update``), not on the intake.

**Safety.** When a save turns "thoughts of ending your life or harming
yourself now" to yes, the same transaction raises the intake's safety flag
and asks for the therapist's alert (``safety_flag_raise``). Saving yes again
without a change raises nothing; a flag still open is never doubled.

Both functions are entry points (a portal view calls each once per
request), so each runs in a transaction of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from practice.models import AuditEvent, Client, User
from practice.services import audit_record

from ..models import SECTIONS, Intake, IntakeSection, SafetyFlag, SafetySource
from .portal import client_profile_update
from .safety import safety_flag_raise

ALREADY_SENT = "Your intake has already been sent; it can no longer be changed here."

_SECTIONS = {section.name: section for section in SECTIONS}


@dataclass(frozen=True)
class IntakeSaved:
    """What a save did: the intake as saved, and the safety flag it raised (if any)."""

    intake: Intake
    safety_flag: SafetyFlag | None = None


def intake_section(name: str) -> IntakeSection:
    """The section called ``name``; ``KeyError`` for a name :data:`SECTIONS` does not hold."""
    return _SECTIONS[name]


def _locked_intake(client: Client) -> Intake:
    # Locked so two tabs saving at once are applied one after the other, and
    # the "was it yes before?" check below sees the other's answer.
    # Her client record is read afresh when needed (the "people" section's
    # answers are on it), not taken from the caller's copy.
    intake, _ = Intake.objects.select_for_update().get_or_create(client=client)
    return intake


@transaction.atomic(durable=True)
def intake_save_section(
    *,
    client: Client,
    section: str,
    answers: Mapping[str, Any],
    actor: User,
) -> IntakeSaved:
    """Store ``answers`` (field name → value) of one intake ``section`` for ``client``.

    Only the fields the section holds may be given (``ValueError`` otherwise);
    a field left out keeps its stored answer. Raises ``ValidationError``
    once the intake has been sent. Returns :class:`IntakeSaved`.

    Side effects:
    - creates her intake on the first save;
    - writes the section's answers, and notes the section as the one she
      was on (``current_section``);
    - writes the section's client-record fields (state, emergency contact,
      support person) on her client record, through the profile page's
      ``client_profile_update`` (which audits the change);
    - a change of "thoughts of ending your life now" to yes raises the
      intake's safety flag with the therapist's alert (see the module
      docstring), in this transaction;
    - appends a "changed" line to the audit log for the intake, naming
      ``actor`` (no content).
    """
    chosen = intake_section(section)
    unknown = set(answers) - set(chosen.fields) - set(chosen.client_fields)
    if unknown:
        raise ValueError(f"section {section!r} has no field(s) {sorted(unknown)}")
    intake = _locked_intake(client)
    if intake.is_submitted:
        raise ValidationError(ALREADY_SENT, code="submitted")

    was_thinking_of_it = intake.current_suicidal_thoughts is True
    intake_fields = [name for name in chosen.fields if name in answers]
    for name in intake_fields:
        setattr(intake, name, answers[name])
    intake.current_section = chosen.name
    intake.save(update_fields=[*intake_fields, "current_section", "updated_at"])
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, obj=intake, client=client)

    changes = {name: answers[name] for name in chosen.client_fields if name in answers}
    if changes:
        # The profile page's one write of these fields (and its audit line).
        intake.client = client_profile_update(client=client, actor=actor, changes=changes)

    flag = None
    if intake.current_suicidal_thoughts is True and not was_thinking_of_it:
        flag = safety_flag_raise(client=client, source=SafetySource.INTAKE)
    return IntakeSaved(intake=intake, safety_flag=flag)


@transaction.atomic(durable=True)
def intake_submit(*, client: Client, actor: User) -> Intake:
    """Send her intake to the therapist: every required answer must be there.

    Raises ``ValidationError`` naming the sections still to answer (their
    titles, in order; ``code="missing"`` and ``params["sections"]`` holds
    the sections). Sending an intake already sent changes nothing and
    returns it.

    Side effects:
    - stamps ``submitted_at`` and clears ``current_section``; from then on
      :func:`intake_save_section` refuses changes;
    - appends a "changed" line to the audit log for the intake, naming
      ``actor`` (no content).
    """
    intake = _locked_intake(client)
    if intake.is_submitted:
        return intake
    missing = intake.missing_sections()
    if missing:
        raise ValidationError(
            "Some answers are still missing: %(titles)s.",
            code="missing",
            params={
                "titles": ", ".join(section.title for section in missing),
                "sections": missing,
            },
        )
    intake.submitted_at = timezone.now()
    intake.current_section = ""
    intake.save(update_fields=["submitted_at", "current_section", "updated_at"])
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, obj=intake, client=client)
    return intake
