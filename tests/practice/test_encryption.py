"""Clinical text is stored as ciphertext, read back as text, and never opened by a wrong key."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import connection

from consultations.models import Consultation
from practice.encryption import UnreadableCiphertext, decrypt, encrypt, rotate_token
from tests.consultations.factories import ConsultationFactory

pytestmark = pytest.mark.django_db


def stored(consultation: Consultation, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM consultations_consultation WHERE id = %s",  # noqa: S608
            [consultation.pk],
        )
        return cursor.fetchone()[0]


def test_intake_answers_are_ciphertext_in_the_database():
    consultation = ConsultationFactory(
        reason="I cry every evening after bedtime.", medications="sertraline 50 mg"
    )
    for column, text in (
        ("reason", "I cry every evening"),
        ("medications", "sertraline"),
    ):
        raw = stored(consultation, column)
        assert text not in raw
        assert raw.startswith("gAAAAA")  # a Fernet token
    fresh = Consultation.objects.get(pk=consultation.pk)
    assert (fresh.reason, fresh.medications) == (
        "I cry every evening after bedtime.",
        "sertraline 50 mg",
    )


def test_an_empty_answer_stays_empty_and_can_be_filtered():
    consultation = ConsultationFactory(medications="", call_notes="")
    assert stored(consultation, "medications") == ""
    assert list(Consultation.objects.filter(medications="")) == [consultation]


def test_comparing_ciphertext_with_text_is_refused():
    ConsultationFactory(medications="sertraline")
    with pytest.raises(FieldError):
        list(Consultation.objects.filter(medications="sertraline"))
    with pytest.raises(FieldError):
        list(Consultation.objects.filter(medications__icontains="sert"))


def test_the_same_text_is_stored_differently_each_time():
    first = ConsultationFactory(reason="Same words.")
    second = ConsultationFactory(
        reason="Same words.", appointment__start=first.appointment.start + timedelta(days=1)
    )
    assert stored(first, "reason") != stored(second, "reason")


def test_a_new_key_in_front_still_reads_the_old_rows_and_rotation_moves_them(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    consultation = ConsultationFactory(reason="Written under the old key.")
    token = stored(consultation, "reason")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert Consultation.objects.get(pk=consultation.pk).reason == "Written under the old key."
    rotated = rotate_token(token)
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert decrypt(rotated) == "Written under the old key."
    with pytest.raises(UnreadableCiphertext):
        decrypt(token)


def test_a_wrong_key_is_an_error_that_does_not_repeat_the_ciphertext(settings):
    consultation = ConsultationFactory(reason="Private words.")
    token = stored(consultation, "reason")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(UnreadableCiphertext) as error:
        Consultation.objects.get(pk=consultation.pk)
    assert token not in str(error.value)
    assert "Private" not in str(error.value)


def test_a_malformed_key_names_the_setting(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        encrypt("text")
