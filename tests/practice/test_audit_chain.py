"""The audit trail holds: the database refuses edits, the chain names what was tampered with.

Lines are written unsealed during a request and sealed onto the chain by the
sealer (``practice.audit_seal``) seconds later; the tampering tests start
from sealed lines, as an intruder would find them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.urls import reverse

from practice import audit
from practice.audit import (
    UNSEALED_MAX_AGE,
    AuditCheck,
    audit_check_record,
    audit_seal,
    audit_verify,
)
from practice.models import AuditCheckResult, AuditEvent, Client
from practice.services import audit_record
from practice.tasks import seal_audit
from tests.conftest import enrol_totp
from tests.factories import (
    AppointmentFactory,
    ClientDocumentFactory,
    ClientFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TRIGGER = "practice_auditevent_append_only"


@pytest.fixture
def postgres(settings) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only")


@contextmanager
def trigger_disabled() -> Iterator[None]:
    """What someone with the table owner's rights would do first to tamper with the log."""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE practice_auditevent DISABLE TRIGGER {TRIGGER}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE practice_auditevent ENABLE TRIGGER {TRIGGER}")


def record_views(count: int) -> list[AuditEvent]:
    """``count`` views of one client's record by the therapist, as a request writes them."""
    staff: Any = StaffFactory()
    client: Any = ClientFactory()
    return [
        audit_record(actor=staff, action=AuditEvent.Action.VIEW, obj=client) for _ in range(count)
    ]


def sealed_views(count: int) -> list[AuditEvent]:
    """The same views once the sealer has run, read back from the table."""
    events = record_views(count)
    audit_seal()
    return [AuditEvent.objects.get(pk=event.pk) for event in events]


def chain() -> list[tuple[int, int | None, bool]]:
    """Each row's id, position and whether it chains to the row before it, in chain order."""
    rows = AuditEvent.objects.order_by("chain_position", "id").values_list(
        "id", "chain_position", "prev_hash", "hash"
    )
    previous_hash = ""
    found = []
    for event_id, position, prev_hash, hash_ in rows:
        found.append((event_id, position, position is not None and prev_hash == previous_hash))
        previous_hash = hash_
    return found


def test_a_line_is_written_unsealed_and_the_check_seals_it_first():
    events = record_views(3)
    written = [(e.chain_position, e.prev_hash, e.hash) for e in AuditEvent.objects.order_by("id")]

    check = audit_verify()

    assert written == [(None, "", "")] * 3
    assert check == AuditCheck(ok=True, checked=3)
    assert chain() == [(events[0].pk, 1, True), (events[1].pk, 2, True), (events[2].pk, 3, True)]
    assert [len(e.hash) for e in AuditEvent.objects.all()] == [64, 64, 64]


def test_the_seal_task_seals_what_is_waiting_and_nothing_twice():
    first, second = record_views(2)

    sealed = seal_audit()
    [third] = record_views(1)
    again = seal_audit()

    assert (sealed, again) == (2, 1)
    assert chain() == [(first.pk, 1, True), (second.pk, 2, True), (third.pk, 3, True)]
    assert audit_verify(seal=False) == AuditCheck(ok=True, checked=3)


