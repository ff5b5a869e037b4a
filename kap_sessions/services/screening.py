"""Screening questionnaires: the therapist assigns them, she answers them in the portal.

**What a submission guarantees.** Her response, one answer row per item
(the option's position and its score), the assignment's completion and, when
the answers trip the safety rule, the flag with the therapist's alert
(``safety_flag_raise``, an outbox row) are written in one transaction: all
of them or none. The assignment row is locked first and the response is
one-to-one with it, so a double click, a resubmitted page or two tabs record
one response, and every later submit gets that first response back (its
answers stand; nothing is scored twice, no second flag is raised).

**Scoring.** ``kap_sessions.instruments.score`` scores the positions as
published; the EPDS's cut-offs are the practice's (:class:`ScreeningSettings`)
as they are at that moment. The response keeps the version, total, band and
safety it was given, so a later change of cut-offs does not rewrite history.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from practice.identity import practice_profile
from practice.models import AuditEvent, Client, User
from practice.outbox.services import outbox_put
from practice.services import audit_record

from ..instruments import EPDS, INSTRUMENTS, InstrumentAnswerError, score
from ..models import (
    SafetySource,
    ScreeningAnswer,
    ScreeningAssignment,
    ScreeningResponse,
    ScreeningSettings,
    ScreeningStatus,
)
from ..models.screening import ScreeningResponseQuerySet
from .safety import safety_flag_raise

FORMS_DUE_KIND = "kap.forms_due"
WITHDRAWN_MESSAGE = (
    "This questionnaire is no longer needed, so there is nothing to send. Thank you all the same."
)


def screening_settings() -> ScreeningSettings:
    """The practice's screening settings (the published defaults until a row is saved)."""
    return ScreeningSettings.objects.filter(pk=1).first() or ScreeningSettings()


@transaction.atomic
def screening_assign(
    *, client: Client, instrument: str, due_on: date, actor: User | None
) -> ScreeningAssignment:
    """Ask ``client`` to answer ``instrument`` (a slug: phq-9, gad-7, epds) by ``due_on``.

    Not durable: the admin assigns several questionnaires in one transaction,
    all or none.

    Side effects:
    - inserts the open assignment (``assigned_by`` = ``actor``);
    - appends a "created" line to the audit log for it and her;
    - when she has a portal login, asks the outbox for one "something is ready
      in your portal" email per day and client (``kap.forms_due``: it names no
      questionnaire, and is voided at send time if nothing is open any more).
    """
    if instrument not in INSTRUMENTS:
        raise ValidationError({"instrument": "Choose one of the questionnaires."})
    assignment = ScreeningAssignment.objects.create(
        client=client, instrument=instrument, due_on=due_on, assigned_by=actor
    )
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=assignment, client=client)
    if client.user_id is not None:
        today = timezone.localdate(timezone=practice_profile().zone)
        outbox_put(
            kind=FORMS_DUE_KIND,
            key=f"{FORMS_DUE_KIND}:{client.pk}:{today.isoformat()}",
            about=client,
            recipient=client.email,
        )
    return assignment


@transaction.atomic(durable=True)
def screening_submit(
    *, assignment: ScreeningAssignment, answers: Mapping[int, int], client: Client
) -> ScreeningResponse:
    """Score and store her ``answers`` (item number → position of the option she chose).

    Raises ``PermissionDenied`` if the assignment is not ``client``'s,
    ``ValidationError`` if it was withdrawn or an answer is missing or out of
    range (the message names the question: "Please answer question 4.").
    A submit to an assignment already answered returns that response and
    changes nothing.

    Side effects (one transaction):
    - inserts the response (version, total, band, safety as scored now) and
      one answer row per item answered;
    - completes the assignment (its one transition);
    - when the safety item scored above zero, ``safety_flag_raise`` writes
      the flag and the therapist's alert (an outbox row: no answer, no
      instrument named).
    """
    locked = ScreeningAssignment.objects.select_for_update().filter(pk=assignment.pk).first()
    if locked is None or locked.client_id != client.pk:
        raise PermissionDenied("This questionnaire is not hers.")
    if locked.status == ScreeningStatus.COMPLETED:
        return ScreeningResponse.objects.get(assignment=locked)
    if locked.status == ScreeningStatus.WITHDRAWN:
        raise ValidationError(WITHDRAWN_MESSAGE, code="withdrawn")
    instrument = locked.definition
    cutoffs = screening_settings().epds_cutoffs if instrument is EPDS else None
    try:
        result = score(instrument, answers, epds_cutoffs=cutoffs)
    except InstrumentAnswerError as exc:
        raise ValidationError(str(exc), code="answer", params={"item": exc.item}) from exc
    response = ScreeningResponse.objects.create(
        assignment=locked,
        client=client,
        instrument=instrument.slug,
        version=result.version,
        total=result.total,
        band=result.band,
        safety=result.safety,
        completed_at=timezone.now(),
    )
    ScreeningAnswer.objects.bulk_create(
        ScreeningAnswer(
            response=response,
            item_number=item.number,
            position=answers[item.number],
            score=item.score_of(answers[item.number]),
        )
        for item in instrument.items
        if item.number in answers
    )
    locked.move_to(ScreeningStatus.COMPLETED)
    locked.save(update_fields=["status"])
    if result.safety:
        safety_flag_raise(
            client=client, source=SafetySource(instrument.slug), screening_response=response
        )
    return response


@transaction.atomic(durable=True)
def screening_withdraw(
    *, assignment: ScreeningAssignment, actor: User | None
) -> ScreeningAssignment:
    """Take back an open assignment: it leaves her portal and cannot be answered.

    Raises ``InvalidTransition`` (a ``ValidationError``) once she has answered it.

    Side effects: the assignment becomes withdrawn; a "changed" line in the
    audit log names ``actor``. A "something is ready" email not yet sent is
    voided at send time when nothing else is open for her.
    """
    locked = (
        ScreeningAssignment.objects.select_for_update()
        .select_related("client")
        .get(pk=assignment.pk)
    )
    locked.move_to(ScreeningStatus.WITHDRAWN)
    locked.save(update_fields=["status"])
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, obj=locked, client=locked.client)
    return locked


def screening_history(*, client: Client, instrument: str) -> ScreeningResponseQuerySet:
    """Her responses to ``instrument``, newest first, each with ``change_since_last``.

    One query however many there are (``with_change_since_last``); her first
    response's change is ``None``.
    """
    return ScreeningResponse.objects.for_client(client, instrument).with_change_since_last()
