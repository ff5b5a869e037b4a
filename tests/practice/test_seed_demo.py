from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from kap_sessions.models import Course
from practice.models import Client, PracticeProfile, User

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_a_living_practice_and_prints_the_login():
    out = StringIO()

    call_command("seed_demo", stdout=out)

    assert "Therapist (admin): therapist@example.com / demo-therapist-2026" in out.getvalue()
    assert PracticeProfile.objects.get().practice_name == "Harbor Light Therapy"
    therapist = User.objects.get(email="therapist@example.com")
    assert therapist.is_staff is True
    assert therapist.check_password("demo-therapist-2026")
    phases = set(Course.objects.values_list("phase", flat=True))
    assert phases == set(Course.Phase.values)


def test_seed_demo_is_idempotent():
    call_command("seed_demo", stdout=StringIO())
    counts = (User.objects.count(), Client.objects.count(), Course.objects.count())

    call_command("seed_demo", stdout=StringIO())

    assert (User.objects.count(), Client.objects.count(), Course.objects.count()) == counts
