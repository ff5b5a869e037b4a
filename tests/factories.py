from __future__ import annotations

import factory
from allauth.account.models import EmailAddress

from kap_sessions.models import Course
from practice.models import Client, PracticeProfile, User

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
    licence_number = "LMFT 118204"
    street_address = "2150 Shattuck Avenue, Suite 310"
    locality = "Berkeley"
    region = "CA"
    postal_code = "94704"
    phone = "(510) 555-0142"
    email = "hello@harborlight.example"
    time_zone = "America/Los_Angeles"
