"""Several processes, as in production: two gunicorn processes and two Celery
workers on one PostgreSQL and Redis, with one beat (``conftest.production``).

Counted where a person would notice: the rows in the database, the page each
visitor gets back, and the messages at the SMTP sink.
"""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from consultations.forms import SLOT_GONE
from consultations.models import Consultation
from newsletter import services as newsletter
from newsletter.models import Campaign, Subscriber
from practice.calendar.reminders import ReminderKind, reminder_outbox_kind, reminders_plan
from practice.calendar.slots import kind_settings
from practice.models import Appointment, AppointmentKind, OutboxMessage
from tests.consultations.factories import ConsultationFactory
from tests.newsletter.factories import CampaignFactory
from tests.newsletter.test_campaign_worker import _readers
from tests.practice.test_outbox_worker import THERAPIST
from tests.production.support import (
    APPOINTMENT_SPACING,
    FIRST_REMINDER_LEAD,
    RACERS,
    READERS,
    REMINDERS,
    Production,
    Racer,
    booking_form,
    finished_jobs,
    outbox_sent_ids,
    race,
)
from tests.support.outbox import sweep
from tests.support.server import Visitor

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _offered(production: Production) -> list[list[str]]:
    """The times each web process offers."""
    return [
        json.loads(Visitor(server.url).get("/consultation/slots.json")[1])["slots"]
        for server in production.servers
    ]


def _offered_everywhere(production: Production) -> str:
    """The first time both web processes offer (each learns of the new hours on its own)."""
    offered: list[list[str]] = []

    def every_server_offers_one() -> bool:
        offered[:] = _offered(production)
        return all(offered)

    production.settle(every_server_offers_one, what="both web processes to offer a time")
    common = [slot for slot in offered[0] if all(slot in slots for slots in offered)]
    assert common, offered
    return common[0]


def _outcome(status: int, page: str) -> str:
    if status == 200 and "You are booked, Nora" in page:
        return "booked"
    if status == 409 and SLOT_GONE in page:
        return "taken"
    return f"{status}: {page[:500]}"


def test_fifty_mothers_racing_for_one_time_across_two_web_processes_book_it_once(
    production, open_every_day
):
    """Fifty visitors, each with her own cookies and form, press "Book" for the
    same time at once on two web processes: one booking, one confirmation, and
    forty-nine friendly "that time was just taken" pages, never an error."""
    # Saved, as after the therapist's first edit: the first booking ever
    # would otherwise create the row, and its unique index alone would queue
    # the racers behind the winner's commit.
    kind_settings(AppointmentKind.CONSULTATION).save()
    start = _offered_everywhere(production)

    def prepare(n: int) -> Racer:
        visitor = Visitor(production.servers[n % 2].url)
        status, page = visitor.get("/consultation/")
        assert status == 200, page[:500]
        return Racer(visitor=visitor, form=booking_form(page, start=start, n=n))

    with ThreadPoolExecutor(4) as pool:
        racers = list(pool.map(prepare, range(RACERS)))

    answers = race(racers, "/consultation/")

    outcomes = Counter(_outcome(status, page) for status, page in answers)
    assert outcomes == {"booked": 1, "taken": RACERS - 1}, production.logs()
    winner = Consultation.objects.with_appointment().get()
    assert winner.appointment.start == datetime.fromisoformat(start)
    assert winner.appointment.status == Appointment.Status.BOOKED
    assert Appointment.objects.filter(start=datetime.fromisoformat(start)).count() == 1
    winning_form = next(r.form for r, a in zip(racers, answers, strict=True) if a[0] == 200)
    assert winner.email == winning_form["email"]

    production.settle(
        lambda: (
            not OutboxMessage.objects.due(timezone.now()).exists()
            and len(production.smtp.messages) >= 2
        ),
        what="the confirmation and the therapist's notice",
    )
    assert Counter(production.smtp.recipients) == {winner.email: 1, THERAPIST: 1}
    (confirmation,) = production.smtp.to(winner.email)
    assert str(confirmation["Subject"]).startswith("Booked: your call on")
    production.settle(
        lambda: all(start not in slots for slots in _offered(production)),
        what="both web processes to stop offering the booked time",
    )


