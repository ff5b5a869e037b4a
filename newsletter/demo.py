"""Demo data for the newsletter: articles, readers in every state, a sent campaign.

Idempotent: articles are found by slug, readers by email, the campaign by its
subject; only what is missing is created.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple, TextIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from practice.identity import practice_profile
from practice.models import User

from .consent import CONSENT_TEXT_SHA256
from .models import Article, Campaign, Delivery, Subscriber

MICRO_DOSING = """\
Lately I hear the same question in almost every first conversation: *"My friend
micro-doses and says it takes the edge off. Should I just do that?"* It is a
fair question. When you are running on four hours of sleep, holding a family
together and still feeling flat or frightened inside, something small and
private that you can fit around the school run sounds like exactly the right
size of help.

I want to answer it honestly, because I think mothers deserve more than a
trend.

## What micro-dosing alone leaves out

Micro-dosing usually means taking very small amounts of a substance on your
own, on a schedule you set, often without knowing exactly what or how much is
in it. Some people say it helps them feel a little lighter. But look at what
is missing: nobody checks first whether it is safe for *your* body, your
medicines or your history; nobody is with you if something difficult comes
up; and nobody helps you make sense of what you notice. It has no beginning,
middle or end, so it can quietly become one more thing you manage alone.

## What a supervised course adds

Ketamine-assisted psychotherapy is built the other way round. The medicine is
the smallest part of it.

1. **Preparation.** We meet several times. I learn your story, you complete
   screening, and an independent prescriber reviews your health and decides
   whether the medicine is right for you at all. (I am a therapist; I do not
   prescribe.) We agree on what you hope will change.
2. **A supervised session.** About three and a half hours in a calm room at
   the practice, with me present the whole time. Someone you trust takes you
   home, and I check in with you the next day.
3. **Integration.** In the weeks that follow we meet to turn what you
   noticed into something you can live by: a boundary you can finally hold, a
   grief you can name, a little more room between you and the old fear.

It is time-limited on purpose. You know when it starts and when it ends.

## Is there a better way?

For some mothers the better way is not KAP at all: it is sleep support,
therapy on its own, a medication conversation with their doctor, or simply
being heard. Sorting that out is what the free consultation is for. If you
are curious, book a call and we will look at it together, with no pressure
either way.
"""

PREPARATION = """\
"What actually happens before the medicine session?" is the question I am
asked most, so here is the honest answer.

Preparation usually takes three or four meetings. In the first we talk about
your life now: sleep, feeding, work, the people around you, and what has
already been tried. Then come the practical parts: a few short questionnaires,
your health history, and a conversation with an independent prescriber, who
makes their own decision about whether the medicine is suitable for you.

Just as important is the part that is not on any form. We practice what to do
if a feeling gets big: how to breathe, how to ask for a pause, what words you
want me to use. We choose something to bring, perhaps a photo or a piece of
music, and we plan the day down to who is picking up the children.

Most mothers tell me that preparation alone changes something. Saying out
loud what you want, and having someone take it seriously, is not a small
thing when you usually come last on your own list.
"""

INTEGRATION = """\
The medicine session can be vivid, tender or surprisingly quiet. Whatever it
is like, the work that lasts happens afterwards, in integration.

In the days after a session many mothers notice a window: old thoughts feel
less sticky, and it is easier to see a pattern from the outside. Integration
sessions use that window. We look at what came up, what it might mean, and
what you would like to do differently on an ordinary Tuesday at 5 p.m., when
everyone is hungry and nobody is listening.

Integration is also where we notice what did not shift, without judgment.
Change is rarely a single moment; it is a handful of small choices repeated
until they feel like yours.

If you are reading this after a session of your own: be gentle with
yourself this week. Sleep when you can, keep your plans light, and write down
anything you want to remember for our next meeting.
"""

MENTAL_LOAD = """\
Remembering the vaccination appointment, noticing the shoes are too small,
knowing which friend's mother is allergic to what: the invisible planning of
family life has a name, the *mental load*, and it falls heavily on mothers.

The mental load is not a character flaw, and it is not fixed by a better app.
When it never switches off, the nervous system stays braced, and that
bracing can look a lot like anxiety, irritability or numbness.

Three small things that help more than they should:

- **Say the list out loud.** Write down everything you are holding for one
  evening. Seeing it makes it shareable.
- **Hand over whole tasks, not steps.** "You own school lunches" works;
  "can you remember the lunchboxes?" keeps you in charge.
- **Protect one unplanned hour a week.** Not productive rest; just time in
  which nobody needs you to remember anything.

