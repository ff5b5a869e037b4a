"""Who a free consultation's appointment is with: the booker, and her intake.

Registered with the calendar's display hook (``practice.calendar.display``)
by ``ConsultationsConfig.ready()``. A reschedule leaves the old appointment
cancelled, pointing at its replacement (``rescheduled_to``); such a row has no
consultation of its own, so the hook follows the chain forward to the one
that has, a query per step for all the rows at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.urls import reverse

from practice.calendar.display import AppointmentWith, appointment_display
from practice.models import Appointment, AppointmentKind

from .models import Consultation

# A consultation moved more often than this shows as "moved" in older rows.
MAX_MOVES_FOLLOWED = 5


def _shown(consultation: Consultation) -> AppointmentWith:
    return AppointmentWith(
        name=consultation.full_name,
        phone=consultation.phone,
        record_url=reverse("admin:consultations_consultation_change", args=[consultation.pk]),
        record_label="Intake",
    )


@appointment_display(AppointmentKind.CONSULTATION)
def consultation_appointments(
    appointments: Sequence[Appointment],
) -> dict[int, AppointmentWith]:
    fields = ("id", "appointment_id", "first_name", "last_name", "phone")
    found = {
        consultation.appointment_id: _shown(consultation)
        for consultation in Consultation.objects.filter(appointment__in=appointments).only(*fields)
    }
    # Moved-away rows: origin id -> the next appointment in its chain.
    chasing = {
        a.pk: a.rescheduled_to_id
        for a in appointments
        if a.pk not in found and a.rescheduled_to_id is not None
    }
    for _ in range(MAX_MOVES_FOLLOWED):
        if not chasing:
            break
        steps = {
            step.pk: step
            for step in Appointment.objects.filter(pk__in=set(chasing.values()))
            .select_related("consultation")
            .only("id", "rescheduled_to_id", *(f"consultation__{f}" for f in fields))
        }
        for origin, target in list(chasing.items()):
            step = steps.get(target)  # type: ignore[arg-type]
            consultation = getattr(step, "consultation", None) if step else None
            if consultation is not None:
                found[origin] = _shown(consultation)
                del chasing[origin]
            elif step is not None and step.rescheduled_to_id is not None:
                chasing[origin] = step.rescheduled_to_id
            else:
                del chasing[origin]
    for origin in chasing:
        found[origin] = AppointmentWith(name="Moved (see the newer appointment)")
    return found
