"""Object-level access to the portal, exhaustively: every /portal/ URL, every kind of visitor.

The URL patterns are read from the URL resolver, so a new portal URL fails
``test_every_portal_url_has_an_access_case`` until it gets a case below.
Each case is a real request for something that belongs to Amara (client A):
her calendar file, her signed consent, her PDF, her open questionnaire, her
intake, her support page. It is then asked for by

- Amara herself: it opens (the check that the case is real: a 404 for
  everyone would prove nothing);
- Beth (client B): a 404 when the URL names an object of Amara's; where the
  URL names nothing of hers (her home, her intake, her profile, the support
  page, the thanks page) Beth gets her own page, with none of Amara's data on
  it. A consent document is the practice's, not Amara's (any client reads
  the current version): Beth sees her own unsigned form, never Amara's
  signature or PDF;
- an anonymous visitor: the login page, with ``?next=`` back to the URL;
- the therapist (staff): the friendly 403 page, never a 500.

Where a view takes a POST, the POST is tried too, and must change nothing
of Amara's (posting to Amara's consent signs nothing; to Amara's
questionnaire answers nothing). The partial tests beside each view
(test_portal.py, test_intake.py, ...) stay; this file is the one matrix.

Query budgets: each portal page's is checked beside its view's other tests;
``test_every_portal_url_has_a_query_budget`` says where, and the two that
had none (the calendar file and the thanks page) are measured here.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import cast
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from kap_sessions.models import (
    ConsentDocument,
    ConsentKind,
    ConsentSignature,
    Course,
    GoodFaithEstimate,
    Intake,
    ScreeningAssignment,
    ScreeningResponse,
    ScreeningStatus,
    Superbill,
)
from practice.models import Appointment, AppointmentKind, Client, ClientDocument, MeetingMode
from practice.private_files import private_file_save
from tests.factories import AppointmentFactory, ClientDocumentFactory
from tests.kap_sessions.factories import (
    ConsentDocumentFactory,
    ConsentSignatureFactory,
    IntakeFactory,
    SafetyFlagFactory,
    ScreeningAssignmentFactory,
)
from tests.kap_sessions.factories_documents import (
    EstimateLineFactory,
    SuperbillLineFactory,
    completed_course,
)
from tests.kap_sessions.intake_steps import section_post

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
FRIENDLY_403 = "<h1>The client portal is for clients</h1>"
A_PDF = b"%PDF-1.4\n% Amara's signed consent\n%%EOF\n"


# --- The portal's URLs, from the resolver -------------------------------------------------


def _walk(
    patterns: list[URLPattern | URLResolver], prefix: str = "", namespace: str = ""
) -> list[tuple[str, str]]:
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            found += _walk(pattern.url_patterns, route, inner or namespace)
        else:
            name = f"{namespace}:{pattern.name}" if namespace else str(pattern.name)
            found.append((name, route))
    return found


def portal_url_names() -> dict[str, str]:
    """Every URL pattern under /portal/: its name (with namespace) and its route."""
    return {
        name: route
        for name, route in _walk(get_resolver().url_patterns)
        if route.lstrip("^").startswith("portal/")
    }


# --- Amara's things, and Beth ---------------------------------------------------------------


@dataclass
class World:
    amara: Client
    beth: Client
    appointment: Appointment
    pdf: ClientDocument
    consent: ConsentDocument
    epds: ScreeningAssignment
    intake: Intake
    # Her paperwork (issue 11): a completed course's summary, a superbill, a shared estimate.
    course: Course
    superbill: Superbill
    estimate: GoodFaithEstimate


@pytest.fixture
def world(client_user, other_client_user, practice_profile, settings, tmp_path) -> World:  # type: ignore[no-untyped-def]
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"
    ConsentDocument.objects.all().delete()  # only this test's consent is current
    amara = client_user.client
    amara.phone = "(212) 555-0101"
    amara.emergency_contact_name = "Chidi Okafor"
    amara.emergency_contact_phone = "(510) 555-0199"
    amara.emergency_contact_relationship = "husband"
    amara.save()
    start = timezone.now() + timedelta(days=2)
    appointment = AppointmentFactory(
        client=amara,
        kind=AppointmentKind.PREPARATION,
        mode=MeetingMode.VIDEO,
        start=start,
        end=start + timedelta(minutes=50),
        occupied_end=start + timedelta(minutes=60),
    )
    pdf = private_file_save(
        client=amara,
        kind=ClientDocument.Kind.SIGNED_CONSENT,
        title="Signed informed consent, version 3",
        content=A_PDF,
        content_type=ClientDocument.ContentType.PDF,
        created_by=None,
        visible_to_client=True,
    )
    consent = ConsentDocumentFactory(kind=ConsentKind.KAP_INFORMED_CONSENT, version=3)
    ConsentSignatureFactory(client=amara, document=consent, pdf=pdf)
    epds = ScreeningAssignmentFactory(client=amara, instrument="epds")
    intake = IntakeFactory(client=amara, medications="Sertraline 50 mg daily")
    SafetyFlagFactory(client=amara)
    superbill = SuperbillLineFactory(superbill__client=amara).superbill
    estimate = EstimateLineFactory(
        estimate__client=amara, estimate__shared_at=timezone.now()
    ).estimate
    return World(
        amara=amara,
        beth=other_client_user.client,
        appointment=cast(Appointment, appointment),
        pdf=pdf,
        consent=cast(ConsentDocument, consent),
        epds=cast(ScreeningAssignment, epds),
        intake=cast(Intake, intake),
        course=completed_course(client=amara, sessions=0),
        superbill=cast(Superbill, superbill),
        estimate=cast(GoodFaithEstimate, estimate),
    )


# --- The cases: one per portal URL ------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """How to ask for Amara's thing at one URL, and what Beth must get.

    ``markers``: for a URL that names nothing of Amara's, text that is on
    Amara's page and must not be on Beth's (an empty list means a 404 case).
    ``post``: the form a POST sends (None: the view takes GET only);
    ``after_post``: asserts that Beth's POST changed nothing of Amara's.
    """

    path: Callable[[World], str]
    markers: Callable[[World], list[str]] = lambda w: []
    beth_sees: str = ""
    post: Callable[[World], dict[str, str]] | None = None
    after_post: Callable[[World], None] = field(default=lambda w: None)

    @property
    def is_404(self) -> bool:
        return not self.beth_sees


def _home_markers(w: World) -> list[str]:
    return [
        "Hello, Amara",
        f'href="/portal/appointments/{w.appointment.pk}.ics"',
        f'href="/portal/documents/{w.pdf.pk}/"',
        "Signed informed consent, version 3",
        'href="/portal/questionnaires/epds/"',
        "(212) 555-0101",
        "Chidi Okafor",
    ]


def _profile_post(w: World) -> dict[str, str]:
    return {"phone": "(646) 555-0142", "emergency_contact_name": "Dana Lindqvist"}


def _profile_unchanged(w: World) -> None:
    w.amara.refresh_from_db()
    w.beth.refresh_from_db()
    assert (w.amara.phone, w.amara.emergency_contact_name) == ("(212) 555-0101", "Chidi Okafor")
    assert (w.beth.phone, w.beth.emergency_contact_name) == ("(646) 555-0142", "Dana Lindqvist")


def _intake_post(w: World) -> dict[str, str]:
    return section_post("medications", "later", medications="Only vitamin D")


def _intake_unchanged(w: World) -> None:
    w.intake.refresh_from_db()
    assert w.intake.medications == "Sertraline 50 mg daily"
    assert Intake.objects.get(client=w.beth).medications == "Only vitamin D"


def _consent_post(w: World) -> dict[str, str]:
    # Beth signing Amara's name, on the exact text, with the box ticked.
    return {
        "typed_name": w.amara.full_name,
        "agree": "on",
        "shown_sha256": w.consent.text_sha256(),
    }


def _nothing_signed(w: World) -> None:
    assert not ConsentSignature.objects.filter(client=w.beth).exists()
    assert ConsentSignature.objects.filter(client=w.amara).count() == 1


def _questionnaire_post(w: World) -> dict[str, str]:
    return {"assignment": str(w.epds.pk), **{f"item_{n}": "0" for n in range(1, 11)}}


def _nothing_answered(w: World) -> None:
    w.epds.refresh_from_db()
    assert w.epds.status == ScreeningStatus.OPEN
    assert not ScreeningResponse.objects.exists()


CASES: dict[str, Case] = {
    "kap_sessions:portal_home": Case(
        path=lambda w: "/portal/", markers=_home_markers, beth_sees="Hello, Beth"
    ),
    "kap_sessions:portal_profile": Case(
        path=lambda w: "/portal/profile/",
        markers=lambda w: ['value="(212) 555-0101"', 'value="Chidi Okafor"', "amara@example.com"],
        beth_sees='value="beth@example.com"',
        post=_profile_post,
        after_post=_profile_unchanged,
    ),
    "kap_sessions:portal_appointment_ics": Case(
        path=lambda w: f"/portal/appointments/{w.appointment.pk}.ics"
    ),
    "kap_sessions:portal_intake": Case(
        path=lambda w: "/portal/intake/?section=medications",
        markers=lambda w: ["Sertraline 50 mg daily"],
        beth_sees='name="medications"',
        post=_intake_post,
        after_post=_intake_unchanged,
    ),
    "kap_sessions:portal_safety": Case(
        path=lambda w: "/portal/support/",
        markers=lambda w: ["has been told", "Carry on with your intake"],
        beth_sees="988 Suicide &amp; Crisis Lifeline",
    ),
    "kap_sessions:portal_consent": Case(
        path=lambda w: f"/portal/consents/{w.consent.pk}/",
        markers=lambda w: ["You signed this on", f"/portal/documents/{w.pdf.pk}/"],
        beth_sees='name="typed_name"',
        post=_consent_post,
        after_post=_nothing_signed,
    ),
    "kap_sessions:portal_document": Case(path=lambda w: f"/portal/documents/{w.pdf.pk}/"),
    "kap_sessions:portal_questionnaire": Case(
        path=lambda w: "/portal/questionnaires/epds/",
        post=_questionnaire_post,
        after_post=_nothing_answered,
    ),
    "kap_sessions:portal_questionnaire_thanks": Case(
        path=lambda w: "/portal/questionnaires/phq-9/thanks/",
        markers=lambda w: ['href="/portal/questionnaires/epds/"', "Go to the next questionnaire"],
        beth_sees="<h1>Thank you</h1>",
    ),
    "kap_sessions:portal_course_summary": Case(
        path=lambda w: f"/portal/paperwork/course-summary/{w.course.pk}/"
    ),
    "kap_sessions:portal_superbill": Case(
        path=lambda w: f"/portal/paperwork/superbills/{w.superbill.pk}/"
    ),
    "kap_sessions:portal_estimate": Case(
        path=lambda w: f"/portal/paperwork/estimates/{w.estimate.pk}/"
    ),
    "kap_sessions:portal_estimate_pdf": Case(
        path=lambda w: f"/portal/paperwork/estimates/{w.estimate.pk}/pdf/"
    ),
    # Her own data only, whoever asks: Beth's POST gets Beth's ZIP (read below).
    "kap_sessions:portal_export": Case(
        path=lambda w: "/portal/export/",
        beth_sees="Download my data",
        post=lambda w: {},
    ),
}

GET_CASES = sorted(CASES)
POST_CASES = sorted(name for name, case in CASES.items() if case.post is not None)


def body(response) -> str:  # type: ignore[no-untyped-def]
    chunks = response.streaming_content if response.streaming else [response.content]
    return b"".join(chunks).decode(errors="replace")


def test_every_portal_url_has_an_access_case(db):  # type: ignore[no-untyped-def]
    assert sorted(portal_url_names()) == GET_CASES


@pytest.mark.parametrize("name", GET_CASES)
def test_a_portal_url_opens_for_amara_with_her_things(client, world, name):  # type: ignore[no-untyped-def]
    case = CASES[name]
    client.force_login(world.amara.user)

    response = client.get(case.path(world))

    assert response.status_code == 200
    page = body(response)
    for marker in case.markers(world):
        assert marker in page


@pytest.mark.parametrize("name", sorted(set(GET_CASES) - set(POST_CASES)))
def test_a_get_only_portal_url_refuses_a_post_from_its_client(client, world, name):  # type: ignore[no-untyped-def]
    client.force_login(world.amara.user)

    response = client.post(CASES[name].path(world), {})

    assert response.status_code == 405


@pytest.mark.parametrize("name", GET_CASES)
def test_a_portal_url_of_amara_gives_beth_a_404_or_her_own_page(client, world, name):  # type: ignore[no-untyped-def]
    case = CASES[name]
    client.force_login(world.beth.user)

    response = client.get(case.path(world))

    if case.is_404:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    page = body(response)
    assert case.beth_sees in page
    assert [marker for marker in case.markers(world) if marker in page] == []
    amara_untouched(world)


@pytest.mark.parametrize("name", POST_CASES)
def test_a_post_by_beth_to_a_portal_url_of_amara_changes_nothing_of_hers(client, world, name):  # type: ignore[no-untyped-def]
    case = CASES[name]
    assert case.post is not None
    client.force_login(world.beth.user)

    response = client.post(case.path(world), case.post(world))

    if case.is_404:
        assert response.status_code == 404
    else:
        assert response.status_code in (200, 302)
        assert [marker for marker in case.markers(world) if marker in body(response)] == []
    case.after_post(world)
    amara_untouched(world)


def test_beths_export_holds_her_record_and_nothing_of_amaras(client, world):  # type: ignore[no-untyped-def]
    client.force_login(world.beth.user)

    response = client.post("/portal/export/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    data = b"".join(response.streaming_content) if response.streaming else response.content
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"beth@example.com" in everything
    for amaras in (b"amara@example.com", b"Sertraline", b"Chidi Okafor", b"(212) 555-0101"):
        assert amaras not in everything


def amara_untouched(w: World) -> None:
    """Nothing of Amara's changed: her details, her intake, her questionnaire, her signature."""
    w.amara.refresh_from_db()
    w.intake.refresh_from_db()
    w.epds.refresh_from_db()
    assert (w.amara.phone, w.amara.emergency_contact_name) == ("(212) 555-0101", "Chidi Okafor")
    assert w.intake.medications == "Sertraline 50 mg daily"
    assert w.epds.status == ScreeningStatus.OPEN
    assert not ScreeningResponse.objects.exists()
    assert list(ConsentSignature.objects.values_list("client", flat=True)) == [w.amara.pk]


