"""The safety path: a sign of risk becomes a flag on her record and an alert to the therapist.

**Raising** (:func:`safety_flag_raise`) runs in the caller's transaction: the
questionnaire's scoring service and the intake's save call it beside the
answer that raised it. The flag row and the outbox row of the therapist's
alert (kind ``kap.safety_alert``) commit together with that answer, or not
at all. So the alert cannot be lost to a worker or Redis that is down at
that moment: the outbox row waits in the database, the doorbell rings after
commit if it can, and beat's sweep (every minute) sends whatever a lost
doorbell left behind.

**Once.** The same answer raises one flag however often it is saved or a
service retried: a questionnaire response has at most one flag
(``kap_sessions_safetyflag_one_per_response``) and a client at most one open
intake flag (``kap_sessions_safetyflag_one_open_intake_flag_per_client``).
A second call returns the flag already there and asks for no second email;
two calls racing are settled by those constraints. The alert's idempotency
key is the flag's, so a flag has one alert.

**The alert** says only "please look at a client's record", with a link to
her record in the admin: no name in the subject, no answer, no instrument.

**Acknowledging** (:func:`safety_flag_acknowledge`) is the one transition of
a flag: the therapist writes what she did about it (required), and the
flag closes, naming her and the time, with a line in the audit log.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from practice.identity import practice_profile
from practice.models import AuditEvent, Client, User
from practice.outbox.services import outbox_put
from practice.services import audit_record

from ..models import SafetyFlag, SafetyFlagStatus, SafetySource, ScreeningResponse

SAFETY_ALERT_KIND = "kap.safety_alert"

NOTE_REQUIRED = "Write what you did about it: a note is needed to acknowledge a flag."


def _existing_flag(
    *, client: Client, source: str, screening_response: ScreeningResponse | None
) -> SafetyFlag | None:
    if screening_response is not None:
        return SafetyFlag.objects.filter(screening_response=screening_response).first()
    return SafetyFlag.objects.filter(
        client=client, source=SafetySource.INTAKE, status=SafetyFlagStatus.OPEN
    ).first()


def _check_source(
    *, client: Client, source: str, screening_response: ScreeningResponse | None
) -> None:
    if source not in SafetySource.values:
        raise ValueError(f"unknown safety source {source!r}")
    if source == SafetySource.INTAKE:
        if screening_response is not None:
            raise ValueError("a flag raised by the intake has no questionnaire response")
        return
    if screening_response is None:
        raise ValueError(f"a flag raised by {source} names its questionnaire response")
    if screening_response.client_id != client.pk or screening_response.instrument != source:
        raise ValueError("the questionnaire response is not this client's, or not this source's")


def safety_flag_raise(
    *,
    client: Client,
    source: str,
    screening_response: ScreeningResponse | None = None,
) -> SafetyFlag:
    """Raise a safety flag on ``client`` and ask for the therapist's alert; return the flag.

    ``source`` is a :class:`SafetySource`: ``intake`` (no response), or the
    questionnaire's slug with the ``screening_response`` that raised it.
    Runs in the caller's transaction (it opens a savepoint, never a
    transaction of its own), so the flag commits with the answer.

    Idempotent: when this response already has a flag, or (for the intake)
    she already has an open intake flag, that flag is returned and nothing
    is written.

    Side effects, for a new flag only:
    - inserts the open flag;
    - writes the outbox row of the ``kap.safety_alert`` email to the
      practice's address, due now (the doorbell rings after commit; beat's
      sweep covers a lost one);
    - appends a "created" line to the audit log for her record (no content).
    """
    _check_source(client=client, source=source, screening_response=screening_response)
    with transaction.atomic():
        existing = _existing_flag(
            client=client, source=source, screening_response=screening_response
        )
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                flag = SafetyFlag.objects.create(
                    client=client, source=source, screening_response=screening_response
                )
        except IntegrityError:
            # Another save of the same answer won the race and committed first.
            raced = _existing_flag(
                client=client, source=source, screening_response=screening_response
            )
            if raced is None:
                raise
            return raced
        outbox_put(
            kind=SAFETY_ALERT_KIND,
            key=f"kap:safety-flag:{flag.pk}:alert",
            about=flag,
            recipient=practice_profile().email,
        )
        audit_record(actor=None, action=AuditEvent.Action.CREATE, obj=flag, client=client)
    return flag


@transaction.atomic(durable=True)
def safety_flag_acknowledge(*, flag: SafetyFlag, actor: User, note: str) -> SafetyFlag:
    """Close ``flag``: the therapist (``actor``) says, in ``note``, what she did about it.

    Raises ``ValidationError`` when the note is empty, and ``InvalidTransition``
    (a ``ValidationError``) when the flag is already acknowledged. The row is
    locked first, so two acknowledgements at once close it once.

    Side effects:
    - sets the status to acknowledged, with ``actor``, the time and the
      note (encrypted);
    - an alert still waiting to be sent is voided at send time by its
      kind's check (she has seen the flag);
    - appends a "changed" line to the audit log for her record (no content).
    """
    note = note.strip()
    if not note:
        raise ValidationError(NOTE_REQUIRED, code="note_required")
    flag = (
        SafetyFlag.objects.select_related("client").select_for_update(of=("self",)).get(pk=flag.pk)
    )
    flag.move_to(SafetyFlagStatus.ACKNOWLEDGED)
    flag.acknowledged_at = timezone.now()
    flag.acknowledged_by = actor
    flag.acknowledgement_note = note
    flag.save(
        update_fields=["status", "acknowledged_at", "acknowledged_by", "acknowledgement_note"]
    )
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, obj=flag, client=flag.client)
    return flag
