"""How the workspace shows an appointment: who it is with, and its time.

Who an appointment is with lives in the app that owns its kind (a free
consultation's booker is a row of ``consultations``; a course session's client
will be reached through ``kap_sessions``), so each leaf app registers one
display hook for its kinds, from a module its ``AppConfig.ready()`` imports::

    @appointment_display(AppointmentKind.CONSULTATION)
    def consultation_appointments(appointments) -> dict[int, AppointmentWith]:
        ...

A hook takes every appointment of its kinds on a page at once and answers by
appointment id, so a list costs one query per kind, however long it is. An
appointment a hook does not answer for falls back to the core's answer: its
client record, or its title for blocked time.

The time helpers write a moment in the practice's zone the way the whole
admin reads it ("Tue, Jan 5, 9:00 AM"). They format explicitly (not through
the active format settings), so a line reads the same in the admin, in a
panel and in a message.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.urls import reverse
from django.utils import timezone

from practice.identity import practice_profile
from practice.models import Client

from .models import Appointment, AppointmentKind

__all__ = [
    "AppointmentWith",
    "appointment_display",
    "appointments_with",
    "clock",
    "in_practice_time",
    "short_day",
    "tel_url",
]


@dataclass(frozen=True)
class AppointmentWith:
    """Who an appointment is with, as the workspace shows it.

    ``record_url`` opens her record in the admin (a consultation's intake, a
    client's page) and ``record_label`` says which it is.
    """

    name: str
    phone: str = ""
    record_url: str = ""
    record_label: str = ""

    @property
    def phone_url(self) -> str:
        return tel_url(self.phone)


DisplayHook = Callable[[Sequence[Appointment]], Mapping[int, AppointmentWith]]

_hooks: dict[str, DisplayHook] = {}


def appointment_display(*kinds: str) -> Callable[[DisplayHook], DisplayHook]:
    """Register the decorated function as the display hook of appointments of ``kinds``."""

    def register(hook: DisplayHook) -> DisplayHook:
        for kind in kinds:
            existing = _hooks.get(kind)
            if existing is not None and existing is not hook:
                raise ValueError(f"appointment kind {kind!r} has a display hook already")
            _hooks[kind] = hook
        return hook

    return register


def appointments_with(appointments: Iterable[Appointment]) -> dict[int, AppointmentWith]:
    """Who each of ``appointments`` is with, by appointment id.

    One call per kind's hook, and one query for the fallback's client records:
    the number of queries does not grow with the number of appointments.
    """
    by_kind: dict[str, list[Appointment]] = defaultdict(list)
    for appointment in appointments:
        by_kind[appointment.kind].append(appointment)
    found: dict[int, AppointmentWith] = {}
    unanswered: list[Appointment] = []
    for kind, group in by_kind.items():
        hook = _hooks.get(kind)
        answers = hook(group) if hook is not None else {}
        for appointment in group:
            answer = answers.get(appointment.pk)
            if answer is None:
                unanswered.append(appointment)
            else:
                found[appointment.pk] = answer
    found.update(_from_the_calendar(unanswered))
    return found


def _from_the_calendar(appointments: Sequence[Appointment]) -> dict[int, AppointmentWith]:
    """The core's own answer: blocked time is time off; otherwise the client, or the title."""
    if not appointments:
        return {}
    wanted = {
        a.client_id
        for a in appointments
        if a.client_id is not None and not Appointment.client.is_cached(a)  # type: ignore[attr-defined]
    }
    clients = Client.objects.in_bulk(wanted) if wanted else {}
    answers = {}
    for appointment in appointments:
        if appointment.kind == AppointmentKind.BLOCKED:
            answers[appointment.pk] = AppointmentWith(name=appointment.title or "Time off")
            continue
        client = (
            appointment.client
            if Appointment.client.is_cached(appointment)  # type: ignore[attr-defined]
            else clients.get(appointment.client_id)  # type: ignore[arg-type]
        )
        if client is not None:
            answers[appointment.pk] = AppointmentWith(
                name=client.full_name,
                phone=client.phone,
                record_url=reverse("admin:practice_client_change", args=[client.pk]),
                record_label="Client record",
            )
        else:
            answers[appointment.pk] = AppointmentWith(name=appointment.title or "No one linked")
    return answers


def tel_url(phone: str) -> str:
    """'tel:+15105550100' from a phone as it was typed; empty when there is no number."""
    digits = re.sub(r"\D", "", phone)
    if not digits:
        return ""
    return f"tel:{'+' if phone.strip().startswith('+') else ''}{digits}"


def clock(moment: datetime) -> str:
    """'9:00 AM': the 12-hour time of ``moment`` in its own zone."""
    return f"{moment:%I:%M %p}".lstrip("0")


def short_day(day: date) -> str:
    """'Tue, Jan 5': a day (or a moment, in its own zone) without the year."""
    return f"{day:%a, %b} {day.day}"


def in_practice_time(moment: datetime, *, now: datetime | None = None) -> str:
    """'Tue, Jan 5, 9:00 AM': ``moment`` in the practice's zone, as the admin writes it.

    The year is added when it is not the current year in the practice's zone
    ('Fri, Dec 4, 2026, 9:00 AM'), as a mail client does.
    """
    zone = practice_profile().zone
    local = moment.astimezone(zone)
    this_year = (now or timezone.now()).astimezone(zone).year
    day = short_day(local) if local.year == this_year else f"{short_day(local)}, {local.year}"
    return f"{day}, {clock(local)}"
