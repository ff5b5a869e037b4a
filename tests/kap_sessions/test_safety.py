"""The safety path: each trigger shows her the crisis page, raises one flag and one alert.

The alert is counted at a real SMTP sink and read as the therapist would:
"please look at a client's record", a link, and nothing else (no answer, no
questionnaire, no name). A flag stays open until acknowledged with a note.
With the worker stopped when she answers, the alert goes out once it starts.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kap_sessions.instruments import EPDS, PHQ_9, Instrument
from kap_sessions.models import SafetyFlag, SafetyFlagStatus, SafetySource, ScreeningResponse
from kap_sessions.services import safety_flag_acknowledge, safety_flag_raise
from practice.discretion import discretion_words_in
from practice.models import AuditEvent, Client, OutboxMessage
from practice.outbox.services import outbox_send_due
from practice.transitions import InvalidTransition
from tests.kap_sessions.factories import (
    SafetyFlagFactory,
    ScreeningAssignmentFactory,
    ScreeningResponseFactory,
)
from tests.kap_sessions.intake_steps import INTAKE_URL, SAFETY_URL, section_post

pytestmark = pytest.mark.django_db

THERAPIST_ADDRESS = "hello@harborlight.example"
ALERT_SUBJECT = "Please look at a client's record"

# What the alert must never hold: the answer, the question, the questionnaire.
ANSWER_WORDS = (
    "suicid",
    "harm",
    "ending your life",
    "thoughts",
    "crisis",
    "988",
    "phq",
    "epds",
    "edinburgh",
    "gad",
    "questionnaire",
    "intake",
    "item",
    "score",
    "safety",
    "flag",
    "risk",
)


@pytest.fixture
def her(client_user) -> Client:  # type: ignore[no-untyped-def]
    return client_user.client


@pytest.fixture
def signed_in(client, client_user, practice_profile):  # type: ignore[no-untyped-def]
    client.force_login(client_user)
    return client


def alerts() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(kind="kap.safety_alert"))


def answered_yes(signed_in):  # type: ignore[no-untyped-def]
    return signed_in.post(
        INTAKE_URL, section_post("mental_health", current_suicidal_thoughts="yes")
    )


def questionnaire_answers(instrument: Instrument, *, safety_position: int) -> dict[str, str]:
    """Every item at its first option, the safety item at ``safety_position``."""
    answers = {f"item_{item.number}": "0" for item in instrument.items}
    answers[f"item_{instrument.safety_item}"] = str(safety_position)
    return answers


def assert_discreet(message, her: Client) -> None:  # type: ignore[no-untyped-def]
    subject = str(message["Subject"])
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for part in (subject, text, html):
        lowered = part.lower()
        assert discretion_words_in(part) == []
        assert [word for word in ANSWER_WORDS if word in lowered] == []
        assert her.first_name not in part
        assert her.last_name not in part
        assert her.email not in part


# --- Raising: once, with its alert, in the caller's transaction ---------------


def test_safety_flag_raise_writes_an_open_flag_and_one_alert_to_the_practice(her, practice_profile):
    with transaction.atomic():
        flag = safety_flag_raise(client=her, source=SafetySource.INTAKE)

    assert flag.status == SafetyFlagStatus.OPEN
    assert flag.client == her
    [alert] = alerts()
    assert alert.recipient == THERAPIST_ADDRESS
    assert (alert.object_type, alert.object_id) == ("kap_sessions.safetyflag", flag.pk)
    assert alert.not_before <= timezone.now()  # due at once: the doorbell, or beat's minute
    assert (
        AuditEvent.objects.filter(
            object_type="kap_sessions.safetyflag", object_id=str(flag.pk), action="create"
        ).count()
        == 1
    )


def test_safety_flag_raise_again_returns_the_open_intake_flag_and_asks_for_nothing(
    her, practice_profile
):
    first = safety_flag_raise(client=her, source=SafetySource.INTAKE)
    second = safety_flag_raise(client=her, source=SafetySource.INTAKE)

    assert second == first
    assert SafetyFlag.objects.count() == 1
    assert len(alerts()) == 1


def test_safety_flag_raise_for_one_response_twice_is_one_flag(her, practice_profile):
    response = ScreeningResponseFactory(assignment__client=her, assignment__instrument="epds")

    first = safety_flag_raise(client=her, source=SafetySource.EPDS, screening_response=response)
    second = safety_flag_raise(client=her, source=SafetySource.EPDS, screening_response=response)

    assert second == first
    assert len(alerts()) == 1


def test_safety_flag_raise_refuses_a_response_that_is_not_hers(
    her, other_client_user, practice_profile
):
    response = ScreeningResponseFactory(
        assignment__client=other_client_user.client, assignment__instrument="phq-9"
    )

    with pytest.raises(ValueError, match="not this client's"):
        safety_flag_raise(client=her, source=SafetySource.PHQ_9, screening_response=response)
    assert SafetyFlag.objects.count() == 0


def test_a_rolled_back_answer_leaves_no_flag_and_no_alert(her, practice_profile):
    with pytest.raises(RuntimeError), transaction.atomic():
        safety_flag_raise(client=her, source=SafetySource.INTAKE)
        raise RuntimeError("the answer was not saved")

    assert SafetyFlag.objects.count() == 0
    assert alerts() == []


# --- Each trigger: the page, the flag, the email at the sink ------------------


def test_the_intake_yes_shows_the_crisis_page_and_alerts_the_therapist(signed_in, her, smtp_sink):
    response = answered_yes(signed_in)

    assert response.status_code == 302
    assert response["Location"] == SAFETY_URL
    page = signed_in.get(SAFETY_URL).content.decode()
    assert "988 Suicide &amp; Crisis Lifeline" in page
    assert 'href="tel:988"' in page
    assert "Postpartum Support International HelpLine" in page
    assert "1-800-944-4773" in page
    assert "800-944-4773</strong> (English)" in page
    assert "971-203-7773</strong> (Spanish)" in page
    assert 'href="tel:911"' in page
    assert "Lena Marsh has been told and will reach out to you soon." in page
    [flag] = SafetyFlag.objects.all()
    assert (flag.client, flag.source, flag.status) == (her, "intake", "open")

    report = outbox_send_due()

    assert report.sent == 1
    [message] = smtp_sink.messages
    assert smtp_sink.recipients == [THERAPIST_ADDRESS]
    assert str(message["Subject"]) == ALERT_SUBJECT
    text = message.get_body(("plain",)).get_content()
    assert "Please look at a client's record as soon as you can." in text
    record = f"{settings.SITE_URL}/admin/practice/client/{her.pk}/change/"
    assert re.findall(r"https?://\S+", text) == [record]
    assert_discreet(message, her)


@pytest.mark.parametrize(
    ("instrument", "position"),
    [
        (PHQ_9, 1),
        (PHQ_9, 2),
        (PHQ_9, 3),
        # The EPDS lists its safety item's options worst first: every one but
        # "Never" (the last) scores above zero.
        (EPDS, 0),
        (EPDS, 1),
        (EPDS, 2),
    ],
    ids=[
        "phq9-several-days",
        "phq9-more-than-half",
        "phq9-nearly-every-day",
        "epds-quite-often",
        "epds-sometimes",
        "epds-hardly-ever",
    ],
)
def test_a_questionnaires_safety_item_shows_the_page_and_alerts_without_naming_it(
    signed_in, her, smtp_sink, instrument, position
):
    ScreeningAssignmentFactory(client=her, instrument=instrument.slug)

    response = signed_in.post(
        f"/portal/questionnaires/{instrument.slug}/",
        {
            "assignment": str(her.screening_assignments.get().pk),
            **questionnaire_answers(instrument, safety_position=position),
        },
    )

    assert response.status_code == 302
    assert response["Location"] == SAFETY_URL
    assert "has been told" in signed_in.get(SAFETY_URL).content.decode()
    [flag] = SafetyFlag.objects.all()
    assert flag.source == instrument.slug
    assert flag.screening_response == ScreeningResponse.objects.get(client=her)
    assert outbox_send_due().sent == 1
    [message] = smtp_sink.messages
    assert str(message["Subject"]) == ALERT_SUBJECT
    assert_discreet(message, her)


def test_the_epds_answer_never_raises_nothing(signed_in, her, practice_profile):
    ScreeningAssignmentFactory(client=her, instrument="epds")

    signed_in.post(
        "/portal/questionnaires/epds/",
        {
            "assignment": str(her.screening_assignments.get().pk),
            **questionnaire_answers(EPDS, safety_position=3),
        },
    )

    assert SafetyFlag.objects.count() == 0
    assert alerts() == []


# --- Once per change to yes --------------------------------------------------


def test_saving_yes_again_without_a_change_raises_nothing_more(signed_in, her, practice_profile):
    answered_yes(signed_in)
    response = answered_yes(signed_in)

    assert response.status_code == 302
    assert response["Location"] != SAFETY_URL
    assert SafetyFlag.objects.count() == 1
    assert len(alerts()) == 1


def test_back_to_yes_while_the_flag_is_open_asks_for_no_second_alert(
    signed_in, her, practice_profile
):
    answered_yes(signed_in)
    signed_in.post(INTAKE_URL, section_post("mental_health", current_suicidal_thoughts="no"))

    response = answered_yes(signed_in)

    assert response["Location"] == SAFETY_URL  # she sees the page again
    assert SafetyFlag.objects.count() == 1
    assert len(alerts()) == 1


def test_yes_after_the_flag_was_acknowledged_raises_a_new_flag(signed_in, her, therapist):
    answered_yes(signed_in)
    safety_flag_acknowledge(flag=SafetyFlag.objects.get(), actor=therapist, note="Called her.")
    signed_in.post(INTAKE_URL, section_post("mental_health", current_suicidal_thoughts="no"))

    answered_yes(signed_in)

    assert list(SafetyFlag.objects.order_by("pk").values_list("status", flat=True)) == [
        "acknowledged",
        "open",
    ]
    assert len(alerts()) == 2


# --- Acknowledging ------------------------------------------------------------


@pytest.mark.parametrize("note", ["", "   \n "])
def test_acknowledging_without_a_note_is_refused(her, therapist, note):
    flag = SafetyFlagFactory(client=her)

    with pytest.raises(ValidationError, match="a note is needed"):
        safety_flag_acknowledge(flag=flag, actor=therapist, note=note)

    flag.refresh_from_db()
    assert flag.status == SafetyFlagStatus.OPEN


def test_acknowledging_names_who_when_and_keeps_the_note(her, therapist):
    flag = SafetyFlagFactory(client=her)

    safety_flag_acknowledge(flag=flag, actor=therapist, note="Called her; safety plan made.")

    flag.refresh_from_db()
    assert flag.status == SafetyFlagStatus.ACKNOWLEDGED
    assert flag.acknowledged_by == therapist
    assert flag.acknowledged_at is not None
    assert flag.acknowledgement_note == "Called her; safety plan made."
    assert (
        AuditEvent.objects.filter(
            actor_id=therapist.pk, action="change", object_id=str(flag.pk), client_id=her.pk
        ).count()
        == 1
    )


def test_acknowledging_twice_is_refused(her, therapist):
    flag = SafetyFlagFactory(client=her)
    safety_flag_acknowledge(flag=flag, actor=therapist, note="Called her.")

    with pytest.raises(InvalidTransition):
        safety_flag_acknowledge(flag=flag, actor=therapist, note="Again.")


def test_an_alert_for_a_flag_acknowledged_before_it_was_sent_is_voided(
    her, therapist, smtp_sink, practice_profile
):
    flag = safety_flag_raise(client=her, source=SafetySource.INTAKE)
    safety_flag_acknowledge(flag=flag, actor=therapist, note="Saw it on her record first.")

    report = outbox_send_due()

    assert (report.sent, report.voided) == (0, 1)
    assert smtp_sink.messages == []


def test_the_admin_acknowledge_page_requires_a_note(admin_client_mfa, her, therapist):
    flag = SafetyFlagFactory(client=her)
    url = reverse("admin:kap_sessions_safetyflag_acknowledge")

    empty = admin_client_mfa.post(url, {"ids": str(flag.pk), "note": "  "})

    assert empty.status_code == 200
    assert "a note is needed to acknowledge a flag" in empty.content.decode()
    flag.refresh_from_db()
    assert flag.is_open

    done = admin_client_mfa.post(url, {"ids": str(flag.pk), "note": "Called her at 3 PM."})

    assert done.status_code == 302
    flag.refresh_from_db()
    assert (flag.status, flag.acknowledged_by) == ("acknowledged", therapist)


def test_acknowledging_goes_back_to_her_client_page_when_she_came_from_it(admin_client_mfa, her):
    flag = SafetyFlagFactory(client=her)
    client_page = reverse("admin:practice_client_change", args=[her.pk])
    url = reverse("admin:kap_sessions_safetyflag_acknowledge")

    page = admin_client_mfa.get(url, {"ids": str(flag.pk), "next": client_page}).content.decode()
    done = admin_client_mfa.post(
        url, {"ids": str(flag.pk), "next": client_page, "note": "Called her at 3 PM."}
    )

    assert f'<input type="hidden" name="next" value="{client_page}">' in page
    assert f'<a href="{client_page}" class="button cancel-link">Cancel</a>' in page
    assert (done.status_code, done["Location"]) == (302, client_page)
    flag.refresh_from_db()
    assert flag.status == "acknowledged"


@pytest.mark.parametrize(
    "next_url", ["", "https://elsewhere.example/admin/", "//elsewhere.example/", "javascript:x"]
)
def test_acknowledging_without_a_page_of_this_site_to_go_back_to_opens_the_flag_list(
    admin_client_mfa, her, next_url
):
    flag = SafetyFlagFactory(client=her)
    url = reverse("admin:kap_sessions_safetyflag_acknowledge")

    changelist = reverse("admin:kap_sessions_safetyflag_changelist")

    page = admin_client_mfa.get(url, {"ids": str(flag.pk), "next": next_url})
    done = admin_client_mfa.post(
        url, {"ids": str(flag.pk), "next": next_url, "note": "Called her at 3 PM."}
    )

    assert (page.context["next"], page.context["back"]) == ("", changelist)
    assert done["Location"] == changelist


def test_the_admin_action_leads_to_one_note_for_the_open_flags(admin_client_mfa, her):
    open_flag = SafetyFlagFactory(client=her)
    changelist = reverse("admin:kap_sessions_safetyflag_changelist")

    response = admin_client_mfa.post(
        changelist, {"action": "acknowledge_selected", "_selected_action": [str(open_flag.pk)]}
    )

    assert response.status_code == 302
    assert response["Location"] == (
        reverse("admin:kap_sessions_safetyflag_acknowledge") + f"?ids={open_flag.pk}"
    )
    page = admin_client_mfa.get(response["Location"]).content.decode()
    assert "Amara Okafor" in page
    assert 'name="note"' in page


def test_the_flag_list_shows_open_flags_first_until_acknowledged(
    admin_client_mfa, her, other_client_user, therapist
):
    answered = SafetyFlagFactory(client=other_client_user.client)
    safety_flag_acknowledge(flag=answered, actor=therapist, note="Called her.")
    older_open = SafetyFlagFactory(client=her, source="intake")
    newer_open = SafetyFlagFactory(client=other_client_user.client)

    response = admin_client_mfa.get(reverse("admin:kap_sessions_safetyflag_changelist"))

    listed = [flag.pk for flag in response.context["cl"].result_list]
    assert listed == [newer_open.pk, older_open.pk, answered.pk]


# --- The crisis page itself ---------------------------------------------------


def test_the_crisis_page_says_the_therapist_was_told_only_with_an_open_flag(
    signed_in, her, therapist
):
    page = signed_in.get(SAFETY_URL).content.decode()

    assert "988" in page
    assert "has been told" not in page

    flag = SafetyFlagFactory(client=her)
    assert "has been told" in signed_in.get(SAFETY_URL).content.decode()

    safety_flag_acknowledge(flag=flag, actor=therapist, note="Called her.")
    assert "has been told" not in signed_in.get(SAFETY_URL).content.decode()


def test_the_crisis_page_asks_anonymous_visitors_to_sign_in(client):
    response = client.get(SAFETY_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/portal/support/")


# --- With the worker stopped when she answers ----------------------------------


@pytest.mark.worker
@pytest.mark.slow
def test_the_alert_is_sent_once_the_stopped_worker_starts(
    celery_worker, smtp_sink, client, client_user, practice_profile
):
    from tests.support.outbox import sweep
    from tests.support.waiting import wait_until

    client.force_login(client_user)
    response = answered_yes(client)  # committed: a transactional test, no worker running

    assert response["Location"] == SAFETY_URL
    assert SafetyFlag.objects.filter(status="open").count() == 1
    assert OutboxMessage.objects.pending().filter(kind="kap.safety_alert").count() == 1
    assert smtp_sink.messages == []

    celery_worker(env={"EMAIL_URL": smtp_sink.url})
    sweep()  # beat's minute, in case the doorbell rang while nobody listened

    smtp_sink.wait_for(1)
    wait_until(lambda: OutboxMessage.objects.pending().count() == 0)
    assert smtp_sink.recipients == [THERAPIST_ADDRESS]
    assert str(smtp_sink.messages[0]["Subject"]) == ALERT_SUBJECT
    assert_discreet(smtp_sink.messages[0], client_user.client)


@pytest.mark.worker
@pytest.mark.slow
def test_the_alert_is_not_lost_when_redis_is_down_as_she_answers(
    app_server, celery_worker, private_redis, smtp_sink, client_user, practice_profile
):
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from tests.factories import PASSWORD
    from tests.support.outbox import sweep_and_settle
    from tests.support.server import Visitor, hidden

    # The app server checks passwords with the project's hashers, not the tests' fast one.
    hasher = PBKDF2PasswordHasher()
    client_user.password = hasher.encode(PASSWORD, hasher.salt())
    client_user.save(update_fields=["password"])
    server = app_server(env={"REDIS_URL": private_redis.url, "EMAIL_URL": smtp_sink.url})
    her = Visitor(server.url)
    status, login = her.get("/accounts/login/?next=/portal/intake/")
    assert status == 200, login[:500]
    status, page = her.post(
        "/accounts/login/?next=/portal/intake/",
        {
            "csrfmiddlewaretoken": hidden(login, "csrfmiddlewaretoken"),
            "login": client_user.email,
            "password": PASSWORD,
        },
    )
    assert status == 200, page[:2000]
    assert "Step 1 of 8" in page
    private_redis.stop()  # at the moment she answers

    status, landed = her.post(
        INTAKE_URL,
        {
            "csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken"),
            **section_post("mental_health", current_suicidal_thoughts="yes"),
        },
    )

    assert status == 200, landed[:2000]
    assert "988 Suicide &amp; Crisis Lifeline" in landed
    assert "has been told" in landed
    assert SafetyFlag.objects.filter(status="open").count() == 1
    assert OutboxMessage.objects.pending().filter(kind="kap.safety_alert").count() == 1

    # Redis is back; a worker starts; beat's next minute sweeps.
    private_redis.start()
    worker = celery_worker(env={"REDIS_URL": private_redis.url, "EMAIL_URL": smtp_sink.url})
    sweep_and_settle(worker, private_redis.url)

    assert smtp_sink.recipients == [THERAPIST_ADDRESS]
    assert str(smtp_sink.messages[0]["Subject"]) == ALERT_SUBJECT
    sweep_and_settle(worker, private_redis.url)
    assert smtp_sink.recipients == [THERAPIST_ADDRESS]