def test_beat_seals_every_ten_seconds(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["practice-seal-audit"]

    assert entry == {"task": "practice.audit_seal", "schedule": 10.0}


def test_a_line_rings_the_sealer_once_it_commits(
    monkeypatch, eager_tasks, django_capture_on_commit_callbacks
):
    audit._doorbell.reset()
    with django_capture_on_commit_callbacks(execute=True):
        [event] = record_views(1)
        waiting = AuditEvent.objects.get(pk=event.pk).chain_position

    assert waiting is None
    assert AuditEvent.objects.get(pk=event.pk).chain_position == 1


def test_a_burst_of_lines_rings_the_sealer_once_per_window(
    monkeypatch, django_capture_on_commit_callbacks
):
    rung: list[str] = []
    monkeypatch.setattr(audit, "enqueue", lambda name, **kwargs: rung.append(name) or True)
    audit._doorbell.reset()
    with django_capture_on_commit_callbacks(execute=True):
        record_views(3)
    monkeypatch.setattr(audit, "WAKE_COALESCE_SECONDS", 0.0)
    with django_capture_on_commit_callbacks(execute=True):
        record_views(1)

    assert rung == ["practice.audit_seal", "practice.audit_seal"]


def test_the_check_names_a_line_left_unsealed_too_long():
    [event] = record_views(1)

    soon = audit_verify(seal=False, now=event.at + UNSEALED_MAX_AGE - timedelta(seconds=1))
    late = audit_verify(seal=False, now=event.at + UNSEALED_MAX_AGE + timedelta(seconds=1))

    assert soon == AuditCheck(ok=True, checked=0)
    assert late == AuditCheck(
        ok=False,
        checked=0,
        first_bad_id=event.pk,
        problem=f"Event #{event.pk} is still not sealed more than 10 minutes after it was "
        "written: the sealer (practice.audit_seal) is not running.",
    )


def test_the_database_refuses_to_update_an_audit_row(postgres):
    [event] = sealed_views(1)

    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE practice_auditevent SET object_id = %s WHERE id = %s", ["0", event.pk]
        )

    assert AuditEvent.objects.get().object_id == event.object_id


def test_the_database_refuses_to_delete_an_audit_row(postgres):
    [sealed] = sealed_views(1)
    [event] = record_views(1)

    for target in (event, sealed):  # waiting for the sealer, and sealed
        refused = pytest.raises(DatabaseError, match="append-only")
        with refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM practice_auditevent WHERE id = %s", [target.pk])

    assert sorted(AuditEvent.objects.values_list("id", flat=True)) == [sealed.pk, event.pk]


SEAL = "UPDATE practice_auditevent SET chain_position = %s, prev_hash = %s, hash = %s"


def refused_update(sql: str, params: list[Any]) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def test_the_database_lets_only_the_sealing_of_an_unsealed_row_through(postgres):
    [sealed] = sealed_views(1)
    [waiting] = record_views(1)
    before = list(AuditEvent.objects.order_by("id").values())

    # A sealed row is never sealed again, moved, or given another predecessor.
    refused_update(f"{SEAL} WHERE id = %s", [sealed.chain_position, "", "f" * 64, sealed.pk])
    refused_update("UPDATE practice_auditevent SET chain_position = 7 WHERE id = %s", [sealed.pk])
    refused_update("UPDATE practice_auditevent SET prev_hash = 'x' WHERE id = %s", [sealed.pk])
    # A row waiting for the sealer: its content cannot change, not even along with its seal.
    refused_update("UPDATE practice_auditevent SET path = '/x' WHERE id = %s", [waiting.pk])
    refused_update(f"{SEAL}, object_id = '0' WHERE id = %s", [2, sealed.hash, "e" * 64, waiting.pk])
    # A seal needs a position and a hash.
    refused_update(f"{SEAL} WHERE id = %s", [None, sealed.hash, "e" * 64, waiting.pk])
    unchanged = list(AuditEvent.objects.order_by("id").values())
    with connection.cursor() as cursor:
        cursor.execute(f"{SEAL} WHERE id = %s", [2, sealed.hash, "e" * 64, waiting.pk])

    assert unchanged == before
    assert AuditEvent.objects.get(pk=waiting.pk).chain_position == 2
    refused_update(f"{SEAL} WHERE id = %s", [2, sealed.hash, "d" * 64, waiting.pk])


def test_the_check_names_the_altered_event(postgres):
    first, second, third = sealed_views(3)
    with trigger_disabled(), connection.cursor() as cursor:
        cursor.execute("UPDATE practice_auditevent SET actor_id = NULL WHERE id = %s", [second.pk])

    check = audit_verify()

    assert (check.ok, check.checked, check.first_bad_id) == (False, 1, second.pk)
    assert (
        check.problem == f"Event #{second.pk} was altered: its content no longer matches its hash."
    )


