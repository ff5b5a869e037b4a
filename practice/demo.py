"""Demo data for the core: the practice's identity, the therapist, clients.

Every app has a ``demo.py`` with ``seed(*, stdout)``; ``manage.py seed_demo``
runs them all in app order. Each seed is idempotent: it looks rows up by a
natural key and creates only what is missing.
"""

from __future__ import annotations

from typing import TextIO

from allauth.account.models import EmailAddress
from django.conf import settings

from .models import Client, PracticeProfile, User

THERAPIST_EMAIL = "therapist@example.com"
THERAPIST_PASSWORD = "demo-therapist-2026"  # noqa: S105  (demo only; printed to the terminal)
CLIENT_PASSWORD = "demo-client-2026"  # noqa: S105

DEMO_CLIENTS = [
    # (first, last, email); their course phases are seeded by kap_sessions.
    ("Amara", "Okafor", "amara.okafor@example.com"),
    ("Beth", "Lindqvist", "beth.lindqvist@example.com"),
    ("Carmen", "Reyes", "carmen.reyes@example.com"),
    ("Dana", "Whitfield", "dana.whitfield@example.com"),
    ("Esther", "Nakamura", "esther.nakamura@example.com"),
]


def _verified_user(email: str, password: str, **fields: object) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, **fields)
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def seed(*, stdout: TextIO) -> None:
    if not PracticeProfile.objects.exists():
        PracticeProfile.objects.create(
            practice_name="Harbor Light Therapy",
            tagline="Ketamine-assisted psychotherapy for mothers in the East Bay",
            therapist_name="Lena Marsh",
            therapist_credentials="LMFT",
            therapist_bio=(
                "I am a licensed marriage and family therapist who has spent more than a "
                "decade with mothers in the perinatal years.\n\n"
                "Before training in ketamine-assisted psychotherapy I worked on a maternal "
                "mental health team, and I still hold a weekly group for new parents. I live "
                "in Oakland with my partner and two children."
            ),
            license_number="LMFT 118204",
            street_address="2150 Shattuck Avenue, Suite 310",
            locality="Berkeley",
            region="CA",
            postal_code="94704",
            phone="(510) 555-0142",
            email="hello@harborlight.example",
            time_zone=settings.PRACTICE_TIME_ZONE,
        )
    therapist = _verified_user(
        THERAPIST_EMAIL,
        THERAPIST_PASSWORD,
        first_name="Lena",
        last_name="Marsh",
        is_staff=True,
        is_superuser=True,
    )
    for first, last, email in DEMO_CLIENTS:
        user = _verified_user(email, CLIENT_PASSWORD, first_name=first, last_name=last)
        Client.objects.get_or_create(
            email=email,
            defaults={"first_name": first, "last_name": last, "user": user},
        )
    stdout.write(f"  Therapist (admin): {therapist.email} / {THERAPIST_PASSWORD}\n")
