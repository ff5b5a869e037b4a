"""Erasing at once, on request: newsletter readers and unconverted consultation requests."""

from __future__ import annotations

import pytest
from django.urls import reverse

from consultations.models import Consultation
from newsletter.models import Delivery, Subscriber
from practice.models import Appointment, AuditEvent
from tests.consultations.factories import ConsultationFactory
from tests.factories import ClientFactory
from tests.newsletter.factories import CampaignFactory, SubscriberFactory

pytestmark = pytest.mark.django_db

READERS = reverse("admin:newsletter_subscriber_changelist")
REQUESTS = reverse("admin:consultations_consultation_changelist")


def act(admin_client_mfa, url, rows, *, confirm):  # type: ignore[no-untyped-def]
    data = {"action": "erase_selected", "_selected_action": [row.pk for row in rows]}
    if confirm:
        data["post"] = "yes"
    return admin_client_mfa.post(url, data, follow=confirm)


def test_erasing_readers_asks_first_then_deletes_them_and_their_deliveries(
    admin_client_mfa, therapist
):
    leaving = SubscriberFactory(email="leaving@example.com", confirmed=True)
    staying = SubscriberFactory(email="staying@example.com", confirmed=True)
    campaign = CampaignFactory()
    Delivery.objects.create(campaign=campaign, subscriber=leaving)
    Delivery.objects.create(campaign=campaign, subscriber=staying)

    asked = act(admin_client_mfa, READERS, [leaving], confirm=False)

    assert asked.status_code == 200
    assert "leaving@example.com" in asked.content.decode()
    assert Subscriber.objects.count() == 2

    done = act(admin_client_mfa, READERS, [leaving], confirm=True)

    assert "1 reader(s) erased for good." in done.content.decode()
    assert list(Subscriber.objects.all()) == [staying]
    assert list(Delivery.objects.values_list("subscriber_id", flat=True)) == [staying.pk]
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE)
    assert (event.actor_id, event.object_type, event.object_id) == (
        therapist.pk,
        "newsletter.subscriber",
        str(leaving.pk),
    )
    assert "leaving" not in f"{event.object_repr} {event.path}"


def test_erasing_an_unconverted_request_deletes_it_and_frees_its_time(admin_client_mfa, therapist):
    request = ConsultationFactory(email="nora@example.com")
    appointment_id = request.appointment_id

    asked = act(admin_client_mfa, REQUESTS, [request], confirm=False)
    done = act(admin_client_mfa, REQUESTS, [request], confirm=True)

    assert "Nora" in asked.content.decode()
    assert "1 request(s) erased for good." in done.content.decode()
    assert not Consultation.objects.exists()
    assert not Appointment.objects.filter(pk=appointment_id).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE)
    assert (event.actor_id, event.object_type, event.object_id) == (
        therapist.pk,
        "consultations.consultation",
        str(request.pk),
    )
    assert "nora" not in event.object_repr.lower()


def test_a_converted_request_is_not_erased(admin_client_mfa):
    converted = ConsultationFactory(client=ClientFactory())

    done = act(admin_client_mfa, REQUESTS, [converted], confirm=True)

    assert "it is kept with her record" in done.content.decode()
    assert list(Consultation.objects.all()) == [converted]
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DELETE).exists()
