"""A client's page in the admin: her record at a glance, in panels the apps register.

The page's mechanism (practice/client_panels.py on the registry of
practice/panels.py), its one audit line per view, the core's documents
panel, its query budget, and the lists it makes reachable that the sidebar
no longer shows. The KAP panels' content is tested in
tests/kap_sessions/test_client_page.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kap_sessions.models import ConsentKind
from practice import client_panels, panels
from practice.admin_site import WorkspaceAdminSite, section_of
from practice.models import AuditEvent, Client, ClientDocument, WeeklyHours
from tests.conftest import enrol_totp
from tests.factories import (
    ClientDocumentFactory,
    ClientFactory,
    ClientInvitationFactory,
    CourseFactory,
    StaffFactory,
)
from tests.kap_sessions.factories import (
    ClientContraindicationFactory,
    ConsentDocumentFactory,
    ConsentSignatureFactory,
    EligibilityOverrideFactory,
    IntakeFactory,
    SafetyFlagFactory,
    ScreeningAssignmentFactory,
    ScreeningResponseFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 4, 16, 0, tzinfo=UTC)  # Mon, Jan 4, 8:00 AM in Los Angeles

# Opened from a client's page, not from the sidebar.
FROM_THE_CLIENT_PAGE = [
    "kap_sessions.clientcontraindication",
    "kap_sessions.consentsignature",
    # From her course session (the course page lists the sessions).
    "kap_sessions.dosingrecord",
    "kap_sessions.eligibilityoverride",
    "kap_sessions.intake",
    "kap_sessions.screeningresponse",
    "practice.clientdocument",
]


@pytest.fixture(autouse=True)
def now():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def amara(practice_profile) -> Client:  # type: ignore[no-untyped-def]
    return ClientFactory(first_name="Amara", last_name="Okafor", email="amara@example.com")


@pytest.fixture
def scratch_panels(monkeypatch):  # type: ignore[no-untyped-def]
    """Panels registered by a test are forgotten after it."""
    monkeypatch.setattr(panels, "_panels", dict(panels._panels))


def change_url(client: Client) -> str:
    return reverse("admin:practice_client_change", args=[client.pk])


def shown_names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [shown.panel.name for shown in response.context.get("client_panels") or []]


# --- The mechanism -----------------------------------------------------------------------


def test_a_panel_registered_by_an_app_shows_on_her_page_in_its_order(
    admin_client_mfa, amara, scratch_panels
):
    @client_panel_for_test("course.next", title="Next course step", order=15)
    def next_step(request, *, client, now):  # type: ignore[no-untyped-def]
        return {"documents": [], "list_url": f"/admin/next-step/{client.pk}/{now:%Y-%m-%d}/"}

    response = admin_client_mfa.get(change_url(amara))

    names = shown_names(response)
    assert names.index("kap_sessions.safety") < names.index("course.next")
    assert names.index("course.next") < names.index("kap_sessions.preparation")
    html = response.content.decode()
    assert '<h2 id="client-panel-course-next">Next course step</h2>' in html
    assert f'href="/admin/next-step/{amara.pk}/2027-01-04/"' in html


def client_panel_for_test(name: str, *, title: str, order: int):  # type: ignore[no-untyped-def]
    # Any panel template will do: the documents panel's shows its list link.
    return client_panels.client_panel(
        name, title=title, order=order, template="practice/admin/client_panel_documents.html"
    )


def test_a_panel_with_nothing_to_show_is_left_out(admin_client_mfa, amara, scratch_panels):
    client_panel_for_test("quiet", title="Quiet", order=1)(lambda request, *, client, now: None)

    response = admin_client_mfa.get(change_url(amara))

    assert "quiet" not in shown_names(response)
    assert response.status_code == 200


def test_the_same_name_on_two_pages_is_two_panels_but_twice_on_one_is_refused(scratch_panels):
    panels.register_panel(panels.TODAY, "twin", title="Today's", order=1, template="x.html")(
        lambda request, *, now: {}
    )
    client_panel_for_test("twin", title="Hers", order=1)(lambda request, *, client, now: {})

    with pytest.raises(ValueError, match="client panel 'twin' is registered twice"):
        client_panel_for_test("twin", title="Hers again", order=2)(
            lambda request, *, client, now: {}
        )
    assert [panel.title for panel in panels.panels(panels.TODAY) if panel.name == "twin"] == [
        "Today's"
    ]


def test_staff_see_only_the_panels_they_may_see(client, amara, practice_profile):
    assistant = StaffFactory(is_superuser=False)
    enrol_totp(assistant)
    assistant.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_client", "view_safetyflag", "view_clientdocument"]
        )
    )
    client.force_login(assistant)
    SafetyFlagFactory(client=amara)

    response = client.get(change_url(amara))

    assert shown_names(response) == ["kap_sessions.safety", "practice.documents"]
    html = response.content.decode()
    assert "Acknowledge with a note" not in html  # she may not change a flag
    assert "Upload a document" not in html


# --- One audit line per view ------------------------------------------------------------


def fill(client: Client, *, count: int) -> None:
    """``count`` of each of her preparation records, and one intake, course and invitation."""
    documents = [
        ConsentDocumentFactory(kind=kind, version=50 + count)
        for kind in list(ConsentKind)[: min(count, 4)]
    ]
    for i in range(count):
        for instrument in ("phq-9", "gad-7", "epds"):
            ScreeningResponseFactory(
                assignment__client=client,
                assignment__instrument=instrument,
                total=10 + i,
                completed_at=NOW - timedelta(days=30 - i),
            )
            ScreeningAssignmentFactory(
                client=client, instrument=instrument, due_on=date(2027, 1, 1) + timedelta(days=i)
            )
        ClientDocumentFactory(client=client, kind=ClientDocument.Kind.UPLOAD, title=f"Letter {i}")
        SafetyFlagFactory(
            client=client,
            source="phq-9",
            screening_response=ScreeningResponseFactory(
                assignment__client=client, assignment__instrument="phq-9", safety=True
            ),
        )
        ClientContraindicationFactory(client=client)
        EligibilityOverrideFactory(client=client)
    for document in documents:
        ConsentSignatureFactory(
            client=client,
            document=document,
            pdf=ClientDocumentFactory(client=client, kind=ClientDocument.Kind.SIGNED_CONSENT),
        )
    IntakeFactory(client=client, blood_pressure="high_uncontrolled")
    CourseFactory(client=client)
    ClientInvitationFactory(client=client)


def test_opening_her_page_writes_one_view_line_for_everything_it_shows(
    admin_client_mfa, amara, therapist
):
    fill(amara, count=2)
    before = AuditEvent.objects.order_by("id").values_list("id", flat=True).last() or 0

    response = admin_client_mfa.get(change_url(amara))

    assert len(shown_names(response)) == 9
    after = AuditEvent.objects.filter(id__gt=before)
    assert list(after.values_list("actor_id", "action", "object_type", "client_id")) == [
        (therapist.pk, "view", "practice.client", amara.pk)
    ]


def test_each_view_of_her_page_is_one_more_line(admin_client_mfa, amara):
    admin_client_mfa.get(change_url(amara))
    admin_client_mfa.get(change_url(amara))

    assert AuditEvent.objects.filter(client_id=amara.pk, action="view").count() == 2


def test_a_form_sent_back_with_errors_shows_the_form_without_her_records(admin_client_mfa, amara):
    SafetyFlagFactory(client=amara)

    response = admin_client_mfa.post(
        change_url(amara), {"first_name": "", "last_name": "Okafor", "status": "active"}
    )

    assert response.status_code == 200
    assert response.context["errors"]
    assert shown_names(response) == []
    assert "client-panel-" not in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_adding_a_client_shows_no_panels(admin_client_mfa):
    response = admin_client_mfa.get(reverse("admin:practice_client_add"))

    assert response.status_code == 200
    assert shown_names(response) == []


# --- Her documents ------------------------------------------------------------------------


def test_her_documents_are_listed_newest_first_with_an_audited_download(admin_client_mfa, amara):
    letter = ClientDocumentFactory(
        client=amara,
        kind=ClientDocument.Kind.REFERRAL_LETTER,
        title="A letter for you",
        created_at=NOW - timedelta(days=1),
    )
    upload = ClientDocumentFactory(
        client=amara,
        kind=ClientDocument.Kind.UPLOAD,
        title="Prescriber's clearance",
        visible_to_client=False,
        created_at=NOW - timedelta(hours=1),
    )
    ClientDocumentFactory(title="Someone else's")

    response = admin_client_mfa.get(change_url(amara))

    data = next(
        p.data for p in response.context["client_panels"] if p.panel.name == "practice.documents"
    )
    assert [row["document"] for row in data["documents"]] == [upload, letter]
    html = response.content.decode()
    assert f'href="/admin/practice/clientdocument/{upload.pk}/download/">Download' in html
    assert "Upload · Mon, Jan 4, 7:00 AM · not shown to her" in html
    assert "Referral letter · Sun, Jan 3, 8:00 AM · in her portal" in html
    assert "Someone else" not in html
    assert data["upload_url"] == f"/admin/practice/clientdocument/add/?client={amara.pk}"
    assert data["list_url"] == f"/admin/practice/clientdocument/?client__id__exact={amara.pk}"


def test_the_upload_link_opens_the_form_with_her_chosen(admin_client_mfa, amara):
    response = admin_client_mfa.get(f"/admin/practice/clientdocument/add/?client={amara.pk}")

    assert response.status_code == 200
    assert response.context["adminform"].form["client"].value() == str(amara.pk)


def test_her_filtered_lists_open_with_her_records_only(admin_client_mfa, amara):
    mine = ClientDocumentFactory(client=amara)
    ClientDocumentFactory()

    response = admin_client_mfa.get(f"/admin/practice/clientdocument/?client__id__exact={amara.pk}")

    assert list(response.context["cl"].result_list) == [mine]


# --- The sidebar: her records' lists are reached from her page -----------------------------


@pytest.mark.parametrize("label", FROM_THE_CLIENT_PAGE)
def test_a_list_of_her_records_is_out_of_the_sidebar_but_opens_by_its_address(
    label, admin_client_mfa
):
    app_label, model_name = label.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    admin_client_mfa.post("/admin/workspace/system/", {"show": "1", "next": "/admin/"})

    response = admin_client_mfa.get(url)
    app_page = admin_client_mfa.get(f"/admin/{app_label}/")

    assert response.status_code == 200
    listed = [
        entry["admin_url"] for app in response.context["available_apps"] for entry in app["models"]
    ]
    assert url not in listed
    assert url in [entry["admin_url"] for entry in app_page.context["app_list"][0]["models"]]


def test_exactly_these_lists_are_reached_from_their_record():
    reached = sorted(
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if section_of(model_admin) is None
    )

    assert reached == FROM_THE_CLIENT_PAGE


def test_a_list_reached_from_its_record_passes_the_system_check():
    site = WorkspaceAdminSite(name="scratch")

    class PartOfARecordAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
        workspace_section = None

    site.register(WeeklyHours, PartOfARecordAdmin)

    assert site.check(None) == []
    assert section_of(site._registry[WeeklyHours]) is None


# --- The budget ------------------------------------------------------------------------------


def _queries(admin_client, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_her_page_costs_the_same_for_few_and_many_records(
    admin_client_mfa, amara, django_assert_max_num_queries
):
    few_client = ClientFactory()
    fill(few_client, count=1)
    fill(amara, count=12)
    admin_client_mfa.get(change_url(few_client))  # warm the per-process caches

    few = _queries(admin_client_mfa, change_url(few_client))
    many = _queries(admin_client_mfa, change_url(amara))

    assert many == few, f"{few} queries for one of each record, {many} for twelve"
    # Today 35: the admin's own, the invitation, then each panel's fixed few
    # (her course's timeline reads the course, its phase changes and sessions;
    # her access history one), and the view line sealed onto the chain (lock, tail, insert).
    with django_assert_max_num_queries(35):
        response = admin_client_mfa.get(change_url(amara))
    scores = next(
        p.data for p in response.context["client_panels"] if p.panel.name == "kap_sessions.scores"
    )
    assert [row.name for row in scores["instruments"]] == ["PHQ-9", "GAD-7", "EPDS"]
