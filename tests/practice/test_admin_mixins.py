"""Records the code keeps are shown in the admin and never added, changed or deleted there."""

from __future__ import annotations

import pytest
from django.utils import timezone

from newsletter.models import SubscriberExport
from practice.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "make"),
    [
        (
            "/admin/practice/workerheartbeat/",
            lambda: WorkerHeartbeat.objects.create(hostname="worker@a", seen_at=timezone.now()),
        ),
        ("/admin/newsletter/subscriberexport/", lambda: SubscriberExport.objects.create(rows=3)),
    ],
)
def test_kept_records_are_read_only_in_the_admin(admin_client_mfa, path, make):
    record = make()

    listing = admin_client_mfa.get(path)
    opened = admin_client_mfa.get(f"{path}{record.pk}/change/")
    added = admin_client_mfa.get(f"{path}add/")
    deleted = admin_client_mfa.post(f"{path}{record.pk}/delete/", {"post": "yes"})

    assert (listing.status_code, opened.status_code) == (200, 200)
    assert 'type="submit" value="Save"' not in opened.content.decode()
    assert (added.status_code, deleted.status_code) == (403, 403)
    assert type(record).objects.filter(pk=record.pk).exists()