If the load has turned into something heavier that these ideas do not touch,
it may be time to talk to someone. That is what I am here for.
"""


class DemoArticle(NamedTuple):
    slug: str
    title: str
    summary: str
    body: str
    published: tuple[int, int, int]


ARTICLES = [
    DemoArticle(
        slug="micro-dosing-for-moms",
        title="Micro-Dosing for Moms - Is There a Better Way?",
        summary=(
            "Why preparation, a supervised session and integration are different from "
            "micro-dosing on your own, and how to tell what might help you."
        ),
        body=MICRO_DOSING,
        published=(2026, 1, 27),
    ),
    DemoArticle(
        slug="what-happens-in-preparation",
        title="What Happens in Preparation",
        summary="What the meetings before a medicine session are for, and why they matter.",
        body=PREPARATION,
        published=(2026, 2, 17),
    ),
    DemoArticle(
        slug="integration-where-change-lasts",
        title="Integration: Where the Change Is Made to Last",
        summary="What the weeks after a session are for, and how to look after yourself.",
        body=INTEGRATION,
        published=(2026, 3, 10),
    ),
    DemoArticle(
        slug="when-the-mental-load-never-switches-off",
        title="When the Mental Load Never Switches Off",
        summary="The invisible planning of family life, and three small things that help.",
        body=MENTAL_LOAD,
        published=(2026, 4, 7),
    ),
]

READERS = [
    # (email, first name, status, days ago she signed up)
    ("maya.ellison@example.com", "Maya", Subscriber.Status.CONFIRMED, 120),
    ("priya.raman@example.com", "Priya", Subscriber.Status.CONFIRMED, 90),
    ("jo.castillo@example.com", "", Subscriber.Status.CONFIRMED, 45),
    ("hannah.osei@example.com", "Hannah", Subscriber.Status.CONFIRMED, 20),
    ("lucia.moretti@example.com", "Lucia", Subscriber.Status.PENDING, 1),
    ("tess.nguyen@example.com", "", Subscriber.Status.PENDING, 4),
    ("rachel.burns@example.com", "Rachel", Subscriber.Status.UNSUBSCRIBED, 150),
]


def _morning(day: tuple[int, int, int]) -> datetime:
    year, month, date = day
    return datetime(year, month, date, 9, 0, tzinfo=ZoneInfo(settings.PRACTICE_TIME_ZONE))


def seed(*, stdout: TextIO) -> None:
    author = User.objects.filter(is_staff=True).order_by("pk").first()
    for spec in ARTICLES:
        Article.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "title": spec.title,
                "summary": spec.summary,
                "body": spec.body,
                "author": author,
                "status": Article.Status.PUBLISHED,
                "published_at": _morning(spec.published),
            },
        )

    now = timezone.now()
    terms_version = practice_profile().terms_version
    for email, first_name, status, days_ago in READERS:
        signed_up = now - timedelta(days=days_ago)
        Subscriber.objects.get_or_create(
            email=email,
            defaults={
                "first_name": first_name,
                "status": status,
                "consent_at": signed_up,
                "consent_page": "/",
                "consent_terms_version": terms_version,
                "consent_text_sha256": CONSENT_TEXT_SHA256,
                "consent_ip": "203.0.113.10",
                "consent_user_agent": "Mozilla/5.0 (demo)",
                "confirmation_sent_at": signed_up,
                "confirmed_at": (
                    signed_up + timedelta(minutes=7)
                    if status != Subscriber.Status.PENDING
                    else None
                ),
                "unsubscribed_at": (
                    signed_up + timedelta(days=60)
                    if status == Subscriber.Status.UNSUBSCRIBED
                    else None
                ),
            },
        )

    first = Article.objects.get(slug="micro-dosing-for-moms")
    sent_at = _morning((2026, 1, 28))
    campaign, created = Campaign.objects.get_or_create(
        subject=first.title,
        defaults={
            "article": first,
            "body": "A new article from the practice, about a question I hear every week.",
            "status": Campaign.Status.SENT,
            "started_at": sent_at,
            "finished_at": sent_at + timedelta(minutes=1),
            "progress_at": sent_at + timedelta(minutes=1),
            "created_by": author,
        },
    )
    if created:
        readers = Subscriber.objects.exclude(status=Subscriber.Status.PENDING)
        Delivery.objects.bulk_create(
            Delivery(
                campaign=campaign,
                subscriber=reader,
                status=Delivery.Status.SENT,
                sent_at=sent_at,
            )
            for reader in readers
        )
        campaign.recipients_total = campaign.sent_count = readers.count()
        campaign.save(update_fields=["recipients_total", "sent_count"])

    stdout.write(
        f"  Newsletter: {Article.objects.count()} articles, "
        f"{Subscriber.objects.confirmed().count()} confirmed readers, "
        f"{Campaign.objects.filter(status=Campaign.Status.SENT).count()} sent campaign(s)\n"
    )
