"""The blog: lists, pages, share links, the feed, and their query budgets."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from newsletter.models import Article
from tests.newsletter.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def test_articles_are_listed_newest_first_and_drafts_are_hidden(anonymous):
    ArticleFactory(title="Older", published_at=timezone.now() - timedelta(days=9))
    ArticleFactory(title="Newer", published_at=timezone.now() - timedelta(days=2))
    ArticleFactory(title="Secret draft", status=Article.Status.DRAFT, published_at=None)
    ArticleFactory(
        title="Next week",
        status=Article.Status.SCHEDULED,
        published_at=timezone.now() + timedelta(days=7),
    )

    html = anonymous.get("/articles/").content.decode()

    assert html.index("Newer") < html.index("Older")
    assert "Secret draft" not in html
    assert "Next week" not in html


def test_a_scheduled_article_appears_on_its_own_when_due(anonymous):
    article = ArticleFactory(
        title="Next week",
        status=Article.Status.SCHEDULED,
        published_at=timezone.now() + timedelta(days=7),
    )
    assert anonymous.get(article.get_absolute_url()).status_code == 404

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert anonymous.get(article.get_absolute_url()).status_code == 200
        assert "Next week" in anonymous.get("/articles/").content.decode()


def test_articles_are_paginated(anonymous):
    for n in range(12):
        ArticleFactory(title=f"Piece {n:02}", published_at=timezone.now() - timedelta(days=n + 1))

    first = anonymous.get("/articles/").content.decode()
    second = anonymous.get("/articles/?page=2").content.decode()

    assert ("Piece 00" in first, "Piece 10" in first) == (True, False)
    assert ("Piece 10" in second, "Piece 00" in second) == (True, False)
    assert 'rel="next"' in first


def test_article_body_is_rendered_from_markdown_and_sanitised(anonymous):
    article = ArticleFactory(
        body=(
            "## Rest\n\nSleep **matters**.\n\n<script>alert(1)</script>"
            '<a href="javascript:alert(1)" onclick="x()">bad</a>'
        )
    )

    html = anonymous.get(article.get_absolute_url()).content.decode()

    assert "<h2>Rest</h2>" in html
    assert "<strong>matters</strong>" in html
    assert "alert(1)" not in html
    assert "onclick" not in html


def test_share_links_are_plain_links_with_no_third_party_script(anonymous):
    article = ArticleFactory(title="Rest", slug="rest")

    html = anonymous.get("/articles/rest/").content.decode()

    assert (
        'href="mailto:?subject=Rest&amp;body=http%3A%2F%2Flocalhost%3A8000%2Farticles%2Frest%2F"'
        in html
    )
    assert (
        "https://www.facebook.com/sharer/sharer.php?u=http%3A%2F%2Flocalhost%3A8000%2Farticles%2Frest%2F"
        in html
    )
    scripts = [line for line in html.splitlines() if "<script" in line]
    assert scripts == ['  <script src="/static/js/newsletter.js" defer></script>']
    assert article.title in html


def test_every_article_ends_with_an_invitation_to_book_the_free_consultation(anonymous):
    article = ArticleFactory(title="Rest", slug="rest", body="Sleep matters.\n\nThe end.")

    html = anonymous.get(article.get_absolute_url()).content.decode()

    invitation = html[html.index('<aside class="article-invitation"') :]
    invitation = invitation[: invitation.index("</aside>")]
    assert html.index("The end.") < html.index('<aside class="article-invitation"')
    assert html.index("</aside>") < html.index('<footer class="article-footer">')
    assert "free consultation with Lena Marsh, LMFT" in invitation
    assert '<a class="button" href="/consultation/">Book a free consultation</a>' in invitation
    assert reverse("consultations:book") == "/consultation/"
    booking_page = anonymous.get("/consultation/")
    assert booking_page.status_code == 200
    assert "<title>Book a free consultation" in booking_page.content.decode()


def test_the_article_list_offers_the_newsletter_signup_once(anonymous):
    ArticleFactory.create_batch(2)

    html = anonymous.get("/articles/").content.decode()

    assert html.count("data-signup-form") == 1
    assert html.count('<h2 id="articles-signup-heading">Sign up to my newsletter</h2>') == 1
    assert html.index('class="article-list"') < html.index('id="articles-signup-heading"')
    assert '<input type="hidden" name="page" value="/articles/" id="id_page">' in html
    assert '<a href="#articles-signup-heading">Get new articles by email</a>' in html


def test_drafts_are_visible_to_staff_only(anonymous, admin_client_mfa):
    draft = ArticleFactory(title="Work in progress", status=Article.Status.DRAFT, published_at=None)

    assert anonymous.get(draft.get_absolute_url()).status_code == 404
    staff_view = admin_client_mfa.get(draft.get_absolute_url()).content.decode()
    assert "Not public yet" in staff_view


def test_feed_lists_live_articles_with_absolute_links(anonymous):
    ArticleFactory(title="Rest", slug="rest", summary="On sleep.")
    ArticleFactory(title="Draft", status=Article.Status.DRAFT, published_at=None)

    response = anonymous.get("/articles/feed/")

    body = response.content.decode()
    assert response["Content-Type"].startswith("application/atom+xml")
    assert '<link href="http://localhost:8000/articles/rest/" rel="alternate"/>' in body
    assert "<summary" in body and "On sleep." in body
    assert "Draft" not in body


def test_article_list_query_count_does_not_grow_with_articles(
    anonymous, django_assert_max_num_queries
):
    ArticleFactory.create_batch(3)
    with django_assert_max_num_queries(3):
        anonymous.get("/articles/")
    ArticleFactory.create_batch(20)
    with django_assert_max_num_queries(3):
        anonymous.get("/articles/")


def test_home_page_articles_block_costs_one_query(anonymous, django_assert_max_num_queries):
    from practice.pagecache import shared_pages_forget

    ArticleFactory.create_batch(2)
    anonymous.get("/")  # warms the practice profile cache
    shared_pages_forget()
    with django_assert_max_num_queries(1):
        html = anonymous.get("/").content.decode()
    assert html.count('class="article-card"') == 2
    ArticleFactory.create_batch(10)
    shared_pages_forget()
    with django_assert_max_num_queries(1):
        html = anonymous.get("/").content.decode()
    assert html.count('class="article-card"') == 3


def test_demo_seed_is_idempotent_and_starts_with_the_micro_dosing_article(db, practice_profile):
    from newsletter import demo

    demo.seed(stdout=StringIO())
    demo.seed(stdout=StringIO())

    first = Article.objects.order_by("published_at").first()
    assert first.title == "Micro-Dosing for Moms - Is There a Better Way?"
    assert timezone.localdate(first.published_at).isoformat() == "2026-01-27"
    assert Article.objects.count() == 4