def test_a_campaign_to_two_thousand_readers_reaches_each_once_across_two_workers(
    production, practice_profile
):
    """The therapist sends a campaign to every confirmed reader; the two workers
    share the sending and every reader finds it in her inbox exactly once."""
    confirmed = _readers(Subscriber.Status.CONFIRMED, "reader", READERS)
    _readers(Subscriber.Status.PENDING, "waiting", 20)
    _readers(Subscriber.Status.UNSUBSCRIBED, "gone", 20)
    campaign = CampaignFactory(subject="Spring letter")

    newsletter.campaign_send(campaign=campaign)  # what the admin's "Send now" calls

    production.settle(
        lambda: Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT,
        what="the campaign to be sent",
        timeout=120 + READERS / 20,
    )
    received = Counter(production.smtp.recipients)
    assert received == {reader.email: 1 for reader in confirmed}
    assert {str(m["Subject"]) for m in production.smtp.messages} == {"Spring letter"}
    campaign.refresh_from_db()
    assert (campaign.recipients_total, campaign.sent_count, campaign.failed_count) == (
        READERS,
        READERS,
        0,
    )
    batches = [finished_jobs(w, "newsletter.campaign_send_batch") for w in production.workers]
    assert all(batches), f"send batches per worker: {batches}"


def test_a_burst_of_due_reminders_is_sent_once_each_and_shared_by_both_workers(
    production, practice_profile
):
    """Two hundred mothers' reminders fall due at the same moment: each mother
    gets hers once, both workers send some, and the later reminders wait."""
    now = timezone.now()
    first = (now + timedelta(hours=3)).replace(second=0, microsecond=0)
    consultations = [
        ConsultationFactory(
            email=f"mother{n}@example.com", appointment__start=first + APPOINTMENT_SPACING * n
        )
        for n in range(REMINDERS)
    ]
    # Booked a while ago: each booking planned its reminders then, and the
    # first of them is due by now (the last appointment is FIRST_REMINDER_LEAD
    # minus a day away).
    booked_at = now - FIRST_REMINDER_LEAD
    with transaction.atomic():
        planned = sum(
            reminders_plan(appointment=consultation.appointment, now=booked_at)
            for consultation in consultations
        )
    assert planned == 2 * REMINDERS
    sweep()  # what beat does every minute: sets senders to work on the burst

    kind = reminder_outbox_kind(AppointmentKind.CONSULTATION)
    reminders = OutboxMessage.objects.filter(kind=kind)
    first_reminders = reminders.filter(params__reminder=ReminderKind.DAY_BEFORE)
    production.settle(
        lambda: (
            not OutboxMessage.objects.due(timezone.now()).exists()
            and len(production.smtp.messages) >= REMINDERS
        ),
        what="the burst of reminders",
        timeout=120 + REMINDERS / 10,
    )
    assert Counter(production.smtp.recipients) == {
        f"mother{n}@example.com": 1 for n in range(REMINDERS)
    }
    subjects = [str(message["Subject"]) for message in production.smtp.messages]
    assert all(subject.startswith("Reminder: your call") for subject in subjects), subjects[:3]
    assert Counter(first_reminders.values_list("status", flat=True)) == {"sent": REMINDERS}
    later = reminders.filter(params__reminder=ReminderKind.HOUR_BEFORE)
    assert Counter(later.values_list("status", flat=True)) == {"pending": REMINDERS}

    ids = set(first_reminders.values_list("pk", flat=True))
    sent_by = [
        [pk for pk in outbox_sent_ids(worker, kind) if pk in ids] for worker in production.workers
    ]
    assert sorted(sent_by[0] + sent_by[1]) == sorted(ids)  # each logged as sent once
    assert all(sent_by), f"reminders sent per worker: {[len(s) for s in sent_by]}"
