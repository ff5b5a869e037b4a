from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from practice.models import AuditEvent
from practice.services import audit_record
from tests.factories import ClientFactory


@pytest.fixture
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("asynchronous commit is PostgreSQL's")


pytestmark = pytest.mark.django_db


def test_opening_a_client_record_in_the_admin_is_audited(admin_client_mfa, therapist):
    record = ClientFactory(first_name="Carmen", last_name="Reyes")

    response = admin_client_mfa.get(f"/admin/practice/client/{record.pk}/change/")

    assert response.status_code == 200
    event = AuditEvent.objects.get()
    assert (event.actor_id, event.action, event.client_id) == (therapist.pk, "view", record.pk)
    assert event.object_type == "practice.client"
    assert event.object_repr == f"client #{record.pk}"
    assert event.ip_address == "127.0.0.1"
    assert event.path == f"/admin/practice/client/{record.pk}/change/"


def test_saving_a_client_record_is_audited(admin_client_mfa, therapist):
    record = ClientFactory()

    admin_client_mfa.post(
        f"/admin/practice/client/{record.pk}/change/",
        {
            "first_name": record.first_name,
            "last_name": record.last_name,
            "preferred_name": "",
            "status": "active",
            "email": record.email,
            "phone": "",
            "date_of_birth": "",
            "user": "",
        },
    )

    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["change"]


def test_the_audit_log_cannot_be_edited_or_deleted_in_the_admin(admin_client_mfa, therapist):
    record = ClientFactory()
    admin_client_mfa.get(f"/admin/practice/client/{record.pk}/change/")
    event = AuditEvent.objects.get()

    delete = admin_client_mfa.post(
        f"/admin/practice/auditevent/{event.pk}/delete/", {"post": "yes"}
    )
    listing = admin_client_mfa.get("/admin/practice/auditevent/")

    assert delete.status_code == 403
    assert AuditEvent.objects.count() == 1
    assert listing.status_code == 200


# --- A page view's line, made durable by the session's save after it --------------------


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return str(cursor.fetchone()[0])


def signed_in_request(user, path: str = "/portal/"):  # type: ignore[no-untyped-def]
    request = RequestFactory().get(path)
    request.user = user
    request.session = SessionStore()
    return request


def writes_its_line_unflushed(sql: str) -> bool:
    return "practice_auditevent" in sql and "synchronous_commit" in sql


@pytest.mark.django_db(transaction=True)
def test_a_portal_view_line_reaches_the_disk_with_the_session_save_after_it(
    client, client_user, practice_profile, postgres_only
):
    client.force_login(client_user)

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/portal/")

    assert response.status_code == 200
    statements = [query["sql"] for query in captured.captured_queries]
    line = next(i for i, sql in enumerate(statements) if "practice_auditevent" in sql)
    assert writes_its_line_unflushed(statements[line])
    # The session's save comes after it and commits durably (the default, left as it was).
    save = next(i for i, sql in enumerate(statements) if sql.startswith('UPDATE "django_session"'))
    assert line < save < statements.index("COMMIT")
    assert synchronous_commit() == "on"
    assert AuditEvent.objects.get().client_id == client_user.client.pk


@pytest.mark.django_db(transaction=True)
def test_a_line_inside_a_transaction_waits_for_the_disk_with_the_transaction(
    client_user, postgres_only
):
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        audit_record(
            actor=client_user,
            action=AuditEvent.Action.VIEW,
            obj=client_user.client,
            request=signed_in_request(client_user),
            durable_with_session=True,
        )
        assert synchronous_commit() == "on"

    assert not any(writes_its_line_unflushed(query["sql"]) for query in captured.captured_queries)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", ["no_session_save", "anonymous", "not_asked"])
def test_a_line_with_no_durable_save_after_it_waits_for_the_disk_itself(
    case, client_user, settings, postgres_only
):
    user: object = client_user
    if case == "no_session_save":
        settings.SESSION_SAVE_EVERY_REQUEST = False
    if case == "anonymous":
        user = AnonymousUser()

    with CaptureQueriesContext(connection) as captured:
        audit_record(
            actor=None,
            action=AuditEvent.Action.VIEW,
            obj=client_user.client,
            request=signed_in_request(user),
            durable_with_session=case != "not_asked",
        )

    assert not any(writes_its_line_unflushed(query["sql"]) for query in captured.captured_queries)
    assert AuditEvent.objects.count() == 1
