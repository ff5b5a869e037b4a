from __future__ import annotations

import pytest

from practice.models import AuditEvent
from tests.factories import ClientFactory

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
