from __future__ import annotations

import pytest

from practice.models import PracticeProfile

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/", "When you have been holding everyone else, there is room to be held."),
        ("/about/", "About Lena Marsh"),
        ("/how-it-works/", "How ketamine-assisted psychotherapy works"),
        ("/terms/", "Terms and Conditions"),
        ("/privacy/", "Privacy"),
    ],
)
def test_public_pages_show_their_content_and_the_practice(client, practice_profile, path, heading):
    response = client.get(path)

    assert response.status_code == 200
    html = response.content.decode()
    assert f"<h1>{heading}</h1>" in html
    assert "Harbor Light Therapy" in html
    assert "2150 Shattuck Avenue, Suite 310<br>Berkeley, CA 94704" in html
    assert "If you are in crisis, call or text 988" in html
    assert "lorem" not in html.lower()


def test_an_edit_to_the_practice_profile_shows_on_every_page(client, practice_profile):
    client.get("/")
    profile = PracticeProfile.objects.get()
    profile.practice_name = "Harbor Light Counselling"
    profile.save()

    html = client.get("/terms/").content.decode()

    assert "Harbor Light Counselling" in html
    assert "Harbor Light Therapy" not in html


def test_there_is_only_one_practice_profile(practice_profile):
    from django.db import IntegrityError, transaction

    other = PracticeProfile(practice_name="Another", therapist_name="X")
    other.save()  # save() pins the primary key: it overwrites the one row

    assert PracticeProfile.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        PracticeProfile.objects.bulk_create([PracticeProfile(pk=2, practice_name="Two")])


def test_unknown_pages_get_a_friendly_404(client, practice_profile, settings):
    settings.DEBUG = False

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_queries_on_the_home_page_are_few(client, practice_profile, django_assert_max_num_queries):
    client.get("/")  # warm the profile cache
    with django_assert_max_num_queries(4):
        client.get("/")


def test_a_bad_host_header_gets_a_plain_400_not_a_500(client, practice_profile, settings):
    settings.DEBUG = False

    response = client.get("/", HTTP_HOST="evil.example.com")

    assert response.status_code == 400
    assert "That request could not be understood" in response.content.decode()


def test_a_form_sent_without_its_csrf_token_gets_a_friendly_page(practice_profile):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)

    response = strict.post("/accounts/login/", {"login": "a@example.com", "password": "x"})

    assert response.status_code == 403
    assert "Please send that form again" in response.content.decode()


def test_the_navigation_marks_the_current_section(client, practice_profile):
    html = client.get("/articles/").content.decode()

    assert '<a href="/articles/" aria-current="page">Articles</a>' in html
    assert '<a href="/about/">About</a>' in html
