"""Her eligibility, computed on demand, and the therapist's decisions about it.

**Computed** (:func:`eligibility_for`), never stored, from:

- her intake, through each active :class:`Contraindication` that has an
  intake rule (:data:`INTAKE_RULES` says when each applies);
- the contraindications the therapist marked on her record by hand;
- her open safety flags: any open flag (from the intake, the PHQ-9 or the
  EPDS) counts as current suicidal thoughts until the therapist answers it.

Each contraindication that applies is one reason, in its plain words, in the
therapist's order, listed once however many ways it applies. Her status is
the worst outcome among them (not eligible, then needs medical review);
none means eligible. The answers count as they are, finished or not:
``intake_complete`` says whether she has sent her intake, so a page can say
"so far".

**Decided**: the newest :class:`EligibilityOverride` wins over the computed
status. The result keeps both, so the therapist sees what the answers say
beside what she decided, by whom and when.

The writes (a decision, a hand mark) are plain ``atomic`` blocks rather than
durable ones: the admin's add and delete forms call them inside the
transaction Django opens around a form.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from practice.models import AuditEvent, Client, User
from practice.services import audit_record

from ..models import (
    BloodPressure,
    ClientContraindication,
    Contraindication,
    EligibilityOverride,
    EligibilityStatus,
    Intake,
    IntakeRule,
    Pregnancy,
    SafetyFlag,
    SafetyFlagStatus,
    SubstanceUse,
)

ALREADY_MARKED = "This contraindication is already marked on her record."
NOTE_REQUIRED = "Write why you decided this: a note is needed to override eligibility."

# When each built-in rule applies, read from her intake (see ``IntakeRule``).
INTAKE_RULES: dict[str, Callable[[Intake], bool]] = {
    IntakeRule.UNCONTROLLED_HYPERTENSION: lambda intake: (
        intake.blood_pressure == BloodPressure.HIGH_UNCONTROLLED
    ),
    IntakeRule.PSYCHOSIS_OR_MANIA: lambda intake: (
        intake.psychosis_history is True or intake.mania_or_bipolar is True
    ),
    IntakeRule.ACTIVE_SUBSTANCE_USE: lambda intake: intake.substance_use == SubstanceUse.CONCERNED,
    IntakeRule.PREGNANCY: lambda intake: intake.pregnant == Pregnancy.YES,
    IntakeRule.ACTIVE_SUICIDAL_IDEATION: lambda intake: intake.current_suicidal_thoughts is True,
    IntakeRule.HEART_CONDITION: lambda intake: intake.heart_condition is True,
    IntakeRule.LIVER_CONDITION: lambda intake: intake.liver_condition is True,
    IntakeRule.BLADDER_CONDITION: lambda intake: intake.bladder_condition is True,
    IntakeRule.GLAUCOMA: lambda intake: intake.glaucoma is True,
    IntakeRule.SEIZURES: lambda intake: intake.seizures is True,
}

# Worst first: the status is the first of these any reason has.
_SEVERITY = [EligibilityStatus.NOT_ELIGIBLE, EligibilityStatus.NEEDS_MEDICAL_REVIEW]


@dataclass(frozen=True)
class Eligibility:
    """Her eligibility: ``status`` applies; ``reasons`` are the contraindications, in plain words.

    ``computed_status`` is what her answers and marks say; ``override`` is the
    therapist's newest decision (who, when and why), which then gives
    ``status``.
    """

    status: str
    reasons: list[str] = field(default_factory=list)
    computed_status: str = EligibilityStatus.ELIGIBLE
    override: EligibilityOverride | None = None
    intake_complete: bool = False

    @property
    def status_label(self) -> str:
        return str(EligibilityStatus(self.status).label)

    @property
    def computed_status_label(self) -> str:
        return str(EligibilityStatus(self.computed_status).label)

    @property
    def is_overridden(self) -> bool:
        return self.override is not None


def _applying_for(
    clients: Sequence[Client], intakes: dict[int, Intake]
) -> dict[int, list[Contraindication]]:
    """The active contraindications that apply to each client, in the therapist's order."""
    client_ids = [client.pk for client in clients]
    flagged = set(
        SafetyFlag.objects.filter(
            client_id__in=client_ids, status=SafetyFlagStatus.OPEN
        ).values_list("client_id", flat=True)
    )
    from_intake = list(Contraindication.objects.from_intake())
    applying: dict[int, dict[int, Contraindication]] = {pk: {} for pk in client_ids}
    for client_id in client_ids:
        intake = intakes.get(client_id)
        for contraindication in from_intake:
            rule = contraindication.intake_rule
            by_intake = intake is not None and INTAKE_RULES[rule](intake)
            by_flag = rule == IntakeRule.ACTIVE_SUICIDAL_IDEATION and client_id in flagged
            if by_intake or by_flag:
                applying[client_id][contraindication.pk] = contraindication
    marks = ClientContraindication.objects.filter(
        client_id__in=client_ids, contraindication__active=True
    ).select_related("contraindication")
    for mark in marks:
        applying[mark.client_id].setdefault(mark.contraindication_id, mark.contraindication)
    return {
        client_id: sorted(found.values(), key=lambda c: (c.order, c.pk))
        for client_id, found in applying.items()
    }


