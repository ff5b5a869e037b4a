"""Every form's address under a body no browser sends: raw bytes, broken encodings and
multipart, JSON, too many fields, too much data, forged CSRF tokens, and tampered cookies.

A form's own fields are fuzzed in the other files; here what is broken is the
request around them. The rule is the same: a calm answer, never a 500, and
no row written.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client as BrowserClient
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from consultations.links import manage_link_issue
from consultations.models import Consultation, ManageLink, WaitlistEntry
from kap_sessions.models import ConsentDocument, ConsentKind, ConsentSignature, Intake
from newsletter.models import Subscriber
from newsletter.tokens import confirm_token, reader_token
from practice.models import Appointment, Client, OutboxMessage, User
from tests.consultations.factories import ConsultationFactory
from tests.factories import (
    AppointmentFactory,
    ClientFactory,
    ClientInvitationFactory,
    PracticeProfileFactory,
    UserFactory,
    sha256_of,
)
from tests.kap_sessions.factories import ScreeningAssignmentFactory
from tests.newsletter.factories import SubscriberFactory
from tests.support.calendar import FIRST_SLOT, NOW, open_weekdays

from .checks import assert_answered_calmly, changes, row_counts
from .strategies import NUL, examples

pytestmark = pytest.mark.slow  # each test sends dozens to hundreds of requests

TABLES = (
    Consultation,
    Appointment,
    ManageLink,
    WaitlistEntry,
    OutboxMessage,
    Subscriber,
    User,
    Client,
    Intake,
    ConsentSignature,
)
INVITATION = "invitation-token-for-grace-0123456789"
# How many addresses TransportTests posts to (its public and portal lists).
ADDRESSES = 15

CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/x-www-form-urlencoded; charset=no-such-charset",
    "multipart/form-data; boundary=BoUnDaRy",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "application/json",
    "text/plain",
    "",
]


def _multipart(parts: list[tuple[str, bytes]]) -> bytes:
    body = b""
    for name, value in parts:
        body += (
            b'--BoUnDaRy\r\nContent-Disposition: form-data; name="' + name.encode() + b'"\r\n\r\n'
        )
        body += value + b"\r\n"
    return body + b"--BoUnDaRy--\r\n"


BODIES = st.one_of(
    st.binary(max_size=2000),
    st.lists(
        st.sampled_from([b"%", b"%F", b"%FF", b"%00", b"&", b"=", b"+", b"a", b"\xff", b";"]),
        max_size=40,
    ).map(b"".join),
    st.sampled_from(
        [
            b'{"email": "nora@example.com", "first_name": "Nora"}',
            b"[1, 2, 3]",
            b"email=nora%40example.com&email=%00&" + b"x=1&" * 1200,
            b"section=medical&action=continue&" + b"a" * 3_000_000,
            b'--BoUnDaRy\r\nContent-Disposition: form-data; name="email"\r\n\r\nunterminated',
            b'--BoUnDaRy\r\nContent-Disposition: form-data; name="\x00"\r\n\r\nx\r\n--BoUnDaRy--',
            b'--BoUnDaRy\r\nContent-Disposition: form-data; name="f"; filename="../../x"\r\n'
            b"Content-Type: text/plain\r\n\r\nfile\r\n--BoUnDaRy--\r\n",
            "email=ünïcødé@example.com".encode("utf-16"),
        ]
    ),
    st.lists(
        st.tuples(
            st.sampled_from(["email", "first_name", "start", "section", "code"]),
            st.binary(max_size=40),
        ),
        max_size=5,
    ).map(_multipart),
)


# What a Cookie header can carry: printable ASCII, and quoted values whose
# backslash escapes Django's cookie parser turns into any byte, NUL included.
COOKIE_VALUES = st.one_of(
    st.text(
        st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=";,"),
        max_size=60,
    ),
    st.lists(
        st.sampled_from(["\\000", "\\377", "\\012", "\\", '\\"', "a", "7", " "]), max_size=20
    ).map(lambda parts: '"' + "".join(parts) + '"'),
)
COOKIE_NAMES = ["sessionid", "csrftoken", "messages", "django_language", "sessionid "]


@time_machine.travel(NOW, tick=False)
class TransportTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        PracticeProfileFactory()
        open_weekdays()
        booking = ConsultationFactory(
            appointment=AppointmentFactory(start=FIRST_SLOT + timedelta(days=1))
        )
        manage = manage_link_issue(consultation=booking)
        reader = SubscriberFactory(email="nora@example.com", confirmed=True)
        waiting = SubscriberFactory(email="ada@example.com")
        cls.amara = UserFactory(email="amara@example.com", first_name="Amara", last_name="Okafor")
        amara = ClientFactory(
            user=cls.amara, email=cls.amara.email, first_name="Amara", last_name="Okafor"
        )
        ScreeningAssignmentFactory(client=amara, instrument="phq-9")
        grace = ClientFactory(first_name="Grace", last_name="Holloway", email="grace@example.com")
        ClientInvitationFactory(client=grace, token_hash=sha256_of(INVITATION))
        consent = ConsentDocument.objects.current().get(kind=ConsentKind.KAP_INFORMED_CONSENT)
        cls.public = [
            "/consultation/",
            "/consultation/waitlist/",
            f"/consultation/manage/{manage}/reschedule/",
            f"/consultation/manage/{manage}/cancel/",
            "/newsletter/",
            f"/newsletter/confirm/{confirm_token(waiting)}/",
            f"/newsletter/unsubscribe/{reader_token(reader)}/",
            "/accounts/login/",
            "/accounts/password/reset/",
            f"/accounts/welcome/{INVITATION}/",
        ]
        cls.portal = [
            "/portal/intake/",
            "/portal/questionnaires/phq-9/",
            f"/portal/consents/{consent.pk}/",
            "/portal/profile/",
            "/accounts/logout/",
        ]

    @settings(max_examples=examples(2))
    @given(
        which=st.integers(min_value=0, max_value=ADDRESSES - 1),
        content_type=st.sampled_from(CONTENT_TYPES),
        body=BODIES,
    )
    @example(which=0, content_type=CONTENT_TYPES[0], body=b"x=1&" * 1200)
    @example(which=10, content_type=CONTENT_TYPES[0], body=b"section=medical&" + b"a" * 3_000_000)
    @example(which=4, content_type=CONTENT_TYPES[2], body=b"email=nora%40example.com")
    def test_a_body_no_browser_sends_gets_a_calm_answer_and_writes_nothing(
        self, which, content_type, body
    ):
        addresses = self.public + self.portal
        path = addresses[which]
        if path in self.portal:
            self.client.force_login(self.amara)
        before = row_counts(TABLES)

        response = self.client.generic("POST", path, body, content_type=content_type)

        assert_answered_calmly(response)
        made = changes(before, row_counts(TABLES))
        if path.endswith("/cancel/") and response.status_code == 302:
            # Its one field is optional: any body that parses is "Yes, cancel".
            assert made == {"practice.OutboxMessage": 2}
        else:
            assert made == {}

    @settings(max_examples=examples(1))
    @given(
        which=st.integers(min_value=0, max_value=ADDRESSES - 1),
        name=st.sampled_from(COOKIE_NAMES),
        value=COOKIE_VALUES,
        signed_in=st.booleans(),
        method=st.sampled_from(["get", "post"]),
    )
    @example(which=0, name="sessionid", value='"abcdefgh\\000"', signed_in=False, method="get")
    def test_a_tampered_cookie_gets_a_calm_answer_and_writes_nothing(
        self, which, name, value, signed_in, method
    ):
        path = (self.public + self.portal)[which]
        if signed_in:
            self.client.force_login(self.amara)
        before = row_counts(TABLES)

        response = getattr(self.client, method)(
            path,
            **({"data": {"email": "nora@example.com"}} if method == "post" else {}),
            HTTP_COOKIE=f"{name}={value}",
        )

        assert_answered_calmly(response)
        made = changes(before, row_counts(TABLES))
        if path.endswith("/cancel/") and method == "post" and response.status_code == 302:
            assert made == {"practice.OutboxMessage": 2}
        else:
            assert made == {}
        if name == "sessionid" and path in self.portal[:4]:
            # Her own session cookie replaced: she is no longer signed in.
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/")

    @settings(max_examples=examples(1))
    @given(
        which=st.integers(min_value=0, max_value=ADDRESSES - 1),
        token=st.one_of(
            st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=80),
            st.just("x" * 64 + NUL),
        ),
        cookie=st.one_of(
            st.none(), st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=80)
        ),
    )
    @example(which=0, token="", cookie=None)
    def test_a_forged_csrf_token_is_refused_calmly_and_writes_nothing(self, which, token, cookie):
        addresses = self.public + self.portal
        path = addresses[which]
        browser = BrowserClient(enforce_csrf_checks=True)
        if path in self.portal:
            browser.force_login(self.amara)
        if cookie is not None:
            browser.cookies["csrftoken"] = cookie
        before = row_counts(TABLES)

        response = browser.post(path, {"csrfmiddlewaretoken": token, "email": "nora@example.com"})

        assert_answered_calmly(response)
        assert changes(before, row_counts(TABLES)) == {}
        if "/newsletter/unsubscribe/" in path:
            # One-click unsubscribe takes no CSRF token (RFC 8058): the signed link decides.
            assert response.status_code == 200
        else:
            assert response.status_code == 403
            assert "<main" in response.content.decode()
