"""Superbills and Good Faith Estimates: filled from the course, shared with her, kept as given.

Through the services (``kap_sessions.services.billing``) and the admin
(``kap_sessions/admin/billing.py``): a superbill gets a line per completed
session not billed yet, and the therapist enters each code and fee; an
estimate is shared once (her portal, one "a document is ready" email that
says nothing more) and is read-only from then on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kap_sessions.models import GoodFaithEstimate, Superbill, SuperbillLine
from kap_sessions.services import estimate_share, superbill_prefill_lines
from practice.discretion import discretion_words_in
from practice.models import Appointment, AppointmentKind, AuditEvent, Client, OutboxMessage
from practice.outbox.services import outbox_send_due
from tests.factories import ClientFactory
from tests.kap_sessions.factories_documents import (
    FIRST_DAY,
    EstimateLineFactory,
    GoodFaithEstimateFactory,
    SuperbillFactory,
    SuperbillLineFactory,
    completed_course,
    session_on,
)

pytestmark = pytest.mark.django_db

SHARED_AT = datetime(2027, 2, 20, 18, 30, tzinfo=UTC)


@pytest.fixture
def amara(client_user) -> Client:  # type: ignore[no-untyped-def]
    return client_user.client


def lines_of(superbill: Superbill) -> list[tuple[Any, ...]]:
    return list(
        superbill.lines.order_by("service_date", "id").values_list(
            "service_date", "description", "code", "fee", "units"
        )
    )


# --- Superbill: a line per completed session -------------------------------------------------


def test_prefill_adds_a_line_per_completed_session_on_its_day(amara, therapist):
    course = completed_course(client=amara)
    # 11:30 PM in Los Angeles on March 20 is already March 21 in UTC.
    session_on(course, AppointmentKind.CHECK_IN, datetime(2027, 3, 21, 6, 30, tzinfo=UTC))
    session_on(
        course,
        AppointmentKind.INTEGRATION,
        FIRST_DAY + timedelta(days=25),
        status=Appointment.Status.CANCELLED,
    )
    session_on(course, AppointmentKind.INTEGRATION, FIRST_DAY + timedelta(days=26), status="booked")
    superbill = SuperbillFactory(client=amara, course=course)

    added = superbill_prefill_lines(superbill=superbill, actor=therapist)

    assert added == 4
    assert lines_of(superbill) == [
        (date(2027, 3, 2), "Preparation session, 50 min", "", Decimal("0.00"), 1),
        (date(2027, 3, 3), "Medicine session, 210 min", "", Decimal("0.00"), 1),
        (date(2027, 3, 4), "Integration session, 50 min", "", Decimal("0.00"), 1),
        (date(2027, 3, 20), "Check-in, 20 min", "", Decimal("0.00"), 1),
    ]
    assert all(line.appointment_id for line in superbill.lines.all())
    assert list(
        AuditEvent.objects.values_list(
            "action", "object_type", "object_id", "client_id", "actor_id"
        )
    ) == [
        (
            AuditEvent.Action.CHANGE,
            "kap_sessions.superbill",
            str(superbill.pk),
            amara.pk,
            therapist.pk,
        )
    ]


def test_prefill_adds_only_sessions_not_on_any_of_her_superbills(amara, therapist):
    course = completed_course(client=amara)
    march = SuperbillFactory(client=amara, course=course)
    superbill_prefill_lines(superbill=march, actor=therapist)

    again = superbill_prefill_lines(superbill=march, actor=therapist)
    session_on(course, AppointmentKind.INTEGRATION, FIRST_DAY + timedelta(days=30))
    april = SuperbillFactory(client=amara, course=course)
    added = superbill_prefill_lines(superbill=april, actor=therapist)

    assert again == 0
    assert added == 1
    assert [line[0] for line in lines_of(april)] == [date(2027, 4, 1)]
    assert march.lines.count() == 3
    assert AuditEvent.objects.count() == 2  # nothing added, nothing audited


def test_prefill_needs_the_superbill_s_course(amara, therapist):
    superbill = SuperbillFactory(client=amara, course=None)

    with pytest.raises(ValidationError, match="Choose her course first"):
        superbill_prefill_lines(superbill=superbill, actor=therapist)

    assert SuperbillLine.objects.count() == 0


def test_the_prefill_button_adds_the_lines_and_says_what_to_do_next(admin_client_mfa, amara):
    course = completed_course(client=amara)
    superbill = SuperbillFactory(client=amara, course=course)
    change_url = reverse("admin:kap_sessions_superbill_change", args=[superbill.pk])
    prefill_url = reverse("admin:kap_sessions_superbill_prefill", args=[superbill.pk])

    page = admin_client_mfa.get(change_url).content.decode()
    response = admin_client_mfa.post(prefill_url, follow=True)

    assert f'action="{prefill_url}"' in page
    assert f'href="/workspace/documents/superbill/{superbill.pk}/"' in page
    assert response.redirect_chain == [(change_url, 302)]
    assert superbill.lines.count() == 3
    assert "3 session(s) added. Enter each line" in response.content.decode()


def test_the_prefill_button_is_not_offered_without_a_course(admin_client_mfa, amara):
    superbill = SuperbillFactory(client=amara, course=None)

    page = admin_client_mfa.get(
        reverse("admin:kap_sessions_superbill_change", args=[superbill.pk])
    ).content.decode()

    assert "/prefill/" not in page
    assert "Download the PDF" in page


def test_a_get_of_the_prefill_url_adds_nothing(admin_client_mfa, amara):
    superbill = SuperbillFactory(client=amara, course=completed_course(client=amara))

    response = admin_client_mfa.get(
        reverse("admin:kap_sessions_superbill_prefill", args=[superbill.pk])
    )

    assert response.status_code == 302
    assert superbill.lines.count() == 0


def superbill_form(
    superbill: Superbill, lines: list[dict[str, str]], **fields: str
) -> dict[str, str]:
    existing = list(superbill.lines.all())
    data = {
        "client": str(superbill.client_id),
        "course": str(superbill.course_id or ""),
        "issued_on": "2027-04-15",
        "diagnosis_codes": "F53.0",
        "visible_to_client": "on",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": str(len(existing)),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for index, line in enumerate(lines):
        if index < len(existing):
            data[f"lines-{index}-id"] = str(existing[index].pk)
        data[f"lines-{index}-superbill"] = str(superbill.pk)
        for name, value in line.items():
            data[f"lines-{index}-{name}"] = value
    return data


def test_the_therapist_enters_each_code_and_fee_and_the_list_shows_the_total(
    admin_client_mfa, amara, therapist
):
    course = completed_course(client=amara)
    superbill = SuperbillFactory(client=amara, course=course)
    superbill_prefill_lines(superbill=superbill, actor=therapist)
    change_url = reverse("admin:kap_sessions_superbill_change", args=[superbill.pk])
    entered = [
        {"code": "90837", "fee": "200.00"},
        {"code": "90837", "modifier": "", "fee": "600.00", "units": "1"},
        {"code": "90834", "fee": "160.00"},
    ]
    lines = [
        {
            "service_date": str(line.service_date),
            "description": line.description,
            "units": "1",
            "modifier": "",
            **typed,
        }
        for line, typed in zip(superbill.lines.order_by("service_date"), entered, strict=True)
    ]

    response = admin_client_mfa.post(change_url, superbill_form(superbill, lines))

    assert response.status_code == 302
    assert [(code, fee) for _, _, code, fee, _ in lines_of(superbill)] == [
        ("90837", Decimal("200.00")),
        ("90837", Decimal("600.00")),
        ("90834", Decimal("160.00")),
    ]
    listing = admin_client_mfa.get(reverse("admin:kap_sessions_superbill_changelist"))
    assert "$960.00" in listing.content.decode()
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CHANGE, object_id=str(superbill.pk), actor_id=therapist.pk
    ).exists()


def test_a_line_without_its_code_is_not_saved(admin_client_mfa, amara, therapist):
    superbill = SuperbillFactory(client=amara, course=completed_course(client=amara))
    superbill_prefill_lines(superbill=superbill, actor=therapist)
    first = superbill.lines.order_by("service_date").first()
    assert first is not None
    lines = [
        {
            "service_date": str(first.service_date),
            "description": first.description,
            "units": "1",
            "code": "",
            "fee": "200.00",
        }
    ]
    data = superbill_form(superbill, lines, **{"lines-INITIAL_FORMS": "1"})

    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_superbill_change", args=[superbill.pk]), data
    )

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    first.refresh_from_db()
    assert first.fee == Decimal("0.00")


def test_a_superbill_added_in_the_admin_names_who_made_it_and_refuses_another_s_course(
    admin_client_mfa, amara, therapist
):
    beths_course = completed_course(client=ClientFactory(first_name="Beth"))
    add_url = reverse("admin:kap_sessions_superbill_add")
    empty_lines = {
        "lines-TOTAL_FORMS": "0",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    fields = {"client": str(amara.pk), "issued_on": "2027-04-15", **empty_lines}

    refused = admin_client_mfa.post(add_url, {**fields, "course": str(beths_course.pk)})
    made = admin_client_mfa.post(add_url, fields)

    assert "This course is another client&#x27;s." in refused.content.decode()
    assert made.status_code == 302
    superbill = Superbill.objects.get()
    assert (superbill.client, superbill.created_by) == (amara, therapist)
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CREATE, object_id=str(superbill.pk), client_id=amara.pk
    ).exists()


def test_the_superbill_page_opening_is_audited(admin_client_mfa, amara, therapist):
    superbill = SuperbillLineFactory(superbill__client=amara).superbill

    admin_client_mfa.get(reverse("admin:kap_sessions_superbill_change", args=[superbill.pk]))

    assert list(AuditEvent.objects.values_list("action", "object_id", "client_id", "actor_id")) == [
        (AuditEvent.Action.VIEW, str(superbill.pk), amara.pk, therapist.pk)
    ]


def queries_for(client, url: str) -> int:  # type: ignore[no-untyped-def]
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_lists_cost_the_same_queries_however_many_lines_and_documents(
    admin_client_mfa, amara, django_assert_max_num_queries
):
    SuperbillLineFactory(superbill__client=amara)
    EstimateLineFactory(estimate__client=amara)
    urls = [
        reverse("admin:kap_sessions_superbill_changelist"),
        reverse("admin:kap_sessions_goodfaithestimate_changelist"),
    ]
    few = [queries_for(admin_client_mfa, url) for url in urls]

    for _ in range(6):
        superbill = SuperbillLineFactory(superbill__client=ClientFactory()).superbill
        SuperbillLineFactory.create_batch(3, superbill=superbill)
        estimate = EstimateLineFactory(estimate__client=ClientFactory()).estimate
        EstimateLineFactory.create_batch(3, estimate=estimate)
    many = [queries_for(admin_client_mfa, url) for url in urls]

    assert few == many
    for url in urls:
        with django_assert_max_num_queries(12):
            admin_client_mfa.get(url)


def test_the_change_pages_cost_the_same_queries_however_many_lines(
    admin_client_mfa, amara, django_assert_max_num_queries
):
    superbill = SuperbillLineFactory(superbill__client=amara).superbill
    estimate = EstimateLineFactory(estimate__client=amara).estimate
    urls = [
        reverse("admin:kap_sessions_superbill_change", args=[superbill.pk]),
        reverse("admin:kap_sessions_goodfaithestimate_change", args=[estimate.pk]),
    ]
    few = [queries_for(admin_client_mfa, url) for url in urls]

    SuperbillLineFactory.create_batch(10, superbill=superbill)
    EstimateLineFactory.create_batch(10, estimate=estimate)
    many = [queries_for(admin_client_mfa, url) for url in urls]

    assert few == many
    for url in urls:
        with django_assert_max_num_queries(20):
            admin_client_mfa.get(url)


# --- Good Faith Estimate: shared once, then as given ----------------------------------------------


def test_sharing_an_estimate_shows_it_and_asks_for_one_email(amara, therapist):
    estimate = EstimateLineFactory(estimate__client=amara).estimate

    shared = estimate_share(estimate=estimate, actor=therapist, now=SHARED_AT)
    again = estimate_share(estimate=estimate, actor=therapist)

    assert shared.shared_at == again.shared_at == SHARED_AT
    estimate.refresh_from_db()
    assert estimate.shared_at == SHARED_AT
    assert list(
        OutboxMessage.objects.values_list("kind", "idempotency_key", "recipient", "object_id")
    ) == [
        (
            "kap.estimate_ready",
            f"kap:estimate:{estimate.pk}:shared",
            "amara@example.com",
            estimate.pk,
        )
    ]
    assert list(AuditEvent.objects.values_list("action", "object_id", "client_id", "actor_id")) == [
        (AuditEvent.Action.CHANGE, str(estimate.pk), amara.pk, therapist.pk)
    ]


def test_an_estimate_with_no_services_is_not_shared(amara, therapist):
    estimate = GoodFaithEstimateFactory(client=amara)

    with pytest.raises(ValidationError, match="Add the expected services first"):
        estimate_share(estimate=estimate, actor=therapist)

    estimate.refresh_from_db()
    assert estimate.shared_at is None
    assert OutboxMessage.objects.count() == 0


def test_the_email_says_only_that_a_document_is_ready(amara, therapist, smtp_sink):
    estimate = EstimateLineFactory(
        estimate__client=amara, description="Medicine session, 3.5 hours (ketamine)"
    ).estimate
    estimate_share(estimate=estimate, actor=therapist)

    assert outbox_send_due().sent == 1

    [message] = smtp_sink.messages
    assert smtp_sink.recipients == ["amara@example.com"]
    subject = str(message["Subject"])
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert subject == "A document is ready in your portal"
    assert "A document is ready for you in your portal." in text
    assert "/portal/" in text
    for part in (subject, text, html):
        assert discretion_words_in(part) == []
        for word in ("estimate", "cost", "fee", "$", "90837"):
            assert word not in part.lower()


def test_the_email_is_voided_if_the_estimate_is_gone_before_it_is_sent(amara, therapist):
    estimate = EstimateLineFactory(estimate__client=amara).estimate
    estimate_share(estimate=estimate, actor=therapist)
    estimate.lines.all().delete()
    GoodFaithEstimate.objects.filter(pk=estimate.pk).delete()

    report = outbox_send_due()

    assert report.sent == 0
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.VOIDED


def test_share_in_the_admin_then_the_estimate_is_read_only(admin_client_mfa, amara, therapist):
    estimate = EstimateLineFactory(estimate__client=amara, unit_fee=Decimal("200.00")).estimate
    change_url = reverse("admin:kap_sessions_goodfaithestimate_change", args=[estimate.pk])
    share_url = reverse("admin:kap_sessions_goodfaithestimate_share", args=[estimate.pk])
    before = admin_client_mfa.get(change_url).content.decode()

    asked = timezone.now()
    response = admin_client_mfa.post(share_url, follow=True)

    assert f'action="{share_url}"' in before
    assert 'name="notes"' in before
    assert response.redirect_chain == [(change_url, 302)]
    assert "Shared: it is in her portal" in response.content.decode()
    estimate.refresh_from_db()
    assert estimate.shared_at is not None
    assert asked <= estimate.shared_at <= timezone.now()
    after = admin_client_mfa.get(change_url).content.decode()
    assert share_url not in after
    assert 'name="notes"' not in after
    assert 'name="lines-0-unit_fee"' not in after
    assert f'href="/workspace/documents/estimate/{estimate.pk}/"' in after
    refused = admin_client_mfa.post(
        change_url,
        {
            "client": str(amara.pk),
            "issued_on": "2027-02-20",
            "services_from": "2027-03-01",
            "services_until": "2027-05-31",
            "notes": "Changed after sharing.",
        },
    )
    assert refused.status_code == 403
    estimate.refresh_from_db()
    assert estimate.notes == ""
    assert estimate.lines.get().unit_fee == Decimal("200.00")


def test_sharing_twice_in_the_admin_sends_one_email(admin_client_mfa, amara):
    estimate = EstimateLineFactory(estimate__client=amara).estimate
    share_url = reverse("admin:kap_sessions_goodfaithestimate_share", args=[estimate.pk])

    admin_client_mfa.post(share_url)
    second = admin_client_mfa.post(share_url, follow=True)

    assert "This estimate is shared already." in second.content.decode()
    assert OutboxMessage.objects.filter(kind="kap.estimate_ready").count() == 1


def test_the_share_action_shares_the_selected_estimates(admin_client_mfa, amara):
    first = EstimateLineFactory(estimate__client=amara).estimate
    empty = GoodFaithEstimateFactory(client=amara)

    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_goodfaithestimate_changelist"),
        {"action": "share", "_selected_action": [str(first.pk), str(empty.pk)]},
        follow=True,
    )

    page = response.content.decode()
    assert "1 estimate(s) shared." in page
    assert "Add the expected services first" in page
    first.refresh_from_db()
    empty.refresh_from_db()
    assert first.shared_at is not None
    assert empty.shared_at is None


def estimate_form(client: Client, **fields: str) -> dict[str, str]:
    return {
        "client": str(client.pk),
        "issued_on": "2027-02-20",
        "services_from": "2027-03-01",
        "services_until": "2027-05-31",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-description": "Integration session, 50 min",
        "lines-0-code": "90837",
        "lines-0-quantity": "3",
        "lines-0-unit_fee": "200.00",
        **fields,
    }


def test_an_estimate_is_made_in_the_admin_with_its_lines(admin_client_mfa, amara, therapist):
    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_goodfaithestimate_add"), estimate_form(amara)
    )

    assert response.status_code == 302
    estimate = GoodFaithEstimate.objects.get()
    assert (estimate.created_by, estimate.total, estimate.shared_at) == (
        therapist,
        Decimal("600.00"),
        None,
    )


@pytest.mark.parametrize(
    ("until", "message"),
    [
        ("2027-02-28", "The last date cannot be before the first."),
        ("2028-03-02", "An estimate covers at most 12 months"),
    ],
)
def test_an_estimate_s_period_is_in_order_and_at_most_a_year(
    admin_client_mfa, amara, until, message
):
    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_goodfaithestimate_add"),
        estimate_form(amara, services_until=until),
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert GoodFaithEstimate.objects.count() == 0


def test_a_year_to_the_day_is_allowed(admin_client_mfa, amara):
    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_goodfaithestimate_add"),
        estimate_form(amara, services_until="2028-03-01"),
    )

    assert response.status_code == 302


def raw_column(table: str, pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 (names are ours)
        return str(cursor.fetchone()[0])


def test_diagnosis_codes_and_estimate_notes_are_kept_encrypted(amara):
    superbill = SuperbillFactory(client=amara, diagnosis_codes="F53.0, F41.1")
    estimate = GoodFaithEstimateFactory(
        client=amara, diagnosis_codes="F53.0", notes="Not included: the prescriber's fees."
    )

    stored = [
        raw_column("kap_sessions_superbill", superbill.pk, "diagnosis_codes"),
        raw_column("kap_sessions_goodfaithestimate", estimate.pk, "diagnosis_codes"),
        raw_column("kap_sessions_goodfaithestimate", estimate.pk, "notes"),
    ]

    assert all(value.startswith("gAAAAA") for value in stored)  # Fernet tokens
    # "F53.0" has a full stop, which a Fernet token (url-safe base64) never holds, so
    # this cannot match a token by chance as "F53" once did.
    assert not any("F53.0" in value or "prescriber" in value for value in stored)
    assert Superbill.objects.get().diagnosis_codes == "F53.0, F41.1"


def test_the_diagnosis_codes_are_typed_on_one_line(admin_client_mfa):
    page = admin_client_mfa.get(reverse("admin:kap_sessions_superbill_add")).content.decode()

    assert '<input type="text" name="diagnosis_codes"' in page
