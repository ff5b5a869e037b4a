"""The newsletter under bad input: sign-up (form and in-place JSON), its links, the articles.

Every example starts from the same readers: Nora, confirmed; Ada, waiting
for her confirmation; each rolled back after the example.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.core import signing
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from newsletter.models import Subscriber
from newsletter.tokens import confirm_token, reader_token
from practice.models import OutboxMessage
from tests.factories import PracticeProfileFactory
from tests.newsletter.factories import ArticleFactory, SubscriberFactory

from .checks import (
    assert_answered_calmly,
    assert_json,
    assert_shows_what_she_typed,
    changes,
    is_html,
    row_counts,
)
from .strategies import (
    NUL,
    altered_tokens,
    any_value,
    emails,
    examples,
    free_text,
    last,
    query_strings,
    submissions,
)

pytestmark = pytest.mark.slow  # each test sends dozens to hundreds of requests

TABLES = (Subscriber, OutboxMessage)
CONFIRMED = "nora@example.com"
VALID_SIGNUP = {"email": "lena.reader@example.com", "first_name": "Lena", "page": "/articles/"}
SIGNUP_FIELDS = {
    "email": st.one_of(emails(), st.just(CONFIRMED.upper()), st.just(f" {CONFIRMED}\n")),
    "first_name": free_text(),
    "page": st.one_of(
        st.sampled_from(["/", "//evil.example/", "https://evil.example/", "/articles/\x00"]),
        any_value(),
    ),
    "website": st.one_of(st.just(""), any_value()),
}
# A new reader: her row and the email that asks her to confirm.
SIGNED_UP = {"newsletter.Subscriber": 1, "practice.OutboxMessage": 1}
# What a mail program or a browser sends as its User-Agent (a server refuses
# control characters in a header before Django sees them).
USER_AGENTS = st.one_of(
    st.just("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)"),
    st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
        max_size=2000,
    ),
)


def _expected_signup(post: dict) -> dict[str, int]:  # type: ignore[type-arg]
    if last(post.get("website")):
        return {}
    if (last(post.get("email")) or "").strip().lower() == CONFIRMED:
        return {}
    return SIGNED_UP


class SignupTests(TestCase):
    """/newsletter/: the form's POST and the same POST asking for JSON (the in-place form)."""

    @classmethod
    def setUpTestData(cls) -> None:
        PracticeProfileFactory()
        SubscriberFactory(email=CONFIRMED, confirmed=True)

    @settings(max_examples=examples(1.5))
    @given(post=submissions(VALID_SIGNUP, SIGNUP_FIELDS), user_agent=USER_AGENTS)
    @example(post=VALID_SIGNUP, user_agent="Mozilla/5.0")
    @example(post={**VALID_SIGNUP, "first_name": "Lena" + NUL}, user_agent="Mozilla/5.0")
    @example(post={**VALID_SIGNUP, "page": "/articles/" + NUL}, user_agent="Mozilla/5.0")
    def test_the_signup_form_signs_up_once_or_comes_back_with_what_she_typed(
        self, post, user_agent
    ):
        before = row_counts(TABLES)

        response = self.client.post("/newsletter/", post, HTTP_USER_AGENT=user_agent)

        assert_answered_calmly(response)
        made = changes(before, row_counts(TABLES))
        if response.status_code == 302:
            assert response["Location"] == "/newsletter/thanks/"
            assert made == _expected_signup(post)
        else:
            assert response.status_code == 400
            assert made == {}
            assert_shows_what_she_typed(response, "/newsletter/", post)

    @settings(max_examples=examples(1.5))
    @given(post=submissions(VALID_SIGNUP, SIGNUP_FIELDS))
    @example(post=VALID_SIGNUP)
    @example(post={**VALID_SIGNUP, "email": "lena@example.com" + NUL})
    def test_the_in_place_signup_answers_json_and_signs_up_once(self, post):
        before = row_counts(TABLES)

        response = self.client.post("/newsletter/", post, HTTP_ACCEPT="application/json")

        body = assert_json(response)
        made = changes(before, row_counts(TABLES))
        if response.status_code == 200:
            assert body["ok"] is True
            assert made == _expected_signup(post)
        else:
            assert response.status_code == 400
            assert body["ok"] is False
            assert body["errors"]
            assert made == {}


def _signed(payload: object, salt: str) -> str:
    return signing.dumps(payload, salt=salt, compress=True)


# Payloads no link of the practice carries, signed with the right key: a link
# from an old format, or a forged one had the key leaked. Refused, never a 500.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["s", "at", "x"]), children, max_size=3)
    ),
    max_leaves=6,
)