def login_redirect(path: str) -> str:
    return f"{LOGIN}?{urlencode({'next': path}, safe='/')}"


@pytest.mark.parametrize(
    ("name", "method"),
    [(name, "get") for name in GET_CASES] + [(name, "post") for name in POST_CASES],
)
def test_a_portal_url_sends_an_anonymous_visitor_to_the_login_page(client, world, name, method):  # type: ignore[no-untyped-def]
    case = CASES[name]
    path = case.path(world)
    data = case.post(world) if method == "post" and case.post is not None else None

    response = getattr(client, method)(path, data)

    assert response.status_code == 302
    assert response["Location"] == login_redirect(path)
    assert response["Location"].startswith(f"{LOGIN}?next=/portal/")
    amara_untouched(world)


@pytest.mark.parametrize(
    ("name", "method"),
    [(name, "get") for name in GET_CASES] + [(name, "post") for name in POST_CASES],
)
def test_a_portal_url_gives_staff_the_friendly_403_page(client, world, therapist, name, method):  # type: ignore[no-untyped-def]
    case = CASES[name]
    client.force_login(therapist)
    data = case.post(world) if method == "post" and case.post is not None else None

    response = getattr(client, method)(case.path(world), data)

    assert response.status_code == 403
    page = body(response)
    assert FRIENDLY_403 in page
    assert 'href="/admin/"' in page
    assert [marker for marker in case.markers(world) if marker in page] == []
    amara_untouched(world)