def eligibility_for(client: Client) -> Eligibility:
    """Her eligibility now (see the module docstring). A constant five queries."""
    return eligibility_for_clients([client])[client.pk]


def eligibility_for_clients(clients: Sequence[Client]) -> dict[int, Eligibility]:
    """:func:`eligibility_for` of each client, by client id, in the same five queries.

    For pages and gates that show many clients at once (the courses waiting
    on a gate): the number of queries does not grow with the clients.
    """
    client_ids = [client.pk for client in clients]
    intakes = {
        intake.client_id: intake for intake in Intake.objects.filter(client_id__in=client_ids)
    }
    applying = _applying_for(clients, intakes)
    overrides: dict[int, EligibilityOverride] = {}
    for decision in (
        EligibilityOverride.objects.filter(client_id__in=client_ids)
        .select_related("decided_by")
        .order_by("-decided_at", "-id")
    ):
        overrides.setdefault(decision.client_id, decision)
    result: dict[int, Eligibility] = {}
    for client_id in client_ids:
        outcomes = {c.outcome for c in applying[client_id]}
        computed = next(
            (status for status in _SEVERITY if status in outcomes), EligibilityStatus.ELIGIBLE
        )
        override = overrides.get(client_id)
        intake = intakes.get(client_id)
        result[client_id] = Eligibility(
            status=override.status if override is not None else computed,
            reasons=[c.plain_words for c in applying[client_id]],
            computed_status=computed,
            override=override,
            intake_complete=intake is not None and intake.is_submitted,
        )
    return result


@transaction.atomic
def eligibility_override(
    *, client: Client, status: str, note: str, actor: User
) -> EligibilityOverride:
    """Record the therapist's decision on ``client``'s eligibility; the newest one applies.

    Raises ``ValidationError`` for an empty note or an unknown status.

    Side effects:
    - inserts a new decision (never edited), with ``actor`` and the time;
    - appends a "created" line to the audit log for her record (no content).
    """
    note = note.strip()
    if not note:
        raise ValidationError({"note": NOTE_REQUIRED}, code="note_required")
    if status not in EligibilityStatus.values:
        raise ValidationError({"status": "Choose a status."}, code="status")
    decision = EligibilityOverride.objects.create(
        client=client, status=status, note=note, decided_by=actor
    )
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=decision, client=client)
    return decision


@transaction.atomic
def contraindication_mark(
    *, client: Client, contraindication: Contraindication, note: str, actor: User
) -> ClientContraindication:
    """Mark ``contraindication`` on ``client``'s record by hand (her doctor's letter, a call).

    Raises ``ValidationError`` when it is already marked on her record
    (``kap_sessions_clientcontraindication_once_per_client``).

    Side effects: inserts the mark, naming ``actor``; appends a "created"
    line to the audit log for her record (no content).
    """
    try:
        with transaction.atomic():
            mark = ClientContraindication.objects.create(
                client=client, contraindication=contraindication, note=note.strip(), noted_by=actor
            )
    except IntegrityError as exc:
        raise ValidationError(ALREADY_MARKED, code="already_marked") from exc
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=mark, client=client)
    return mark


@transaction.atomic
def contraindication_unmark(*, mark: ClientContraindication, actor: User) -> None:
    """Take a hand mark off her record.

    Side effects: deletes the mark; appends a "deleted" line to the audit
    log for her record (no content).
    """
    audit_record(actor=actor, action=AuditEvent.Action.DELETE, obj=mark, client=mark.client)
    mark.delete()
