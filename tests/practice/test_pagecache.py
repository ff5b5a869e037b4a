"""Public pages are rendered once and shared; each visitor gets her own CSRF token."""

from __future__ import annotations

import copy
import re

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest
from django.test import Client

from practice.models import PracticeProfile
from practice.pagecache import render_with_holes

pytestmark = pytest.mark.django_db


def footer_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def test_a_shared_page_costs_no_query_and_no_render(practice_profile, django_assert_num_queries):
    visitor = Client()
    visitor.get("/terms/")

    with django_assert_num_queries(0):
        response = visitor.get("/terms/")

    assert response.status_code == 200
    assert "Terms and Conditions" in response.content.decode()


def test_every_visitor_gets_her_own_working_csrf_token(practice_profile):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)

    first_html = first.get("/about/").content.decode()
    second_html = second.get("/about/").content.decode()

    assert "__csrf_token_hole__" not in first_html + second_html
    assert footer_token(first_html) != footer_token(second_html)
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    signup = second.post(
        "/newsletter/",
        {"email": "reader@example.com", "csrfmiddlewaretoken": footer_token(second_html)},
    )
    assert signup.status_code == 302


def test_a_profile_edit_shows_at_once_on_shared_pages(practice_profile):
    visitor = Client()
    visitor.get("/privacy/")
    profile = PracticeProfile.objects.get()
    profile.phone = "(510) 555-0199"
    profile.save()

    assert "(510) 555-0199" in visitor.get("/privacy/").content.decode()


def test_a_visitor_with_a_message_waiting_gets_her_own_page(practice_profile):
    visitor = Client()
    visitor.get("/")
    storage = CookieStorage(HttpRequest())
    visitor.cookies["messages"] = storage._encode([Message(constants.SUCCESS, "Welcome back.")])

    html = visitor.get("/").content.decode()

    assert "Welcome back." in html


def test_a_page_with_holes_is_rendered_once_and_filled_for_each_visitor(
    practice_profile, settings, tmp_path, rf
):
    hole = "__form_key_hole__"
    (tmp_path / "holes.html").write_text("key={{ form_key }} csrf={{ csrf_token }}")
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates
    renders: list[int] = []
    keys = iter(["first-key", "second-key"])

    def context() -> dict[str, object]:
        renders.append(1)
        return {"form_key": hole}

    pages = [
        render_with_holes(
            rf.get("/form/"), "holes.html", context, key="form", holes={hole: lambda: next(keys)}
        ).content.decode()
        for _ in range(2)
    ]

    assert len(renders) == 1
    assert [page.split()[0] for page in pages] == ["key=first-key", "key=second-key"]
    assert "hole" not in "".join(pages)
    assert pages[0].split()[1] != pages[1].split()[1]
