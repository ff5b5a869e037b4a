"""Who downloads which of the course's PDFs, and the audit line each download writes.

The therapist downloads every document from the workspace
(``kap_sessions:admin_*``: staff with a second factor and the model's view
permission only). In her portal Amara downloads her course summary (once the
course is completed), her superbills (those shown to her) and her Good Faith
Estimates (once shared), which she can also read on a page; Beth, asking for
any of them, gets a 404. Every download is one audit line: who, which
record, whose, from where.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kap_sessions.models import Course, CoursePhase, DosingRecord, GoodFaithEstimate, Superbill
from kap_sessions.services.portal_cache import portal_changed
from practice.models import AuditEvent, Client, User
from tests.conftest import enrol_totp
from tests.factories import PASSWORD, ClientDocumentFactory, StaffFactory
from tests.kap_sessions.factories_documents import (
    EstimateLineFactory,
    GoodFaithEstimateFactory,
    SuperbillFactory,
    SuperbillLineFactory,
    completed_course,
    dosing_record,
    vitals,
)
from tests.kap_sessions.test_portal import axe_violations
from tests.support.layout import sideways_overflow
from tests.support.screenshots import screenshot_on_failure

pytestmark = pytest.mark.django_db


@pytest.fixture
def amara(client_user) -> Client:  # type: ignore[no-untyped-def]
    return client_user.client


@pytest.fixture
def beth(other_client_user) -> Client:  # type: ignore[no-untyped-def]
    return other_client_user.client


@pytest.fixture
def record(amara, practice_profile) -> DosingRecord:  # type: ignore[no-untyped-def]
    record = dosing_record(course=completed_course(client=amara, sessions=0))
    vitals(record, 15)
    return record


@pytest.fixture
def superbill(amara, practice_profile) -> Superbill:  # type: ignore[no-untyped-def]
    superbill = SuperbillFactory(client=amara)
    SuperbillLineFactory(superbill=superbill, fee=Decimal("200.00"))
    return superbill


@pytest.fixture
def estimate(amara, practice_profile) -> GoodFaithEstimate:  # type: ignore[no-untyped-def]
    estimate = GoodFaithEstimateFactory(client=amara, shared_at=timezone.now())
    EstimateLineFactory(estimate=estimate, quantity=3, unit_fee=Decimal("750.00"))
    return estimate


def assert_pdf(response, filename: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"


def downloads() -> list[tuple[str, str, str, int | None]]:
    # Who is a plain id in the log: her email is read from the users that still exist.
    emails = dict(User.objects.values_list("pk", "email"))
    return [
        (emails[actor_id], object_type, object_id, client_id)
        for actor_id, object_type, object_id, client_id in AuditEvent.objects.filter(
            action=AuditEvent.Action.DOWNLOAD
        )
        .order_by("at", "id")
        .values_list("actor_id", "object_type", "object_id", "client_id")
    ]


# --- The therapist, in the workspace ----------------------------------------------------------


def test_the_therapist_downloads_each_document_and_each_download_is_audited(
    admin_client_mfa, therapist, amara, record, superbill, estimate
):
    course = record.session.course

    summary = admin_client_mfa.get(
        reverse("kap_sessions:admin_course_summary_pdf", args=[course.pk])
    )
    session = admin_client_mfa.get(
        reverse("kap_sessions:admin_dosing_record_pdf", args=[record.pk])
    )
    bill = admin_client_mfa.get(reverse("kap_sessions:admin_superbill_pdf", args=[superbill.pk]))
    gfe = admin_client_mfa.get(reverse("kap_sessions:admin_estimate_pdf", args=[estimate.pk]))

    assert_pdf(summary, "course-summary-2027-04-14.pdf")
    assert_pdf(session, "session-record-2027-03-02.pdf")
    assert_pdf(bill, "superbill-2027-04-15.pdf")
    assert_pdf(gfe, "good-faith-estimate-2027-02-20.pdf")
    assert downloads() == [
        (therapist.email, "kap_sessions.course", str(course.pk), amara.pk),
        (therapist.email, "kap_sessions.dosingrecord", str(record.pk), amara.pk),
        (therapist.email, "kap_sessions.superbill", str(superbill.pk), amara.pk),
        (therapist.email, "kap_sessions.goodfaithestimate", str(estimate.pk), amara.pk),
    ]
    event = AuditEvent.objects.get(object_type="kap_sessions.dosingrecord")
    assert event.path == f"/workspace/documents/session-record/{record.pk}/"


def test_the_therapist_downloads_a_course_summary_before_completion_too(
    admin_client_mfa, amara, record
):
    course = record.session.course
    Course.objects.filter(pk=course.pk).update(phase=CoursePhase.INTEGRATION, closed_on=None)

    response = admin_client_mfa.get(
        reverse("kap_sessions:admin_course_summary_pdf", args=[course.pk])
    )

    assert_pdf(response, "course-summary-2027-03-01.pdf")


ADMIN_URLS = [
    "admin_course_summary_pdf",
    "admin_dosing_record_pdf",
    "admin_superbill_pdf",
    "admin_estimate_pdf",
]


def admin_url(
    name: str, record: DosingRecord, superbill: Superbill, estimate: GoodFaithEstimate
) -> str:
    pk = {
        "admin_course_summary_pdf": record.session.course_id,
        "admin_dosing_record_pdf": record.pk,
        "admin_superbill_pdf": superbill.pk,
        "admin_estimate_pdf": estimate.pk,
    }[name]
    return reverse(f"kap_sessions:{name}", args=[pk])


@pytest.mark.parametrize("name", ADMIN_URLS)
def test_an_admin_download_sends_anyone_signed_out_to_the_admin_login(
    client, record, superbill, estimate, name
):
    url = admin_url(name, record, superbill, estimate)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={quote(url)}"
    assert downloads() == []


@pytest.mark.parametrize("name", ADMIN_URLS)
def test_an_admin_download_is_not_for_a_client(
    client, client_user, record, superbill, estimate, name
):
    client.force_login(client_user)
    url = admin_url(name, record, superbill, estimate)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert downloads() == []


@pytest.mark.parametrize("name", ADMIN_URLS)
def test_an_admin_download_asks_staff_without_a_second_factor_to_set_one_up(
    client, therapist_without_mfa, record, superbill, estimate, name
):
    client.force_login(therapist_without_mfa)

    response = client.get(admin_url(name, record, superbill, estimate))

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert downloads() == []


@pytest.mark.parametrize("name", ADMIN_URLS)
def test_an_admin_download_needs_the_permission_to_view_the_record(
    client, record, superbill, estimate, name
):
    assistant = StaffFactory(email="frontdesk@harborlight.example", is_superuser=False)
    enrol_totp(assistant)
    client.force_login(assistant)

    response = client.get(admin_url(name, record, superbill, estimate))

    assert response.status_code == 403
    assert downloads() == []


@pytest.mark.parametrize("name", ADMIN_URLS)
def test_an_admin_download_of_nothing_is_a_404(admin_client_mfa, name):
    response = admin_client_mfa.get(reverse(f"kap_sessions:{name}", args=[999_999]))

    assert response.status_code == 404
    assert downloads() == []


@pytest.mark.parametrize("name", ADMIN_URLS)
def test_an_admin_download_takes_no_post(admin_client_mfa, record, superbill, estimate, name):
    response = admin_client_mfa.post(admin_url(name, record, superbill, estimate))

    assert response.status_code == 405
    assert downloads() == []


# --- Her portal -------------------------------------------------------------------------------


def test_she_downloads_her_completed_course_s_summary_and_it_is_audited(
    client, client_user, amara, record
):
    course = record.session.course
    client.force_login(client_user)

    response = client.get(reverse("kap_sessions:portal_course_summary", args=[course.pk]))

    assert_pdf(response, "course-summary-2027-04-14.pdf")
    assert downloads() == [(client_user.email, "kap_sessions.course", str(course.pk), amara.pk)]


@pytest.mark.parametrize("phase", [CoursePhase.INTEGRATION, CoursePhase.WITHDRAWN])
def test_there_is_no_summary_for_her_before_the_course_is_completed(
    client, client_user, record, phase
):
    course = record.session.course
    Course.objects.filter(pk=course.pk).update(
        phase=phase, closed_on=date(2027, 4, 14) if phase == CoursePhase.WITHDRAWN else None
    )
    client.force_login(client_user)

    response = client.get(reverse("kap_sessions:portal_course_summary", args=[course.pk]))

    assert response.status_code == 404
    assert downloads() == []


def test_she_downloads_her_superbill_and_it_is_audited(client, client_user, amara, superbill):
    client.force_login(client_user)

    response = client.get(reverse("kap_sessions:portal_superbill", args=[superbill.pk]))

    assert_pdf(response, "superbill-2027-04-15.pdf")
    assert downloads() == [
        (client_user.email, "kap_sessions.superbill", str(superbill.pk), amara.pk)
    ]


def test_a_superbill_not_shown_to_her_is_a_404(client, client_user, superbill):
    superbill.visible_to_client = False
    superbill.save()
    client.force_login(client_user)

    response = client.get(reverse("kap_sessions:portal_superbill", args=[superbill.pk]))

    assert response.status_code == 404


def test_she_reads_her_shared_estimate_on_a_page_and_the_opening_is_audited(
    client, client_user, amara, estimate
):
    client.force_login(client_user)

    response = client.get(reverse("kap_sessions:portal_estimate", args=[estimate.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Good Faith Estimate</h1>" in page
    assert "for services expected from March 1, 2027 to May 31, 2027" in page
    assert "Preparation session, 50 min" in page
    assert '<td class="num">$2,250.00</td>' in page
    assert "If you receive a bill that is at least $400 more than your Good Faith Estimate" in page
    assert f'href="/portal/paperwork/estimates/{estimate.pk}/pdf/"' in page
    assert "<title>Your cost estimate · Harbor Light Therapy</title>" in page
    assert list(AuditEvent.objects.values_list("action", "object_type", "client_id")) == [
        (AuditEvent.Action.VIEW, "kap_sessions.goodfaithestimate", amara.pk)
    ]


def test_she_downloads_her_shared_estimate_and_it_is_audited(client, client_user, amara, estimate):
    client.force_login(client_user)

    response = client.get(reverse("kap_sessions:portal_estimate_pdf", args=[estimate.pk]))

    assert_pdf(response, "good-faith-estimate-2027-02-20.pdf")
    assert downloads() == [
        (client_user.email, "kap_sessions.goodfaithestimate", str(estimate.pk), amara.pk)
    ]


@pytest.mark.parametrize("name", ["portal_estimate", "portal_estimate_pdf"])
def test_an_estimate_not_shared_yet_is_a_404(client, client_user, estimate, name):
    estimate.shared_at = None
    estimate.save()
    client.force_login(client_user)

    response = client.get(reverse(f"kap_sessions:{name}", args=[estimate.pk]))

    assert response.status_code == 404
    assert list(AuditEvent.objects.values_list("object_id", "outcome")) == [
        (str(estimate.pk), "not_found")
    ]


PORTAL_URLS = [
    "portal_course_summary",
    "portal_superbill",
    "portal_estimate",
    "portal_estimate_pdf",
]


def portal_url(
    name: str, record: DosingRecord, superbill: Superbill, estimate: GoodFaithEstimate
) -> str:
    pk = {
        "portal_course_summary": record.session.course_id,
        "portal_superbill": superbill.pk,
        "portal_estimate": estimate.pk,
        "portal_estimate_pdf": estimate.pk,
    }[name]
    return reverse(f"kap_sessions:{name}", args=[pk])


@pytest.mark.parametrize("name", PORTAL_URLS)
def test_amara_s_paperwork_is_a_404_for_beth(
    client, other_client_user, beth, record, superbill, estimate, name
):
    client.force_login(other_client_user)

    response = client.get(portal_url(name, record, superbill, estimate))

    assert response.status_code == 404
    # Her try is on the trail, under her own name, never under the other client's.
    assert list(AuditEvent.objects.values_list("actor_id", "client_id", "outcome")) == [
        (other_client_user.pk, beth.pk, "not_found")
    ]


@pytest.mark.parametrize("name", PORTAL_URLS)
def test_the_portal_s_paperwork_is_not_for_staff(
    client, therapist, record, superbill, estimate, name
):
    client.force_login(therapist)

    response = client.get(portal_url(name, record, superbill, estimate))

    assert response.status_code == 403
    assert "<h1>The client portal is for clients</h1>" in response.content.decode()
    assert AuditEvent.objects.count() == 0


def test_her_home_lists_her_summary_superbills_and_shared_estimates_newest_first(
    client, client_user, amara, beth, record, superbill, estimate
):
    SuperbillFactory(client=amara, visible_to_client=False)
    GoodFaithEstimateFactory(client=amara, issued_on=date(2027, 5, 1))  # not shared
    SuperbillFactory(client=beth)
    client.force_login(client_user)

    response = client.get("/portal/")

    page = response.content.decode()
    links = [
        f'<a href="/portal/paperwork/superbills/{superbill.pk}/">Superbill for your insurer</a>',
        f'<a href="/portal/paperwork/course-summary/{record.session.course_id}/">'
        "Your course summary</a>",
        f'<a href="/portal/paperwork/estimates/{estimate.pk}/">'
        "Good Faith Estimate of your costs</a>",
    ]
    positions = [page.find(link) for link in links]
    assert -1 not in positions
    assert positions == sorted(positions)
    assert page.count("/portal/paperwork/") == 3
    assert "April 15, 2027 · PDF" in page
    assert "Signed forms and letters will appear here" not in page


def test_her_home_without_documents_or_paperwork_says_what_will_appear(client, client_user):
    client.force_login(client_user)

    page = client.get("/portal/").content.decode()

    assert "Signed forms and letters will appear here for you to download." in page
    assert "/portal/paperwork/" not in page


def _queries(client, path: str) -> int:  # type: ignore[no-untyped-def]
    client.get(path)  # warm the per-process caches (the practice's profile)
    # Her home keeps its reads between views: out-date them, so that reading
    # her paperwork is counted too.
    portal_changed(client_id=None)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_her_paperwork_pages_cost_the_same_queries_however_much_she_has(
    client, client_user, amara, record, superbill, estimate, django_assert_max_num_queries
):
    client.force_login(client_user)
    paths = [
        "/portal/",
        reverse("kap_sessions:portal_course_summary", args=[record.session.course_id]),
        reverse("kap_sessions:portal_superbill", args=[superbill.pk]),
        reverse("kap_sessions:portal_estimate", args=[estimate.pk]),
        reverse("kap_sessions:portal_estimate_pdf", args=[estimate.pk]),
    ]
    few = [_queries(client, path) for path in paths]

    for _ in range(8):
        SuperbillLineFactory(superbill=superbill)
        EstimateLineFactory(estimate=estimate)
        vitals(record, 30)
        SuperbillFactory(client=amara)
        GoodFaithEstimateFactory(client=amara, shared_at=timezone.now())
        ClientDocumentFactory(client=amara)
    many = [_queries(client, path) for path in paths]

    assert few == many
    # The session, her user and client record, the lookup, the document's reads
    # (the summary: the course, its phase changes, sessions and measures), the
    # audit line (one insert: it is sealed off the request), the session's save
    # (with its savepoint). Her home also writes her view's own audit line.
    for path, budget in zip(paths, [16, 12, 10, 10, 10], strict=True):
        portal_changed(client_id=None)
        with django_assert_max_num_queries(budget):
            client.get(path)


def test_a_superbill_waits_for_its_codes_before_she_sees_it(client, client_user, amara):
    empty = SuperbillFactory(client=amara)
    unfinished = SuperbillFactory(client=amara)
    SuperbillLineFactory(superbill=unfinished, code="90837")
    SuperbillLineFactory(superbill=unfinished, code="", fee=Decimal("0"))
    client.force_login(client_user)

    home = client.get("/portal/").content.decode()
    responses = [
        client.get(reverse("kap_sessions:portal_superbill", args=[superbill.pk]))
        for superbill in (empty, unfinished)
    ]

    assert "/portal/paperwork/superbills/" not in home
    assert [response.status_code for response in responses] == [404, 404]


@pytest.mark.browser
def test_on_a_phone_she_finds_her_estimate_reads_it_and_it_passes_axe(
    live_server, phone_page, client_user, amara, estimate
):
    page = phone_page
    with screenshot_on_failure(page, "portal-estimate"):
        page.goto(live_server.url + "/accounts/login/?next=/portal/")
        page.locator("input[name=login]").fill(client_user.email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(live_server.url + "/portal/")
        page.get_by_role("link", name="Good Faith Estimate of your costs").click()
        page.wait_for_url(live_server.url + f"/portal/paperwork/estimates/{estimate.pk}/")

        assert page.get_by_role("heading", level=1).inner_text() == "Good Faith Estimate"
        assert page.get_by_text("Total estimated cost: $2,250.00").is_visible()
        assert page.get_by_role("row", name="Total estimated cost $2,250.00").count() == 1
        assert page.get_by_role("link", name="Download it (PDF)").is_visible()
        assert axe_violations(page) == []
        assert sideways_overflow(page) == 0
