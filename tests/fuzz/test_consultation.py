"""The free-consultation funnel under bad input: booking, its manage link, the waitlist, slots.

Every example starts from the same calendar (Monday to Friday in Los
Angeles, "now" frozen on Monday 4 January 2027), one consultation already
booked by someone else and one of hers, each rolled back after the example.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import quote

import pytest
import time_machine
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from consultations.links import manage_link_issue
from consultations.models import Consultation, ManageLink, WaitlistEntry
from practice.models import Appointment, OutboxMessage
from tests.consultations.factories import ConsultationFactory, WaitlistEntryFactory
from tests.factories import AppointmentFactory, PracticeProfileFactory
from tests.support.booking import FULL_ANSWERS
from tests.support.calendar import FIRST_SLOT, NOW, open_weekdays

from .checks import (
    assert_answered_calmly,
    assert_json,
    assert_shows_what_she_typed,
    changes,
    row_counts,
)
from .strategies import (
    NUL,
    altered_tokens,
    any_value,
    boxes,
    choices,
    dates,
    emails,
    examples,
    free_text,
    last,
    numbers,
    phones,
    query_strings,
    starts,
    submissions,
    uuids,
    zones,
)

pytestmark = pytest.mark.slow  # each test sends dozens to hundreds of requests

# Tuesday 5 January in Los Angeles, every half hour from 9:00; 10:00 is taken.
OFFERED = [FIRST_SLOT + timedelta(minutes=30 * step) for step in range(16) if step != 2]
TAKEN = FIRST_SLOT + timedelta(hours=1)
EARLIER_SUBMISSION = uuid.UUID("7d1e4c1a-0000-4000-8000-000000000001")
# Her own booking, on Wednesday at 9:00 in Los Angeles.
HERS = FIRST_SLOT + timedelta(days=1)

TABLES = (Consultation, Appointment, ManageLink, OutboxMessage, WaitlistEntry)

VALID_BOOKING = {
    "start": FIRST_SLOT.isoformat(),
    "submission_id": "0b7f4a52-5d0e-4b8e-9d3c-2f6f8f1f0a11",
    **FULL_ANSWERS,
}
BOOKING_FIELDS = {
    "start": starts(OFFERED + [TAKEN]),
    "submission_id": st.one_of(uuids(), st.just(str(EARLIER_SUBMISSION))),
    "time_zone": zones(),
    "first_name": free_text(),
    "last_name": free_text(),
    "email": emails(),
    "phone": phones(),
    "preferred_contact": choices(["email", "phone", "text"]),
    # In person is a mode of the calendar, not of a free consultation.
    "meeting_mode": choices(["video", "phone", "in_person"]),
    "reason": free_text(),
    "perinatal": choices(["pregnant", "postpartum", "neither"]),
    "perinatal_months": numbers(),
    "children_ages": free_text(),
    "prior_experience": choices(["none", "micro", "psychedelic", "both", "prefer_not"]),
    "medications": free_text(),
    "heard_from": choices(["search", "friend", "provider", "social", "article", "other", ""]),
    "consent_to_contact": boxes(),
    "website": st.one_of(st.just(""), any_value()),
}
# A booking: the consultation, its calendar appointment, its manage link, and
# four emails in the outbox: her confirmation, the therapist's notice and the
# two reminders before the call.
BOOKED = {
    "consultations.Consultation": 1,
    "practice.Appointment": 1,
    "consultations.ManageLink": 1,
    "practice.OutboxMessage": 4,
}

WAITLIST = "consultations.WaitlistEntry"
# A move: the new appointment (the old one stays, marked moved), her updated
# invitation and the therapist's notice (the new time's two reminders replace
# the old time's unsent two).
RESCHEDULED = {"practice.Appointment": 1, "practice.OutboxMessage": 2}
# A cancel: her cancellation and the therapist's notice.
CANCELLED = {"practice.OutboxMessage": 2}


@time_machine.travel(NOW, tick=False)
class BookingTests(TestCase):
    """/consultation/: the booking form, the page's query string and the slots JSON."""

    @classmethod
    def setUpTestData(cls) -> None:
        PracticeProfileFactory()
        open_weekdays()
        ConsultationFactory(
            appointment=AppointmentFactory(start=TAKEN), submission_id=EARLIER_SUBMISSION
        )

    @settings(max_examples=examples(3))
    @given(post=submissions(VALID_BOOKING, BOOKING_FIELDS))
    @example(post=VALID_BOOKING)
    @example(post={**VALID_BOOKING, "first_name": "Nora" + NUL})
    @example(post={**VALID_BOOKING, "start": TAKEN.isoformat()})
    @example(post={**VALID_BOOKING, "submission_id": str(EARLIER_SUBMISSION)})
    @example(post={**VALID_BOOKING, "start": "0001-01-01T00:30:00+01:00"})
    def test_a_booking_post_books_once_or_comes_back_with_what_she_typed(self, post):
        before = row_counts(TABLES)

        response = self.client.post("/consultation/", post)

        assert_answered_calmly(response)
        made = changes(before, row_counts(TABLES))
        if last(post.get("website")):
            assert made == {}
        elif response.status_code == 302 and _is_earlier(post.get("submission_id")):
            assert made == {"consultations.ManageLink": 1}
        elif response.status_code == 302:
            assert response["Location"] == "/consultation/booked/"
            assert made == BOOKED
            booked = Consultation.objects.order_by("-pk").first()
            for name in ("first_name", "last_name", "reason", "medications"):
                assert getattr(booked, name) == (last(post.get(name)) or "").strip(), name
        else:
            assert made == {}
            assert response.status_code in (400, 409)
            assert "Something needs a second look" in response.content.decode()
            assert_shows_what_she_typed(response, "/consultation/", post)