# --- Query budgets: every portal page, constant in her questionnaires and documents ----------

TESTS = Path(__file__).parent

# Where each portal page's budget is checked, beside its view's other tests.
BUDGETS_ELSEWHERE: dict[str, tuple[str, str]] = {
    "kap_sessions:portal_home": (
        "test_portal.py",
        "test_a_portal_page_costs_the_same_however_many_appointments_and_documents",
    ),
    "kap_sessions:portal_profile": (
        "test_portal.py",
        "test_a_portal_page_costs_the_same_however_many_appointments_and_documents",
    ),
    "kap_sessions:portal_intake": (
        "test_intake.py",
        "test_intake_pages_cost_the_same_queries_however_much_she_has",
    ),
    "kap_sessions:portal_safety": (
        "test_intake.py",
        "test_intake_pages_cost_the_same_queries_however_much_she_has",
    ),
    "kap_sessions:portal_consent": (
        "test_consent.py",
        "test_the_consent_page_and_a_download_cost_the_same_queries_with_more_documents",
    ),
    "kap_sessions:portal_document": (
        "test_consent.py",
        "test_the_consent_page_and_a_download_cost_the_same_queries_with_more_documents",
    ),
    "kap_sessions:portal_questionnaire": (
        "test_screening.py",
        "test_the_questionnaire_page_costs_the_same_however_many_she_answered_before",
    ),
    **{
        f"kap_sessions:{name}": (
            "test_documents_downloads.py",
            "test_her_paperwork_pages_cost_the_same_queries_however_much_she_has",
        )
        for name in (
            "portal_course_summary",
            "portal_superbill",
            "portal_estimate",
            "portal_estimate_pdf",
        )
    },
}

