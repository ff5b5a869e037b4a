"""Two ``celery beat`` processes started by mistake, beside one worker.

Production runs exactly one beat; a second one (a deploy that starts it on
two machines) queues every scheduled job twice. Each job is safe to repeat:
the outbox's sweep only sets senders on rows, which the row claim hands out
once, and the agenda's planner writes one row per day by its key. The
sweep and the planner come every second here (``OUTBOX_SWEEP_SECONDS``,
``KAP_AGENDA_PLAN_SECONDS``) instead of every minute and five minutes.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from practice.calendar.reminders import ReminderKind, reminders_plan
from practice.models import OutboxMessage
from tests.consultations.factories import ConsultationFactory
from tests.support.outbox import confirmation_due
from tests.support.waiting import wait_until
from tests.support.worker import CeleryBeat, CeleryWorker

pytestmark = [pytest.mark.worker, pytest.mark.slow]

SWEEP = "practice.outbox.sweep"
AGENDA_PLAN = "kap_sessions.agenda_plan"


def consultations_with_email_due(count: int) -> list[str]:
    """``count`` consultations ahead: half with a confirmation due now (its doorbell
    rung), half with the hour-before reminder due now (only a sweep finds it)."""
    now = timezone.now()
    recipients = []
    for n in range(count):
        consultation = ConsultationFactory(
            email=f"mother{n}@example.com", appointment__start=now + timedelta(hours=3 + 4 * n)
        )
        recipients.append(consultation.email)
        if n % 2:
            reminders_plan(appointment=consultation.appointment)
            continue
        confirmation_due(consultation)
    OutboxMessage.objects.filter(params__reminder=ReminderKind.HOUR_BEFORE).update(not_before=now)
    return recipients


def _started(beat: CeleryBeat) -> bool:
    return "beat: Starting" in beat.log()


def _zero_sweeps_since(worker: CeleryWorker, done: int) -> int:
    """Sweeps the worker finished after its first ``done``, that found nothing due."""
    finished = re.findall(r"outbox\.sweep\[[^\]]+\] succeeded in \S+: (\d+)", worker.log())
    return sum(1 for queued in finished[done:] if queued == "0")


def _sends_in_flight(worker: CeleryWorker) -> int:
    log = worker.log()
    received = len(re.findall(r"outbox\.send_due\[[^\]]+\] received", log))
    finished = len(re.findall(r"outbox\.send_due\[[^\]]+\] (?:succeeded|raised)", log))
    return received - finished


def test_two_beats_started_by_mistake_send_each_email_once_and_plan_one_agenda(
    celery_worker, celery_beat, smtp_sink, practice_profile
):
    everyone = consultations_with_email_due(6)
    env = {"EMAIL_URL": smtp_sink.url, "OUTBOX_SWEEP_SECONDS": "1", "KAP_AGENDA_PLAN_SECONDS": "1"}
    worker = celery_worker(env=env)
    beats = [celery_beat(env=env, wait=False), celery_beat(env=env, wait=False)]
    wait_until(lambda: all(_started(beat) for beat in beats), what="both beats to start")

    wait_until(
        lambda: (
            len(smtp_sink.messages) >= len(everyone)
            and not OutboxMessage.objects.due(timezone.now()).exists()
        ),
        what="every due email to be sent",
    )
    # Both beats keep sweeping and planning; the worker runs it all.
    done = len(re.findall(r"outbox\.sweep\[[^\]]+\] succeeded", worker.log()))
    wait_until(
        lambda: (
            _zero_sweeps_since(worker, done) >= 4
            and all(beat.sent(SWEEP) >= 3 and beat.sent(AGENDA_PLAN) >= 2 for beat in beats)
            and _sends_in_flight(worker) == 0
        ),
        what="more sweeps and agenda plans from both beats",
    )

    assert Counter(smtp_sink.recipients) == dict.fromkeys(everyone, 1)
    assert OutboxMessage.objects.filter(kind="kap.agenda").count() == 1
    assert Counter(OutboxMessage.objects.values_list("status", flat=True)) == {
        OutboxMessage.Status.SENT: len(everyone),
        OutboxMessage.Status.PENDING: 1,  # tomorrow morning's agenda
    }