VALID_WAITLIST = {
    "waitlist-name": "Ivy Waiting",
    "waitlist-email": "ivy@example.com",
    "waitlist-preferred_times": "weekday evenings",
    "waitlist-time_zone": "America/Chicago",
    "waitlist-website": "",
}
ALREADY_WAITING = "wren@example.com"
WAITLIST_FIELDS = {
    "waitlist-name": free_text(),
    "waitlist-email": st.one_of(emails(), st.just(ALREADY_WAITING.upper())),
    "waitlist-preferred_times": free_text(),
    "waitlist-time_zone": zones(),
    "waitlist-website": st.one_of(st.just(""), any_value()),
}


@time_machine.travel(NOW, tick=False)
class WaitlistTests(TestCase):
    """/consultation/waitlist/: her name and address, kept once per address."""

    @classmethod
    def setUpTestData(cls) -> None:
        PracticeProfileFactory()
        open_weekdays()
        WaitlistEntryFactory(email=ALREADY_WAITING)

    @settings(max_examples=examples(1))
    @given(post=submissions(VALID_WAITLIST, WAITLIST_FIELDS))
    @example(post=VALID_WAITLIST)
    @example(post={**VALID_WAITLIST, "waitlist-preferred_times": "evenings" + NUL})
    def test_joining_the_waitlist_adds_one_entry_or_comes_back_with_what_she_typed(self, post):
        before = row_counts(TABLES)

        response = self.client.post("/consultation/waitlist/", post)

        assert_answered_calmly(response)
        made = changes(before, row_counts(TABLES))
        html = response.content.decode()
        if response.status_code == 200:
            assert "on the waitlist" in html
            email = (last(post.get("waitlist-email")) or "").strip().lower()
            bot = bool(last(post.get("waitlist-website")))
            assert made == ({} if bot or email == ALREADY_WAITING else {WAITLIST: 1})
        else:
            assert response.status_code == 400
            assert made == {}
            assert "Something needs a second look" in html
            assert_shows_what_she_typed(response, "/consultation/waitlist/", post)


@time_machine.travel(NOW, tick=False)
class SlotsTests(TestCase):
    """The slots JSON and the booking page's query string (its zone and its first day)."""

    @classmethod
    def setUpTestData(cls) -> None:
        PracticeProfileFactory()
        open_weekdays()
        ConsultationFactory(appointment=AppointmentFactory(start=TAKEN))

    @settings(max_examples=examples(2))
    @given(query=query_strings({"tz": zones()}))
    @example(query={"tz": "America/New_York"})
    @example(query={"tz": "America/New_York" + NUL})
    @example(query={"tz": ["Asia/Tokyo", "Mars/Olympus"]})
    def test_the_slots_json_answers_json_for_any_zone(self, query):
        response = self.client.get("/consultation/slots.json", query)

        body = assert_json(response)
        if response.status_code == 200:
            assert body["slots"][:2] == [OFFERED[0].isoformat(), OFFERED[1].isoformat()]
            assert TAKEN.isoformat() not in body["slots"]
            assert body["timezone"] == (last(query.get("tz")) or "America/Los_Angeles")
        else:
            assert response.status_code == 400
            assert body == {
                "error": "Unknown time zone. Use an IANA name such as America/New_York."
            }

    @settings(max_examples=examples(1))
    @given(query=query_strings({"tz": zones(), "from": dates()}))
    @example(query={"tz": "Asia/Tokyo", "from": "2027-01-06"})
    @example(query={"from": "2027-02-30"})
    @example(query={"from": "9999-12-31"})
    def test_the_booking_page_shows_times_for_any_query(self, query):
        response = self.client.get("/consultation/", query)

        assert_answered_calmly(response)
        assert response.status_code == 200
        assert 'name="start"' in response.content.decode()


