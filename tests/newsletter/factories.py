from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from newsletter.consent import CONSENT_TEXT_SHA256
from newsletter.models import Article, Campaign, Subscriber


class SubscriberFactory(factory.django.DjangoModelFactory):
    """A reader who signed up through the form and has not confirmed yet."""

    class Meta:
        model = Subscriber

    email = factory.Sequence(lambda n: f"reader{n}@example.com")
    status = Subscriber.Status.PENDING
    consent_page = "/"
    consent_terms_version = "2026-01"
    consent_text_sha256 = CONSENT_TEXT_SHA256
    consent_ip = "203.0.113.7"
    consent_user_agent = "Mozilla/5.0 (test)"

    class Params:
        confirmed = factory.Trait(
            status=Subscriber.Status.CONFIRMED,
            confirmed_at=factory.LazyFunction(timezone.now),
        )
        unsubscribed = factory.Trait(
            status=Subscriber.Status.UNSUBSCRIBED,
            confirmed_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=10)),
            unsubscribed_at=factory.LazyFunction(timezone.now),
        )


class ArticleFactory(factory.django.DjangoModelFactory):
    """A published article, dated a day ago unless told otherwise."""

    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"Article number {n}")
    slug = factory.Sequence(lambda n: f"article-number-{n}")
    summary = "A short piece for mothers."
    body = "Some **plain** words.\n\nA second paragraph."
    status = Article.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    subject = "News from the practice"
    body = "Hello from the practice.\n\nA new article is up."
