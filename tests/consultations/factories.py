from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import factory

from consultations.models import Consultation, WaitlistEntry
from practice.models import Appointment, AppointmentKind, Reminder, WeeklyHours


class WeeklyHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WeeklyHours

    weekday = 0
    start_time = time(9)
    end_time = time(17)


class AppointmentFactory(factory.django.DjangoModelFactory):
    """A booked consultation-length appointment; the occupied range adds a 10-minute buffer."""

    class Meta:
        model = Appointment

    kind = AppointmentKind.CONSULTATION
    status = Appointment.Status.BOOKED
    start = factory.LazyFunction(lambda: datetime(2027, 1, 5, 17, 0, tzinfo=UTC))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=20))
    occupied_start = factory.LazyAttribute(lambda o: o.start)
    occupied_end = factory.LazyAttribute(lambda o: o.end + timedelta(minutes=10))


class ConsultationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consultation

    appointment = factory.SubFactory(AppointmentFactory)
    submission_id = factory.LazyFunction(uuid.uuid4)
    first_name = "Nora"
    last_name = factory.Sequence(lambda n: f"Booker{n}")
    email = factory.Sequence(lambda n: f"nora{n}@example.com")
    phone = "+1 510 555 0100"
    meeting_mode = Consultation.MeetingMode.VIDEO
    time_zone = "America/New_York"
    reason = "I feel far away from my children and I am exhausted."
    perinatal = Consultation.Perinatal.POSTPARTUM
    perinatal_months = 5
    prior_experience = Consultation.PriorExperience.NONE
    medications = "sertraline"
    consent_to_contact = True


class ReminderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reminder

    appointment = factory.SubFactory(AppointmentFactory)
    kind = "day_before"
    for_start = factory.LazyAttribute(lambda o: o.appointment.start)
    due_at = factory.LazyAttribute(lambda o: o.appointment.start - timedelta(hours=24))


class WaitlistEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WaitlistEntry

    name = "Ivy Waiting"
    email = factory.Sequence(lambda n: f"ivy{n}@example.com")
    time_zone = "America/Chicago"
