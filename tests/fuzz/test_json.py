"""The JSON endpoints not tested beside their forms: /healthz, and the vitals the
therapist's dosing page sends in place (the slots JSON is in test_consultation.py,
the in-place sign-up and the reader's data.json in test_newsletter.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import time_machine
from django.urls import reverse
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from kap_sessions.models import VitalSign
from tests.conftest import enrol_totp
from tests.factories import PracticeProfileFactory, StaffFactory
from tests.kap_sessions.factories_dosing import medicine_session

from .checks import assert_answered_calmly, assert_json, changes, row_counts
from .strategies import (
    NUL,
    any_value,
    examples,
    ids,
    last,
    numbers,
    query_strings,
    submissions,
    uuids,
)

pytestmark = pytest.mark.slow  # each test sends dozens to hundreds of requests

START = datetime(2027, 1, 5, 17, 0, tzinfo=UTC)  # 9:00 AM in Los Angeles
ON_THE_DAY = START + timedelta(minutes=90)
KEPT_KEY = "5f0c3d6e-9b1a-4c2e-8f47-0a1b2c3d4e5f"


class HealthTests(TestCase):
    @settings(max_examples=examples(0.3))
    @given(query=query_strings({"format": any_value(), "verbose": any_value()}))
    @example(query={"x": NUL})
    def test_healthz_answers_json_whatever_the_query(self, query):
        response = self.client.get("/healthz", query)

        body = assert_json(response, may_report_down=True)
        assert response.status_code in (200, 503)
        assert body["status"] == ("ok" if response.status_code == 200 else "down")
        assert set(body) >= {"database", "broker", "worker"}


VALID_ROW = {
    "form": "vital",
    "vital-entry_key": "0d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a",
    "vital-taken_at": "10:28",
    "vital-systolic": "124",
    "vital-diastolic": "80",
    "vital-heart_rate": "72",
    "vital-spo2": "98",
}
ROW_FIELDS = {
    "vital-entry_key": st.one_of(uuids(), st.just(KEPT_KEY)),
    "vital-taken_at": st.one_of(
        st.times().map(lambda moment: moment.strftime("%H:%M")),
        st.sampled_from(["24:00", "9:5", "10:28 PM", "10.28", "1028", "-1:00", "10:28\x00"]),
        any_value(),
    ),
    "vital-systolic": numbers(0, 400),
    "vital-diastolic": numbers(0, 300),
    "vital-heart_rate": numbers(0, 300),
    "vital-spo2": numbers(0, 120),
}


@time_machine.travel(ON_THE_DAY, tick=False)
class VitalsTests(TestCase):
    """The therapist's vitals row, sent by dosing.js: stored once, or its errors in JSON."""

    @classmethod
    def setUpTestData(cls) -> None:
        PracticeProfileFactory()
        cls.lena = StaffFactory(email="lena@harborlight.example", first_name="Lena")
        enrol_totp(cls.lena)
        cls.record = medicine_session(start=START, started_at=START + timedelta(minutes=5))
        VitalSign.objects.create(
            record=cls.record,
            entry_key=uuid.UUID(KEPT_KEY),
            taken_at=START + timedelta(minutes=15),
            recorded_at=START + timedelta(minutes=15),
            systolic=120,
        )

    def setup_example(self) -> None:
        super().setup_example()
        self.client.force_login(self.lena)

    @settings(max_examples=examples(1.5))
    @given(post=submissions(VALID_ROW, ROW_FIELDS))
    @example(post=VALID_ROW)
    @example(post={**VALID_ROW, "vital-entry_key": KEPT_KEY})
    @example(post={**VALID_ROW, "vital-systolic": "124" + NUL})
    def test_a_row_of_vitals_is_stored_once_or_answered_with_its_errors(self, post):
        before = row_counts((VitalSign,))

        response = self.client.post(
            reverse("admin:kap_sessions_dosingrecord_vitals", args=[self.record.pk]), post
        )

        body = assert_json(response)
        made = changes(before, row_counts((VitalSign,)))
        if response.status_code == 200:
            assert body["ok"] is True
            stored = VitalSign.objects.get(entry_key=body["row"]["entry_key"])
            again = str(stored.entry_key) == KEPT_KEY
            assert made == ({} if again else {"kap_sessions.VitalSign": 1})
            assert str(stored.entry_key) == str(uuid.UUID(last(post["vital-entry_key"]).strip()))
        else:
            assert response.status_code == 400
            assert body["ok"] is False
            assert body["errors"]
            assert made == {}

    @settings(max_examples=examples(0.5))
    @given(record=st.one_of(ids().map(str), any_value()))
    @example(record="1" + NUL)
    def test_vitals_for_a_record_that_is_not_there_store_nothing(self, record):
        before = row_counts((VitalSign,))

        response = self.client.post(
            f"/admin/kap_sessions/dosingrecord/{quote(record, safe='')}/vitals/", VALID_ROW
        )

        assert_answered_calmly(response)
        assert changes(before, row_counts((VitalSign,))) == {}
        if record != str(self.record.pk):
            assert response.status_code in (302, 404)
