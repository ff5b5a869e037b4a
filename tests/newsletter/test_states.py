"""The newsletter's state machines, and the transactions their services run in."""

from __future__ import annotations

import pytest
from django.db import transaction

from newsletter import services
from newsletter.models import Campaign, Subscriber
from newsletter.tokens import reader_token
from practice.transitions import InvalidTransition, transitions_complete
from tests.newsletter.factories import CampaignFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [Subscriber, Campaign])
def test_every_state_of_each_newsletter_machine_is_in_its_map(model) -> None:  # type: ignore[no-untyped-def]
    assert transitions_complete(model) == []


def test_saving_a_campaign_that_jumped_from_draft_to_sent_is_refused(practice_profile) -> None:
    campaign = CampaignFactory()
    campaign.status = Campaign.Status.SENT

    with pytest.raises(InvalidTransition):
        campaign.save()

    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT


def test_saving_a_reader_who_left_straight_back_to_confirmed_is_refused(practice_profile) -> None:
    reader = SubscriberFactory(unsubscribed=True)
    reader = Subscriber.objects.get(pk=reader.pk)
    reader.status = Subscriber.Status.CONFIRMED

    with pytest.raises(InvalidTransition):
        reader.save()

    assert Subscriber.objects.get(pk=reader.pk).status == Subscriber.Status.UNSUBSCRIBED


def test_a_refused_transition_says_which_move_in_words(practice_profile) -> None:
    campaign = Campaign.objects.get(pk=CampaignFactory(status=Campaign.Status.SENT).pk)

    with pytest.raises(InvalidTransition) as caught:
        services.campaign_transition(campaign=campaign, to=Campaign.Status.SENDING)

    assert caught.value.messages == ["A campaign that is sent cannot become sending."]


def test_sending_a_campaign_inside_another_transaction_is_refused(practice_profile) -> None:
    campaign = CampaignFactory()

    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        services.campaign_send(campaign=campaign)

    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT


def test_unsubscribing_inside_another_transaction_is_refused(reader) -> None:
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        services.subscriber_unsubscribe(token=reader_token(reader))

    assert Subscriber.objects.get(pk=reader.pk).status == Subscriber.Status.CONFIRMED


def test_the_transitions_still_join_their_callers_transaction(reader) -> None:
    with transaction.atomic():
        services.subscriber_transition(subscriber=reader, to=Subscriber.Status.UNSUBSCRIBED)
        transaction.set_rollback(True)

    assert Subscriber.objects.get(pk=reader.pk).status == Subscriber.Status.CONFIRMED
