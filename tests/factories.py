from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from kap_sessions.models import Course
from practice.models import (
    Appointment,
    AppointmentKind,
    Client,
    ClientDocument,
    ClientInvitation,
    OutboxMessage,
    PracticeProfile,
    User,
    WeeklyHours,
)

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    first_name = "Jordan"
    last_name = factory.Sequence(lambda n: f"Client{n}")
    email = factory.Sequence(lambda n: f"client{n}@example.com")


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ClientInvitationFactory(factory.django.DjangoModelFactory):
    """An outstanding invitation, sent now, valid for a week."""

    class Meta:
        model = ClientInvitation

    client = factory.SubFactory(ClientFactory)
    token_hash = factory.Sequence(lambda n: sha256_of(f"invitation-token-{n}"))
    created_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.created_at + timedelta(days=7))


class ClientDocumentFactory(factory.django.DjangoModelFactory):
    """A stored PDF's record (no bytes: the private storage is not involved)."""

    class Meta:
        model = ClientDocument

    client = factory.SubFactory(ClientFactory)
    kind = ClientDocument.Kind.SIGNED_CONSENT
    title = "Signed consent"
    storage_name = factory.Sequence(lambda n: f"clients/documents/{n:06d}.pdf")
    sha256 = factory.Sequence(lambda n: sha256_of(f"document-{n}"))
    size = 48_213
    content_type = ClientDocument.ContentType.PDF
    visible_to_client = True


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    client = factory.SubFactory(ClientFactory)


class PracticeProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PracticeProfile
        django_get_or_create = ("id",)

    id = 1
    practice_name = "Harbor Light Therapy"
    therapist_name = "Lena Marsh"
    therapist_credentials = "LMFT"
    license_number = "LMFT 118204"
    street_address = "2150 Shattuck Avenue, Suite 310"
    locality = "Berkeley"
    region = "CA"
    postal_code = "94704"
    phone = "(510) 555-0142"
    email = "hello@harborlight.example"
    time_zone = "America/Los_Angeles"


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


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    """An outgoing email row as a service writes it (no kind needs to exist for the admin)."""

    class Meta:
        model = OutboxMessage

    kind = "consultation.booked"
    idempotency_key = factory.Sequence(lambda n: f"test:{n}")
    recipient = factory.Sequence(lambda n: f"reader{n}@example.com")