class LinkTests(TestCase):
    """Confirm, one-click unsubscribe and the preferences links, altered or forged."""

    @classmethod
    def setUpTestData(cls) -> None:
        PracticeProfileFactory()
        cls.nora = SubscriberFactory(email=CONFIRMED, confirmed=True)
        cls.ada = SubscriberFactory(email="ada@example.com")
        cls.confirm = confirm_token(cls.ada)
        cls.reader = reader_token(cls.nora)
        cls.other_reader = reader_token(cls.ada)

    def _links(self) -> st.SearchStrategy[tuple[str, str | None]]:
        """A token, and what it opens: "confirm", "reader", "no one" (signed, names no
        reader) or None."""
        readers = {self.nora.pk, self.ada.pk}

        def reader_link(value: object) -> tuple[str, str | None]:
            # Signed as ours: a reader's link if it names one, else a link for no one.
            try:
                kind = "reader" if int(str(value)) in readers else "no one"
            except ValueError:
                kind = None
            return signing.Signer(salt="newsletter.reader").sign(str(value)), kind

        real = {self.confirm: "confirm", self.reader: "reader", self.other_reader: "reader"}
        return st.one_of(
            altered_tokens(self.confirm).map(lambda token: (token, real.get(token))),
            altered_tokens(self.reader, others=[self.other_reader]).map(
                lambda token: (token, real.get(token))
            ),
            # No random payload carries a reader's id with her exact opt-in time.
            JSON_VALUES.map(lambda payload: (_signed(payload, "newsletter.confirm"), None)),
            st.one_of(st.integers(), st.text(max_size=30)).map(reader_link),
        )

    @settings(max_examples=examples(2))
    @given(
        data=st.data(),
        link=st.sampled_from(
            [
                "confirm/{}/",
                "unsubscribe/{}/",
                "preferences/{}/",
                "preferences/{}/data.json",
                "preferences/{}/delete/",
            ]
        ),
        method=st.sampled_from(["get", "post"]),
    )
    @example(data="NUL", link="unsubscribe/{}/", method="post")
    @example(data="infinite", link="confirm/{}/", method="post")
    def test_an_altered_link_changes_nothing_and_says_so(self, data, link, method):
        if data == "NUL":
            token, opens = self.reader[:-3] + NUL + "abc", None
        elif data == "infinite":
            token, opens = (
                _signed({"s": self.ada.pk, "at": float("inf")}, "newsletter.confirm"),
                None,
            )
        else:
            token, opens = data.draw(self._links())
        before = row_counts(TABLES)
        statuses = list(Subscriber.objects.order_by("pk").values_list("status", flat=True))

        response = getattr(self.client, method)(f"/newsletter/{link.format(quote(token, safe=''))}")

        assert_answered_calmly(response)
        if opens == ("confirm" if link.startswith("confirm/") else "reader"):
            return
        if opens == "no one" and link.startswith("unsubscribe/") and method == "get":
            # The page with the button checks only the signature; its POST
            # finds no reader and says the link does not work.
            assert "unsubscribe" in response.content.decode().lower()
            return
        # Not a link of this kind: refused, and nothing changed.
        assert response.status_code in (400, 404, 405)
        assert changes(before, row_counts(TABLES)) == {}
        assert list(Subscriber.objects.order_by("pk").values_list("status", flat=True)) == statuses
        if response.status_code == 400:
            assert "This link does not work" in response.content.decode()

    @settings(max_examples=examples(1))
    @given(
        post=submissions(
            {"List-Unsubscribe": "One-Click"},
            {"List-Unsubscribe": st.one_of(st.just("One-Click"), any_value())},
        )
    )
    @example(post={"List-Unsubscribe": "One-Click" + NUL})
    def test_one_click_unsubscribe_takes_her_off_whatever_the_mail_program_posts(self, post):
        before = row_counts(TABLES)

        response = self.client.post(f"/newsletter/unsubscribe/{self.reader}/", post)

        assert_answered_calmly(response)
        assert response.status_code == 200
        assert changes(before, row_counts(TABLES)) == {}
        assert Subscriber.objects.get(pk=self.nora.pk).status == Subscriber.Status.UNSUBSCRIBED
        assert self.client.cookies.get("sessionid") is None


class ArticleTests(TestCase):
    """The articles' pages and feed, with any query string or slug."""

    @classmethod
    def setUpTestData(cls) -> None:
        PracticeProfileFactory()
        for number in range(12):
            ArticleFactory(slug=f"article-number-{number}")

    @settings(max_examples=examples(1))
    @given(
        path=st.sampled_from(
            ["/", "/articles/", "/articles/feed/", "/articles/article-number-0/", "/newsletter/"]
        ),
        query=query_strings({"page": st.one_of(st.integers(-3, 5).map(str), any_value())}),
    )
    @example(path="/articles/", query={"page": "2" + NUL})
    def test_the_reading_pages_answer_any_query(self, path, query):
        response = self.client.get(path, query)

        assert_answered_calmly(response)
        assert response.status_code == 200
        if is_html(response):
            assert "<main" in response.content.decode()

    @settings(max_examples=examples(0.5))
    @given(slug=any_value())
    @example(slug="article-number-1" + NUL)
    def test_an_unknown_article_is_a_calm_404(self, slug):
        response = self.client.get(f"/articles/{quote(slug, safe='')}/")

        assert_answered_calmly(response)
        assert response.status_code in (200, 404)