def test_the_check_names_the_event_after_a_removed_one(postgres):
    first, second, third = sealed_views(3)
    with trigger_disabled(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM practice_auditevent WHERE id = %s", [second.pk])

    check = audit_verify()

    assert (check.ok, check.first_bad_id) == (False, third.pk)
    assert check.problem == (
        f"Event #{third.pk} does not follow event #{first.pk}: an event between them was removed."
    )


def test_the_check_names_a_reordered_pair(postgres):
    first, second, third = sealed_views(3)
    move = "UPDATE practice_auditevent SET chain_position = %s WHERE id = %s"
    with trigger_disabled(), connection.cursor() as cursor:
        cursor.execute(move, [1000, first.pk])
        cursor.execute(move, [first.chain_position, second.pk])
        cursor.execute(move, [second.chain_position, first.pk])

    check = audit_verify()

    assert (check.ok, check.first_bad_id) == (False, second.pk)
    assert check.problem == (
        f"Event #{second.pk} is out of order: it follows event #{first.pk}, "
        f"which now comes after it."
    )


def test_verify_audit_exits_with_1_naming_the_event(postgres, capsys):
    first, second = record_views(2)
    call_command("verify_audit")
    assert capsys.readouterr().out == "Audit trail intact: 2 events checked.\n"
    with trigger_disabled(), connection.cursor() as cursor:
        cursor.execute("UPDATE practice_auditevent SET path = '/x' WHERE id = %s", [first.pk])

    with pytest.raises(CommandError) as broken:
        call_command("verify_audit")

    assert broken.value.returncode == 1
    assert str(broken.value) == (
        f"Audit trail broken after 0 good events: Event #{first.pk} was altered: "
        "its content no longer matches its hash."
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_sealers_keep_one_valid_chain(postgres):
    staff = StaffFactory()
    client = ClientFactory()
    writers, each = 6, 5
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write_and_seal() -> None:
        try:
            start.wait()
            for _ in range(each):
                with transaction.atomic(durable=True):
                    audit_record(actor=staff, action=AuditEvent.Action.VIEW, obj=client)
                audit_seal()  # as the job the line rang for would, in another worker
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write_and_seal) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert audit_verify(seal=False) == AuditCheck(ok=True, checked=writers * each)
    rows = chain()
    assert [position for _, position, _ in rows] == list(range(1, writers * each + 1))
    assert all(chained for _, _, chained in rows)
    hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(hashes)) == writers * each  # no two rows sealed onto the same one


@pytest.mark.django_db(transaction=True)
def test_a_line_that_commits_after_a_later_one_is_sealed_after_it(postgres):
    staff = StaffFactory()
    client = ClientFactory()
    written = threading.Event()
    sealed_meanwhile = threading.Event()
    early: list[AuditEvent] = []

    def long_request() -> None:
        try:
            with transaction.atomic(durable=True):
                early.append(audit_record(actor=staff, action=AuditEvent.Action.VIEW, obj=client))
                written.set()
                sealed_meanwhile.wait(timeout=30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=long_request)
    thread.start()
    assert written.wait(timeout=30)
    later = audit_record(actor=staff, action=AuditEvent.Action.VIEW, obj=client)
    first_run = audit_seal()
    sealed_meanwhile.set()
    thread.join()
    second_run = audit_seal()

    [earlier] = early
    assert earlier.pk < later.pk
    assert (first_run, second_run) == (1, 1)
    assert chain() == [(later.pk, 1, True), (earlier.pk, 2, True)]
    assert audit_verify(seal=False) == AuditCheck(ok=True, checked=2)