VALID_RESCHEDULE = {"start": OFFERED[4].isoformat()}
VALID_CANCEL = {"reason": "My baby is unwell this week."}


@time_machine.travel(NOW, tick=False)
class ManageTests(TestCase):
    """Her manage link: the page, its reschedule and cancel steps, and altered links."""

    @classmethod
    def setUpTestData(cls) -> None:
        PracticeProfileFactory()
        open_weekdays()
        ConsultationFactory(appointment=AppointmentFactory(start=TAKEN))
        cls.hers = ConsultationFactory(appointment=AppointmentFactory(start=HERS))
        cls.token = manage_link_issue(consultation=cls.hers)
        someone = ConsultationFactory(
            appointment=AppointmentFactory(start=HERS + timedelta(hours=1))
        )
        cls.someone_elses = manage_link_issue(consultation=someone)

    def _url(self, step: str = "") -> str:
        return f"/consultation/manage/{self.token}/{step}"

    @settings(max_examples=examples(1.5))
    @given(post=submissions(VALID_RESCHEDULE, {"start": starts(OFFERED + [TAKEN, HERS])}))
    @example(post=VALID_RESCHEDULE)
    @example(post={"start": HERS.isoformat()})
    @example(post={"start": TAKEN.isoformat()})
    @example(post={"start": OFFERED[4].isoformat() + NUL})
    @example(post={"start": "9999-12-31T23:30:00-01:00"})
    def test_a_reschedule_moves_her_call_once_or_comes_back_with_her_choice(self, post):
        before = row_counts(TABLES)

        response = self.client.post(self._url("reschedule/"), post)

        assert_answered_calmly(response)
        made = changes(before, row_counts(TABLES))
        appointment = Consultation.objects.get(pk=self.hers.pk).appointment
        if response.status_code == 302:
            assert response["Location"] == self._url()
            if appointment.start == HERS:
                assert made == {}
            else:
                assert made == RESCHEDULED
                assert appointment.start.isoformat() in {slot.isoformat() for slot in OFFERED}
        else:
            assert response.status_code in (400, 409)
            assert made == {}
            assert appointment.start == HERS
            assert "Something needs a second look" in response.content.decode()
            assert_shows_what_she_typed(response, self._url("reschedule/"), post)

    @settings(max_examples=examples(1))
    @given(post=submissions(VALID_CANCEL, {"reason": free_text()}))
    @example(post=VALID_CANCEL)
    @example(post={"reason": "x" * 1001})
    @example(post={"reason": "Unwell" + NUL})
    def test_a_cancel_cancels_once_or_comes_back_with_her_reason(self, post):
        before = row_counts(TABLES)

        response = self.client.post(self._url("cancel/"), post)

        assert_answered_calmly(response)
        made = changes(before, row_counts(TABLES))
        appointment = Consultation.objects.get(pk=self.hers.pk).appointment
        if response.status_code == 302:
            assert appointment.status == Appointment.Status.CANCELLED
            assert made == CANCELLED
        else:
            assert response.status_code == 400
            assert made == {}
            assert appointment.status == Appointment.Status.BOOKED
            assert_shows_what_she_typed(response, self._url("cancel/"), post)

    @settings(max_examples=examples(1.5))
    @given(
        token=st.data(),
        step=st.sampled_from(["", "reschedule/", "cancel/"]),
        method=st.sampled_from(["get", "post", "head"]),
    )
    def test_an_altered_manage_link_opens_nothing_and_changes_nothing(self, token, step, method):
        altered = token.draw(altered_tokens(self.token, others=[self.someone_elses]))
        before = row_counts(TABLES)

        response = getattr(self.client, method)(
            f"/consultation/manage/{quote(altered, safe='')}/{step}",
            *([{"start": OFFERED[4].isoformat()}] if method == "post" else []),
        )

        if method == "head":
            assert response.status_code < 500
        else:
            assert_answered_calmly(response)
        if altered in (self.token, self.someone_elses):
            return
        assert changes(before, row_counts(TABLES)) == {}
        assert response.status_code == 404


def _is_earlier(submission: object) -> bool:
    try:
        return uuid.UUID(str(last(submission))) == EARLIER_SUBMISSION  # type: ignore[arg-type]
    except ValueError:
        return False
