"""Newsletter readers and their consent, the practice's articles, and campaigns.

A reader's state moves only through ``services.subscriber_transition``; a
campaign's through ``services.campaign_transition``. Both models enforce
their ``TRANSITIONS`` map on save (``practice.transitions``). Sending is
described in ``newsletter/sending.py``.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from practice.transitions import Transitions


class SubscriberQuerySet(models.QuerySet["Subscriber"]):
    def confirmed(self) -> SubscriberQuerySet:
        return self.filter(status=Subscriber.Status.CONFIRMED)

    def pending(self) -> SubscriberQuerySet:
        return self.filter(status=Subscriber.Status.PENDING)

    def by_email(self, email: str) -> SubscriberQuerySet:
        # Lower() rather than iexact, so PostgreSQL uses the unique index
        # newsletter_subscriber_email_ci_unique.
        return self.alias(email_lower=Lower("email")).filter(email_lower=email.strip().lower())


class Subscriber(Transitions):
    """A newsletter reader and the record of her consent.

    The consent fields describe the latest opt-in: when and where she signed
    up, under which Terms version, a hash of the exact words she was shown,
    and the address and browser it came from; then when she confirmed and,
    if she left, when.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        CONFIRMED = "confirmed", "Confirmed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"

    # A pending reader may confirm or leave; a confirmed one may leave; one
    # who left may sign up again, which starts a fresh double opt-in.
    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        Status.PENDING: (Status.CONFIRMED, Status.UNSUBSCRIBED),
        Status.CONFIRMED: (Status.UNSUBSCRIBED,),
        Status.UNSUBSCRIBED: (Status.PENDING,),
    }

    class Source(models.TextChoices):
        FORM = "form", "Signup form"
        IMPORT = "import", "Imported"

    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.FORM)

    consent_at = models.DateTimeField("consent given at", default=timezone.now)
    consent_page = models.CharField("signed up on page", max_length=300, blank=True)
    consent_terms_version = models.CharField("Terms version", max_length=20, blank=True)
    consent_text_sha256 = models.CharField("hash of the consent text shown", max_length=64)
    consent_ip = models.GenericIPAddressField("IP address", null=True, blank=True)
    consent_user_agent = models.CharField("browser", max_length=300, blank=True)
    consent_note = models.TextField(
        blank=True, help_text="For imported readers: where and how they agreed."
    )
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["-consent_at"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="newsletter_subscriber_email_ci_unique",
                violation_error_message="This address is already on the list.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="confirmed") | models.Q(confirmed_at__isnull=False),
                name="newsletter_subscriber_confirmed_has_confirmed_at",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="unsubscribed")
                | models.Q(unsubscribed_at__isnull=False),
                name="newsletter_subscriber_unsubscribed_has_unsubscribed_at",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "consent_at"], name="newsletter_sub_status_idx"),
        ]

    def __str__(self) -> str:
        return self.email


class ArticleQuerySet(models.QuerySet["Article"]):
    def live(self) -> ArticleQuerySet:
        """Articles readers may see: published, or scheduled and now due."""
        return self.filter(
            models.Q(status=Article.Status.PUBLISHED) | models.Q(status=Article.Status.SCHEDULED),
            published_at__lte=timezone.now(),
        )

    def newest_first(self) -> ArticleQuerySet:
        return self.select_related("author").order_by("-published_at", "-pk")


class Article(models.Model):
    """One of the practice's articles (its blog). The body is Markdown."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    summary = models.TextField(help_text="One or two sentences for lists, feeds and emails.")
    body = models.TextField(help_text="Markdown. Raw HTML is removed when shown.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
        help_text="Shown as the byline; empty means the practice's therapist.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it goes live. A scheduled article appears on its own at this time.",
    )
    image = models.ImageField(upload_to="articles/", blank=True)
    image_alt = models.CharField(
        "image description", max_length=200, blank=True, help_text="For readers who cannot see it."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(published_at__isnull=False),
                name="newsletter_article_published_at_when_not_draft",
                violation_error_message="A scheduled or published article needs its date.",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "published_at"], name="newsletter_article_live_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("newsletter:article_detail", kwargs={"slug": self.slug})

    @property
    def is_live(self) -> bool:
        return (
            self.status != self.Status.DRAFT
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )


class Campaign(Transitions):
    """One newsletter: its own subject and body, or an article sent as is."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"

    # A scheduled campaign may go back to draft (unscheduled); once sending
    # starts it only finishes.
    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        Status.DRAFT: (Status.SCHEDULED, Status.SENDING),
        Status.SCHEDULED: (Status.DRAFT, Status.SENDING),
        Status.SENDING: (Status.SENT,),
        Status.SENT: (),
    }

    subject = models.CharField(max_length=200)
    article = models.ForeignKey(
        Article,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
        help_text="Send this article. Leave empty to write the body below.",
    )
    body = models.TextField(
        blank=True, help_text="Markdown. Used when no article is chosen, or as a short intro."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    recipients_total = models.PositiveIntegerField(
        null=True, blank=True, help_text="Confirmed readers when sending started."
    )
    sent_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    # Stamped by every batch; the beat task resumes a sending campaign whose
    # stamp grows old (its worker died).
    progress_at = models.DateTimeField(null=True, blank=True)
    test_sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(body="") | models.Q(article__isnull=False),
                name="newsletter_campaign_has_body_or_article",
                violation_error_message="Write a body or choose an article to send.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="scheduled") | models.Q(scheduled_at__isnull=False),
                name="newsletter_campaign_scheduled_has_time",
            ),
        ]
        indexes = [models.Index(fields=["status"], name="newsletter_campaign_status_idx")]

    def __str__(self) -> str:
        return self.subject


class Delivery(models.Model):
    """One campaign to one reader. The unique pair is what makes a resend impossible."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (left before her turn)"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "subscriber"], name="newsletter_delivery_one_per_reader"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="newsletter_delivery_sent_has_sent_at",
            ),
        ]
        indexes = [
            # The sender's claim: the next pending rows of one campaign in id order.
            models.Index(
                fields=["campaign", "id"],
                condition=models.Q(status="pending"),
                name="newsletter_delivery_todo_idx",
            ),
            models.Index(fields=["campaign", "status"], name="newsletter_delivery_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.subscriber_id} ({self.status})"


class SubscriberExport(models.Model):
    """A record of each export of reader data from the admin (audited as "export")."""

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    rows = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Export of {self.rows} readers at {self.created_at:%Y-%m-%d %H:%M}"