def test_deleting_a_user_and_her_record_leaves_the_ids(postgres):
    staff = StaffFactory()
    user = UserFactory()
    client = ClientFactory(user=user)
    audit_record(actor=staff, action=AuditEvent.Action.VIEW, obj=client)
    audit_record(actor=user, action=AuditEvent.Action.VIEW, obj=client)
    ids = (staff.pk, user.pk, client.pk)

    Client.objects.filter(pk=client.pk).delete()
    user.delete()
    staff.delete()

    assert list(AuditEvent.objects.order_by("id").values_list("actor_id", "client_id")) == [
        (ids[0], ids[2]),
        (ids[1], ids[2]),
    ]
    assert audit_verify().ok is True


# --- Today ------------------------------------------------------------------------

NOW = datetime(2027, 3, 10, 17, tzinfo=UTC)


def audit_panel(browser, therapist) -> str:  # type: ignore[no-untyped-def]
    browser.force_login(therapist)  # at the travelled time: staff sessions are short
    html = browser.get("/admin/").content.decode()
    section = html[html.index('class="today-panel today-panel-practice-audit-trail"') :]
    return section[: section.index("</section>")]


def test_today_shows_the_last_check_and_alerts_when_broken(client, therapist, postgres):
    first, second = record_views(2)
    with time_machine.travel(NOW - timedelta(hours=3), tick=False):
        audit_check_record()
    with time_machine.travel(NOW, tick=False):
        ok_panel = audit_panel(client, therapist)
    with trigger_disabled(), connection.cursor() as cursor:
        cursor.execute("UPDATE practice_auditevent SET path = '/x' WHERE id = %s", [second.pk])
    with time_machine.travel(NOW - timedelta(hours=1), tick=False):
        audit_check_record()
    with time_machine.travel(NOW, tick=False):
        broken_panel = audit_panel(client, therapist)

    assert "Intact: 2 events checked" in ok_panel
    assert "panel-alert" not in ok_panel
    assert "The audit trail is broken." in broken_panel
    assert f"Event #{second.pk} was altered" in broken_panel
    assert list(AuditCheckResult.objects.values_list("ok", flat=True)) == [False, True]


def test_today_alerts_when_no_check_ran_for_two_days(client, therapist):
    record_views(1)
    with time_machine.travel(NOW - timedelta(days=2, minutes=1), tick=False):
        audit_check_record()

    with time_machine.travel(NOW, tick=False):
        stale = audit_panel(client, therapist)
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        fresh = audit_panel(client, therapist)

    assert "No check for more than two days." in stale
    assert "No check for more than two days." not in fresh


# --- Her access history -----------------------------------------------------------


def test_her_page_lists_who_opened_her_record_and_exports_it_audited(
    admin_client_mfa, therapist, client_user
):
    her = Client.objects.get(user=client_user)
    audit_record(actor=client_user, action=AuditEvent.Action.DOWNLOAD, obj=her)
    audit_record(
        actor=client_user,
        action=AuditEvent.Action.VIEW,
        obj=Client,
        object_id="999",
        client=her,
        outcome=AuditEvent.Outcome.NOT_FOUND,
    )
    url = reverse("admin:practice_client_change", args=[her.pk])

    response = admin_client_mfa.get(url)
    [panel] = [
        p.data
        for p in response.context["client_panels"]
        if p.panel.name == "practice.access_history"
    ]
    csv_response = admin_client_mfa.get(panel["csv_url"])
    rows = [line.split(",") for line in csv_response.content.decode().splitlines()]

    # The page's own view line is written once the page is shown: in the CSV.
    assert [(e["who"], e["action"], e["object"], e["outcome"]) for e in panel["events"]] == [
        ("Her", "Viewed", "client", "Not found"),
        ("Her", "Downloaded", "client", "Allowed"),
    ]
    assert "Download access history (CSV)" in response.content.decode()
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    assert [row[2:7] for row in rows[1:]] == [
        ["Lena Marsh", "view", "practice.client", str(her.pk), "ok"],
        ["Her", "view", "practice.client", "999", "not_found"],
        ["Her", "download", "practice.client", str(her.pk), "ok"],
    ]
    export = AuditEvent.objects.order_by("id").last()
    assert (export.actor_id, export.action, export.client_id, export.path) == (
        therapist.pk,
        "export",
        her.pk,
        panel["csv_url"],
    )
    assert audit_verify().ok is True


