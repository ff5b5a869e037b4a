"""Factories of the consultation funnel (the calendar's are in tests/factories.py)."""

from __future__ import annotations

import uuid

import factory

from consultations.models import Consultation, WaitlistEntry
from practice.models import MeetingMode
from tests.factories import AppointmentFactory


class ConsultationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consultation

    appointment = factory.SubFactory(AppointmentFactory, mode=MeetingMode.VIDEO)
    submission_id = factory.LazyFunction(uuid.uuid4)
    first_name = "Nora"
    last_name = factory.Sequence(lambda n: f"Booker{n}")
    email = factory.Sequence(lambda n: f"nora{n}@example.com")
    phone = "+1 510 555 0100"
    time_zone = "America/New_York"
    reason = "I feel far away from my children and I am exhausted."
    perinatal = Consultation.Perinatal.POSTPARTUM
    perinatal_months = 5
    prior_experience = Consultation.PriorExperience.NONE
    medications = "sertraline"
    consent_to_contact = True


class WaitlistEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WaitlistEntry

    name = "Ivy Waiting"
    email = factory.Sequence(lambda n: f"ivy{n}@example.com")
    time_zone = "America/Chicago"
