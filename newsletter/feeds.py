from __future__ import annotations

from datetime import datetime

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from practice.identity import practice_profile
from practice.mail import absolute_url

from .models import Article

FEED_SIZE = 20


class ArticlesFeed(Feed):  # type: ignore[type-arg]
    feed_type = Atom1Feed

    # Absolute links from SITE_URL: the sites framework's domain is never set
    # up for this app, and feed readers keep whatever links they first saw.
    def link(self) -> str:
        return absolute_url(reverse("newsletter:article_list"))

    def feed_url(self) -> str:
        return absolute_url(reverse("newsletter:article_feed"))

    def item_link(self, item: Article) -> str:
        return absolute_url(item.get_absolute_url())

    def title(self) -> str:
        return f"{practice_profile().practice_name}: articles"

    def subtitle(self) -> str:
        return practice_profile().tagline

    def items(self) -> list[Article]:
        return list(Article.objects.live().newest_first()[:FEED_SIZE])

    def item_title(self, item: Article) -> str:
        return item.title

    def item_description(self, item: Article) -> str:
        return item.summary

    def item_pubdate(self, item: Article) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: Article) -> datetime:
        return item.updated_at

    def item_author_name(self, item: Article) -> str:
        if item.author is not None and item.author.get_full_name():
            return item.author.get_full_name()
        return practice_profile().therapist_name