def test_the_access_history_csv_needs_the_audit_permission(client, practice_profile):
    her = ClientFactory()
    staff = StaffFactory(is_superuser=False)
    enrol_totp(staff)
    client.force_login(staff)

    response = client.get(reverse("admin:practice_auditevent_client_csv", args=[her.pk]))

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="export").exists()


def test_another_clients_document_in_the_portal_is_audited_as_not_found(
    client, client_user, other_client_user
):
    theirs = ClientDocumentFactory(
        client=Client.objects.get(user=other_client_user), visible_to_client=True
    )
    her = Client.objects.get(user=client_user)
    client.force_login(client_user)

    response = client.get(reverse("kap_sessions:portal_document", args=[theirs.pk]))

    assert response.status_code == 404
    event = AuditEvent.objects.get()
    assert (event.actor_id, event.client_id, event.object_type, event.object_id) == (
        client_user.pk,
        her.pk,
        "practice.clientdocument",
        str(theirs.pk),
    )
    assert (event.outcome, event.ip_address) == ("not_found", "127.0.0.1")


def test_her_calendar_file_is_audited_and_another_clients_is_audited_as_not_found(
    client, client_user, other_client_user
):
    her = Client.objects.get(user=client_user)
    mine = AppointmentFactory(kind="preparation", client=her)
    theirs = AppointmentFactory(
        kind="preparation",
        client=Client.objects.get(user=other_client_user),
        start=mine.start + timedelta(hours=2),
    )
    client.force_login(client_user)

    got = client.get(reverse("kap_sessions:portal_appointment_ics", args=[mine.pk]))
    refused = client.get(reverse("kap_sessions:portal_appointment_ics", args=[theirs.pk]))

    assert (got.status_code, refused.status_code) == (200, 404)
    assert [
        (e.action, e.object_type, e.object_id, e.client_id, e.outcome)
        for e in AuditEvent.objects.order_by("id")
    ] == [
        ("download", "practice.appointment", str(mine.pk), her.pk, "ok"),
        ("view", "practice.appointment", str(theirs.pk), her.pk, "not_found"),
    ]


def test_a_consent_document_that_does_not_exist_is_audited_as_not_found(client, client_user):
    client.force_login(client_user)

    response = client.get(reverse("kap_sessions:portal_consent", args=[987654]))

    assert response.status_code == 404
    event = AuditEvent.objects.get()
    assert (event.object_type, event.object_id, event.outcome) == (
        "kap_sessions.consentdocument",
        "987654",
        "not_found",
    )


def test_staff_refused_a_clients_page_is_audited_as_refused(client, practice_profile):
    her = ClientFactory()
    staff = StaffFactory(is_superuser=False)
    enrol_totp(staff)
    client.force_login(staff)

    response = client.get(reverse("admin:practice_client_change", args=[her.pk]))

    assert response.status_code == 403
    event = AuditEvent.objects.get()
    assert (event.actor_id, event.object_type, event.object_id, event.outcome) == (
        staff.pk,
        "practice.client",
        str(her.pk),
        "refused",
    )


def test_each_portal_page_she_opens_is_a_view_of_her_record(client, client_user):
    her = Client.objects.get(user=client_user)
    client.force_login(client_user)

    for path in ("/portal/", "/portal/profile/", "/portal/intake/"):
        assert client.get(path).status_code == 200

    assert [
        (e.actor_id, e.action, e.object_type, e.object_id, e.client_id, e.path, e.outcome)
        for e in AuditEvent.objects.order_by("id")
    ] == [
        (client_user.pk, "view", "practice.client", str(her.pk), her.pk, path, "ok")
        for path in ("/portal/", "/portal/profile/", "/portal/intake/")
    ]
    assert audit_verify().ok is True