# Measured here: the view's path, and its most queries (the session, her user
# and client record, the one lookup, the session's save).
BUDGETS_HERE: dict[str, tuple[Callable[[World], str], int]] = {
    # The calendar file also writes its download line (one insert, sealed off the request).
    "kap_sessions:portal_appointment_ics": (
        CASES["kap_sessions:portal_appointment_ics"].path,
        8,
    ),
    "kap_sessions:portal_questionnaire_thanks": (
        CASES["kap_sessions:portal_questionnaire_thanks"].path,
        8,  # and her view's audit line
    ),
    "kap_sessions:portal_export": (CASES["kap_sessions:portal_export"].path, 7),
}


def test_every_portal_url_has_a_query_budget(db):  # type: ignore[no-untyped-def]
    assert sorted(portal_url_names()) == sorted({*BUDGETS_ELSEWHERE, *BUDGETS_HERE})
    for filename, test_name in BUDGETS_ELSEWHERE.values():
        assert re.search(rf"^def {test_name}\(", (TESTS / filename).read_text(), re.M), (
            f"{filename} has no {test_name}"
        )


def _more_of_everything(w: World, count: int) -> None:
    """More appointments, documents, open questionnaires and signed consents for Amara."""
    for n in range(count):
        start = w.appointment.start + timedelta(days=n + 1)
        AppointmentFactory(
            client=w.amara,
            kind=AppointmentKind.INTEGRATION,
            mode=MeetingMode.VIDEO,
            start=start,
            end=start + timedelta(minutes=50),
            occupied_end=start + timedelta(minutes=60),
        )
        ClientDocumentFactory(client=w.amara)
        ScreeningAssignmentFactory(client=w.amara, instrument=("phq-9", "gad-7", "epds")[n % 3])
        ConsentSignatureFactory(
            client=w.amara,
            document=ConsentDocumentFactory(kind=ConsentKind.FINANCIAL_POLICY, version=n + 10),
        )


def _queries(client, path: str) -> int:  # type: ignore[no-untyped-def]
    client.get(path)  # warm the per-process caches (the practice's profile)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("name", sorted(BUDGETS_HERE))
def test_a_portal_page_costs_the_same_queries_with_more_questionnaires_and_documents(
    client, world, django_assert_max_num_queries, name
):  # type: ignore[no-untyped-def]
    path, budget = BUDGETS_HERE[name]
    client.force_login(world.amara.user)
    few = _queries(client, path(world))

    _more_of_everything(world, 6)
    many = _queries(client, path(world))

    assert many == few
    with django_assert_max_num_queries(budget):
        client.get(path(world))
