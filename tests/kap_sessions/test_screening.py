"""Screening questionnaires: assigned by the therapist, answered in her portal, scored.

Amara (``client_user``) answers; Beth (``other_client_user``) is the other
client whose assignment Amara must never reach.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kap_sessions.admin.screening import answer_lines
from kap_sessions.instruments import EPDS, GAD_7, INSTRUMENTS, PHQ_9
from kap_sessions.models import (
    SafetyFlag,
    ScreeningAnswer,
    ScreeningAssignment,
    ScreeningResponse,
    ScreeningSettings,
    ScreeningStatus,
)
from kap_sessions.services.screening import (
    WITHDRAWN_MESSAGE,
    screening_assign,
    screening_history,
    screening_submit,
    screening_withdraw,
)
from practice.discretion import discretion_words_in
from practice.models import AuditEvent, OutboxMessage
from practice.outbox.kinds import kind_named
from tests.conftest import IN_CI
from tests.factories import PASSWORD, ClientDocumentFactory, ClientFactory
from tests.kap_sessions.factories import ScreeningAssignmentFactory, ScreeningResponseFactory
from tests.support.htmlcheck import vnu_command, vnu_errors

# Kroenke 2001's layout (tests/kap_sessions/test_instruments.py): total 11, "Moderate".
PHQ9_WORKED = {1: 1, 2: 1, 3: 1, 4: 1, 5: 2, 6: 2, 7: 3, 8: 0, 9: 0, 10: 2}
# The EPDS worked example there: 1+1+2+2+1+2+1+2+1+0 = 13, "Probable depression".
EPDS_WORKED = {1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 1, 7: 2, 8: 1, 9: 2, 10: 3}
# Several days on every GAD-7 item: 7, "Mild".
GAD7_SEVERAL_DAYS = dict.fromkeys(range(1, 8), 1)
DUE = date(2027, 1, 12)
WORDS_NAMING_AN_INSTRUMENT = ["phq", "gad", "epds", "edinburgh", "depression", "anxiety"]


def url(slug: str) -> str:
    return reverse("kap_sessions:portal_questionnaire", args=[slug])


def form_data(assignment: ScreeningAssignment, answers: dict[int, int]) -> dict[str, str]:
    return {
        "assignment": str(assignment.pk),
        **{f"item_{number}": str(position) for number, position in answers.items()},
    }


@pytest.fixture
def amara(client_user):  # type: ignore[no-untyped-def]
    return client_user.client


@pytest.fixture
def beth(other_client_user):  # type: ignore[no-untyped-def]
    return other_client_user.client


@pytest.fixture
def signed_in(client, client_user):  # type: ignore[no-untyped-def]
    """Django's test client, signed in as Amara."""
    client.force_login(client_user)
    return client


def rendered(row: OutboxMessage) -> tuple[str, str, str]:
    """The email an outbox row becomes at send time: subject, text and HTML."""
    kind = kind_named(row.kind)
    assert kind is not None
    message = kind.build(row)
    assert message is not None, f"{row.kind} was voided"
    html = message.alternatives[0][0]
    return message.subject, str(message.body), str(html)


# --- Assigning -----------------------------------------------------------------


def test_assign_makes_it_due_in_her_portal(signed_in, amara, therapist):
    assignment = screening_assign(client=amara, instrument="phq-9", due_on=DUE, actor=therapist)

    response = signed_in.get(url("phq-9"))

    assert assignment.status == ScreeningStatus.OPEN
    assert assignment.assigned_by == therapist
    assert response.status_code == 200
    page = response.content.decode()
    assert PHQ_9.stem in page
    legends = re.findall(r"<legend[^>]*>(.*?)</legend>", page, re.S)
    assert len(legends) == len(PHQ_9.items)
    assert "Thoughts that you would be better off dead" in legends[8]
    assert page.count('type="radio"') == sum(len(item.options) for item in PHQ_9.items)
    assert f'name="assignment" value="{assignment.pk}"' in page
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CREATE, object_id=str(assignment.pk), client_id=amara.pk
    ).exists()


def test_assign_emails_her_once_a_day_that_something_is_ready(amara, therapist, practice_profile):
    screening_assign(client=amara, instrument="phq-9", due_on=DUE, actor=therapist)
    screening_assign(client=amara, instrument="epds", due_on=DUE, actor=therapist)

    rows = list(OutboxMessage.objects.filter(kind="kap.forms_due"))

    assert len(rows) == 1
    assert rows[0].recipient == amara.email
    subject, text, html = rendered(rows[0])
    assert subject == "Something is ready for you in your portal"
    assert "/portal/" in text
    assert "Amara" in text
    for part in (subject, text, html):
        assert discretion_words_in(part) == []
        for word in WORDS_NAMING_AN_INSTRUMENT + ["questionnaire"]:
            assert word not in part.lower(), word


def test_forms_due_email_is_voided_when_nothing_is_open_any_more(amara, therapist):
    assignment = screening_assign(client=amara, instrument="gad-7", due_on=DUE, actor=therapist)
    screening_withdraw(assignment=assignment, actor=therapist)

    row = OutboxMessage.objects.get(kind="kap.forms_due")

    assert kind_named("kap.forms_due").build(row) is None


def test_assign_to_a_client_without_a_portal_login_writes_no_email(therapist):
    no_login = ClientFactory()

    screening_assign(client=no_login, instrument="gad-7", due_on=DUE, actor=therapist)

    assert not OutboxMessage.objects.filter(kind="kap.forms_due").exists()


def test_assign_refuses_an_unknown_instrument(amara, therapist):
    with pytest.raises(ValidationError) as refused:
        screening_assign(client=amara, instrument="beck", due_on=DUE, actor=therapist)

    assert refused.value.message_dict == {"instrument": ["Choose one of the questionnaires."]}
    assert not ScreeningAssignment.objects.exists()


def test_page_opens_her_earliest_open_assignment_of_that_instrument(signed_in, amara):
    later = ScreeningAssignmentFactory(client=amara, instrument="gad-7", due_on=DUE)
    earliest = ScreeningAssignmentFactory(
        client=amara, instrument="gad-7", due_on=DUE - timedelta(days=3)
    )
    ScreeningAssignmentFactory(
        client=amara,
        instrument="gad-7",
        due_on=DUE - timedelta(days=9),
        status=ScreeningStatus.WITHDRAWN,
    )

    page = signed_in.get(url("gad-7")).content.decode()

    assert f'name="assignment" value="{earliest.pk}"' in page
    assert f'value="{later.pk}"' not in page


# --- Submitting ------------------------------------------------------------------


def test_submit_stores_every_item_with_the_version_and_the_published_score(signed_in, amara):
    assignment = ScreeningAssignmentFactory(client=amara, instrument="phq-9")

    response = signed_in.post(url("phq-9"), form_data(assignment, PHQ9_WORKED))

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "kap_sessions:portal_questionnaire_thanks", args=["phq-9"]
    )
    saved = ScreeningResponse.objects.get()
    assert (saved.client, saved.instrument, saved.version) == (amara, "phq-9", PHQ_9.version)
    assert (saved.total, saved.band, saved.safety) == (11, "Moderate", False)
    answers = [(a.item_number, a.position, a.score) for a in saved.answers.order_by("item_number")]
    # Item 10 (how difficult) is kept with its score, and not counted.
    assert answers == [(n, p, p) for n, p in sorted(PHQ9_WORKED.items())]
    assignment.refresh_from_db()
    assert assignment.status == ScreeningStatus.COMPLETED
    assert not SafetyFlag.objects.exists()


def test_submit_scores_the_epds_reverse_scored_items_from_the_positions(amara):
    assignment = ScreeningAssignmentFactory(client=amara, instrument="epds")

    saved = screening_submit(assignment=assignment, answers=EPDS_WORKED, client=amara)

    assert (saved.total, saved.band, saved.safety) == (13, "Probable depression", False)
    assert saved.version == EPDS.version
    stored = {a.item_number: (a.position, a.score) for a in saved.answers.all()}
    # Item 3 lists "Yes, most of the time" (3) first: position 1 scores 2.
    assert stored[3] == (1, 2)
    assert stored[10] == (3, 0)
    assert sum(score for _, score in stored.values()) == 13


def test_the_thank_you_page_shows_no_score_and_offers_what_is_next(signed_in, amara):
    done = ScreeningAssignmentFactory(client=amara, instrument="phq-9")
    ScreeningAssignmentFactory(client=amara, instrument="epds")
    signed_in.post(url("phq-9"), form_data(done, PHQ9_WORKED))

    page = signed_in.get(
        reverse("kap_sessions:portal_questionnaire_thanks", args=["phq-9"])
    ).content.decode()

    assert "Thank you" in page
    assert "11" not in re.sub(r"<[^>]+>", "", page.split("<main", 1)[1].split("</main>")[0])
    assert "Moderate" not in page
    assert f'href="{url("epds")}"' in page


def test_answer_lines_read_as_she_chose_them(amara):
    assignment = ScreeningAssignmentFactory(client=amara, instrument="phq-9")

    saved = screening_submit(assignment=assignment, answers=PHQ9_WORKED, client=amara)

    assert answer_lines(saved) == [
        "Q1: Several days (1)",
        "Q2: Several days (1)",
        "Q3: Several days (1)",
        "Q4: Several days (1)",
        "Q5: More than half the days (2)",
        "Q6: More than half the days (2)",
        "Q7: Nearly every day (3)",
        "Q8: Not at all (0)",
        "Q9: Not at all (0)",
        "Q10: Very difficult (2, not counted)",
    ]


def test_missing_answers_keep_hers_and_name_each_question(signed_in, amara):
    assignment = ScreeningAssignmentFactory(client=amara, instrument="gad-7")
    partial = {n: p for n, p in GAD7_SEVERAL_DAYS.items() if n not in (4, 6)}

    response = signed_in.post(url("gad-7"), form_data(assignment, partial))

    assert response.status_code == 200
    page = response.content.decode()
    summary = page.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary) == [
        ("id_item_4_0", "Please answer question 4."),
        ("id_item_6_0", "Please answer question 6."),
    ]
    # By the question: described by its message.
    assert 'aria-describedby="id_item_4_error"' in page
    assert '<p class="question-error" id="id_item_4_error">Please answer question 4.</p>' in page
    # Her answers are kept: the five she gave are still chosen.
    assert len(re.findall(r'<input type="radio"[^>]*value="1"[^>]*checked', page)) == 5
    assert not ScreeningResponse.objects.exists()


def test_the_optional_difficulty_question_may_be_left_out(signed_in, amara):
    assignment = ScreeningAssignmentFactory(client=amara, instrument="gad-7")

    signed_in.post(url("gad-7"), form_data(assignment, GAD7_SEVERAL_DAYS))

    saved = ScreeningResponse.objects.get()
    assert (saved.total, saved.band) == (7, "Mild")
    assert saved.answers.count() == 7


# --- Safety ------------------------------------------------------------------------


def assert_alert_names_nothing_clinical(flag: SafetyFlag, chosen: list[str]) -> None:
    row = OutboxMessage.objects.get(kind="kap.safety_alert")
    subject, text, html = rendered(row)
    for part in (subject, text, html):
        assert discretion_words_in(part) == []
        lowered = part.lower()
        for word in WORDS_NAMING_AN_INSTRUMENT + ["questionnaire", "harm", "dead", "item"]:
            assert word not in lowered, word
        for label in chosen:
            assert label.lower() not in lowered, label


@pytest.mark.parametrize("position", [1, 2, 3])
def test_phq9_item9_above_zero_shows_the_crisis_page_and_raises_a_flag(
    signed_in, amara, practice_profile, position
):
    assignment = ScreeningAssignmentFactory(client=amara, instrument="phq-9")
    answers = PHQ9_WORKED | {9: position}

    response = signed_in.post(url("phq-9"), form_data(assignment, answers))

    assert response.status_code == 302
    assert response["Location"] == reverse("kap_sessions:portal_safety")
    saved = ScreeningResponse.objects.get()
    assert saved.safety is True
    flag = SafetyFlag.objects.get()
    assert (flag.client, flag.source, flag.screening_response, flag.is_open) == (
        amara,
        "phq-9",
        saved,
        True,
    )
    assert_alert_names_nothing_clinical(flag, [PHQ_9.item(9).options[position][0]])
    crisis = signed_in.get(response["Location"]).content.decode()
    assert "988" in crisis


# EPDS item 10 lists "Yes, quite often" (3), "Sometimes" (2), "Hardly ever" (1), "Never" (0).
@pytest.mark.parametrize(("position", "safety"), [(0, True), (1, True), (2, True), (3, False)])
def test_epds_item10_every_answer_but_never_shows_the_crisis_page(
    signed_in, amara, practice_profile, position, safety
):
    assignment = ScreeningAssignmentFactory(client=amara, instrument="epds")
    answers = EPDS_WORKED | {10: position}

    response = signed_in.post(url("epds"), form_data(assignment, answers))

    expected = (
        reverse("kap_sessions:portal_safety")
        if safety
        else reverse("kap_sessions:portal_questionnaire_thanks", args=["epds"])
    )
    assert response["Location"] == expected
    assert ScreeningResponse.objects.get().safety is safety
    assert SafetyFlag.objects.count() == (1 if safety else 0)
    assert OutboxMessage.objects.filter(kind="kap.safety_alert").count() == (1 if safety else 0)
    if safety:
        assert_alert_names_nothing_clinical(
            SafetyFlag.objects.get(), [EPDS.item(10).options[position][0]]
        )


def test_phq9_item9_at_zero_raises_nothing(signed_in, amara):
    assignment = ScreeningAssignmentFactory(client=amara, instrument="phq-9")

    signed_in.post(url("phq-9"), form_data(assignment, PHQ9_WORKED))

    assert not SafetyFlag.objects.exists()
    assert not OutboxMessage.objects.filter(kind="kap.safety_alert").exists()


# --- Twice, withdrawn, someone else's, anonymous -----------------------------------------


def test_a_double_submit_records_once_and_lands_where_the_first_did(
    signed_in, amara, practice_profile
):
    assignment = ScreeningAssignmentFactory(client=amara, instrument="phq-9")
    answers = PHQ9_WORKED | {9: 1}

    first = signed_in.post(url("phq-9"), form_data(assignment, answers))
    second = signed_in.post(url("phq-9"), form_data(assignment, PHQ9_WORKED))

    assert first["Location"] == second["Location"] == reverse("kap_sessions:portal_safety")
    assert ScreeningResponse.objects.count() == 1
    assert ScreeningAnswer.objects.count() == len(PHQ_9.items)
    assert SafetyFlag.objects.count() == 1
    assert OutboxMessage.objects.filter(kind="kap.safety_alert").count() == 1


def test_submitting_again_through_the_service_returns_the_first_response(amara):
    assignment = ScreeningAssignmentFactory(client=amara, instrument="gad-7")

    first = screening_submit(assignment=assignment, answers=GAD7_SEVERAL_DAYS, client=amara)
    again = screening_submit(assignment=assignment, answers={}, client=amara)

    assert again == first
    assert again.total == 7


def test_a_withdrawn_questionnaire_is_gone_from_her_portal(signed_in, amara, therapist):
    assignment = ScreeningAssignmentFactory(client=amara, instrument="gad-7")
    screening_withdraw(assignment=assignment, actor=therapist)

    opened = signed_in.get(url("gad-7"))
    sent = signed_in.post(url("gad-7"), form_data(assignment, GAD7_SEVERAL_DAYS))

    assert opened.status_code == 404
    assert sent.status_code == 200
    assert WITHDRAWN_MESSAGE in sent.content.decode()
    assert not ScreeningResponse.objects.exists()


def test_an_answered_questionnaire_cannot_be_withdrawn(amara, therapist):
    assignment = ScreeningAssignmentFactory(client=amara, instrument="gad-7")
    screening_submit(assignment=assignment, answers=GAD7_SEVERAL_DAYS, client=amara)

    with pytest.raises(ValidationError):
        screening_withdraw(assignment=assignment, actor=therapist)


def test_another_client_s_questionnaire_is_a_404_by_page_and_by_posted_id(signed_in, beth):
    hers = ScreeningAssignmentFactory(client=beth, instrument="phq-9")

    opened = signed_in.get(url("phq-9"))
    posted = signed_in.post(url("phq-9"), form_data(hers, PHQ9_WORKED))
    other_slug = signed_in.post(url("gad-7"), form_data(hers, GAD7_SEVERAL_DAYS))

    assert (opened.status_code, posted.status_code, other_slug.status_code) == (404, 404, 404)
    assert not ScreeningResponse.objects.exists()
    hers.refresh_from_db()
    assert hers.is_open


def test_the_service_refuses_another_client_s_assignment(amara, beth):
    hers = ScreeningAssignmentFactory(client=beth, instrument="gad-7")

    with pytest.raises(PermissionDenied):
        screening_submit(assignment=hers, answers=GAD7_SEVERAL_DAYS, client=amara)


@pytest.mark.parametrize("slug", ["phq-9", "no-such-scale"])
def test_an_unknown_slug_or_nothing_open_is_a_404(signed_in, slug):
    assert signed_in.get(url(slug)).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, amara):
    ScreeningAssignmentFactory(client=amara, instrument="epds")

    response = client.get(url("epds"))

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url('epds')}"


# --- History and settings -----------------------------------------------------------


def test_history_is_newest_first_with_the_change_since_the_last_one(
    amara, django_assert_num_queries
):
    totals = []
    for weeks, answers in [
        (0, PHQ9_WORKED),  # 11
        (2, dict.fromkeys(range(1, 9), 1) | {9: 0}),  # 8
        (4, dict.fromkeys(range(1, 10), 0)),  # 0
    ]:
        moment = datetime(2027, 1, 5, 18, tzinfo=UTC) + timedelta(weeks=weeks)
        with time_machine.travel(moment, tick=False):
            assignment = ScreeningAssignmentFactory(client=amara, instrument="phq-9")
            totals.append(
                screening_submit(assignment=assignment, answers=answers, client=amara).total
            )
    # Another instrument and another client do not count.
    ScreeningResponseFactory(assignment__client=amara, assignment__instrument="gad-7", total=20)
    ScreeningResponseFactory(assignment__instrument="phq-9", total=27)

    with django_assert_num_queries(1):
        history = [
            (r.total, r.change_since_last)
            for r in screening_history(client=amara, instrument="phq-9")
        ]

    assert totals == [11, 8, 0]
    assert history == [(0, -8), (8, -3), (11, None)]


def test_changing_the_epds_cutoffs_changes_the_band_of_new_answers_only(amara):
    before = screening_submit(
        assignment=ScreeningAssignmentFactory(client=amara, instrument="epds"),
        answers=EPDS_WORKED,
        client=amara,
    )
    changed = ScreeningSettings(epds_possible=12, epds_probable=15)
    changed.full_clean()
    changed.save()

    after = screening_submit(
        assignment=ScreeningAssignmentFactory(client=amara, instrument="epds"),
        answers=EPDS_WORKED,
        client=amara,
    )

    assert (before.total, before.band) == (13, "Probable depression")
    assert (after.total, after.band) == (13, "Possible depression")
    before.refresh_from_db()
    assert before.band == "Probable depression"


def test_the_migration_writes_the_published_epds_cutoffs(db):
    row = ScreeningSettings.objects.get()

    assert (row.epds_possible, row.epds_probable) == (10, 13)


@pytest.mark.parametrize(("possible", "probable"), [(0, 13), (14, 13), (10, 31)])
def test_epds_cutoffs_out_of_order_are_refused_by_the_form_and_the_database(db, possible, probable):
    row = ScreeningSettings(epds_possible=possible, epds_probable=probable)

    with pytest.raises(ValidationError) as checked:
        row.full_clean()
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        row.save()

    assert checked.value.message_dict == {
        "epds_probable": [
            "The EPDS cut-offs must be at least 1, at most 30, and probable no lower than possible."
        ]
    }
    assert "kap_sessions_screeningsettings_epds_cutoffs_ordered" in str(refused.value)


# --- Query budgets ------------------------------------------------------------------


def _past_phq9_responses(client, count: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(count):
        response = ScreeningResponseFactory(
            assignment__client=client, assignment__instrument="phq-9"
        )
        ScreeningAnswer.objects.bulk_create(
            ScreeningAnswer(response=response, item_number=n, position=0, score=0)
            for n in range(1, 11)
        )


def _queries(action) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured)


# Her session, her user, her client record, the assignment, and the session's
# save (three statements); a submit adds the locked assignment, the response,
# all its answers in one insert, the assignment's completion and a savepoint.
QUESTIONNAIRE_PAGE_BUDGET = 8  # 1 of them: her view's audit line (sealed off the request)
SUBMIT_BUDGET = 13


def test_the_questionnaire_page_costs_the_same_however_many_she_answered_before(signed_in, amara):
    ScreeningAssignmentFactory(client=amara, instrument="phq-9")
    signed_in.get(url("phq-9"))  # the practice's profile is read once, then cached
    first = _queries(lambda: signed_in.get(url("phq-9")))
    _past_phq9_responses(amara, 6)
    ScreeningAssignmentFactory.create_batch(3, client=amara, instrument="epds")
    ClientDocumentFactory.create_batch(3, client=amara)
    signed_in.get(url("phq-9"))  # her record is read again after the change, then kept

    later = _queries(lambda: signed_in.get(url("phq-9")))

    assert first == later <= QUESTIONNAIRE_PAGE_BUDGET


def test_a_submit_costs_the_same_however_many_she_answered_before(signed_in, amara):
    one = ScreeningAssignmentFactory(client=amara, instrument="phq-9")
    signed_in.get(url("phq-9"))  # the practice's profile is read once, then cached
    first = _queries(lambda: signed_in.post(url("phq-9"), form_data(one, PHQ9_WORKED)))
    _past_phq9_responses(amara, 6)
    two = ScreeningAssignmentFactory(client=amara, instrument="phq-9")
    signed_in.get(url("phq-9"))  # her record is read again after the change, then kept

    later = _queries(lambda: signed_in.post(url("phq-9"), form_data(two, PHQ9_WORKED)))

    assert ScreeningResponse.objects.filter(assignment__in=[one, two]).count() == 2
    assert first == later <= SUBMIT_BUDGET


# --- The therapist's admin ------------------------------------------------------------


def test_admin_assigns_several_questionnaires_to_a_client_for_a_date(
    admin_client_mfa, amara, therapist
):
    assign = reverse("admin:kap_sessions_screeningassignment_assign")
    page = admin_client_mfa.get(f"{assign}?client={amara.pk}")
    due = timezone.localdate() + timedelta(days=7)

    response = admin_client_mfa.post(
        assign,
        {"client": amara.pk, "instruments": ["phq-9", "epds"], "due_on": due.isoformat()},
    )

    assert page.status_code == 200
    assert f'<option value="{amara.pk}" selected>' in page.content.decode()
    assert response.status_code == 302
    assert sorted(
        ScreeningAssignment.objects.filter(client=amara).values_list("instrument", "due_on")
    ) == [("epds", due), ("phq-9", due)]
    assert set(ScreeningAssignment.objects.values_list("assigned_by", flat=True)) == {therapist.pk}


def test_admin_refuses_a_due_date_in_the_past(admin_client_mfa, amara):
    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_screeningassignment_assign"),
        {"client": amara.pk, "instruments": ["gad-7"], "due_on": "2020-01-01"},
    )

    assert response.status_code == 200
    assert "Choose today or a later day." in response.content.decode()
    assert not ScreeningAssignment.objects.exists()


def test_admin_add_button_opens_the_assign_form(admin_client_mfa):
    response = admin_client_mfa.get(reverse("admin:kap_sessions_screeningassignment_add"))

    assert response.status_code == 200
    assert "Assign questionnaires" in response.content.decode()


def test_admin_response_page_shows_score_band_change_and_answers_and_is_audited(
    admin_client_mfa, amara, therapist
):
    with time_machine.travel(datetime(2027, 1, 5, 18, tzinfo=UTC), tick=False):
        screening_submit(
            assignment=ScreeningAssignmentFactory(client=amara, instrument="phq-9"),
            answers=dict.fromkeys(range(1, 10), 0),
            client=amara,
        )
    with time_machine.travel(datetime(2027, 1, 19, 18, tzinfo=UTC), tick=False):
        latest = screening_submit(
            assignment=ScreeningAssignmentFactory(client=amara, instrument="phq-9"),
            answers=PHQ9_WORKED | {9: 1},
            client=amara,
        )

    response = admin_client_mfa.get(
        reverse("admin:kap_sessions_screeningresponse_change", args=[latest.pk])
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "12 of 27" in page
    assert "Moderate" in page
    assert "+12 (from 0)" in page
    assert "<li>Q9: Several days (1)</li>" in page
    assert "<li>Q10: Very difficult (2, not counted)</li>" in page
    assert AuditEvent.objects.filter(
        actor_id=therapist.pk,
        action=AuditEvent.Action.VIEW,
        object_type="kap_sessions.screeningresponse",
        object_id=str(latest.pk),
        client_id=amara.pk,
    ).exists()


def test_admin_response_list_shows_no_scores(admin_client_mfa, amara):
    ScreeningResponseFactory(assignment__client=amara, total=23, band="Severe")

    page = admin_client_mfa.get(
        reverse("admin:kap_sessions_screeningresponse_changelist")
    ).content.decode()

    assert amara.full_name in page
    assert "Severe" not in page


def test_admin_edits_the_epds_cutoffs(admin_client_mfa):
    ScreeningSettings().save()  # as the migration wrote it
    change = reverse("admin:kap_sessions_screeningsettings_change", args=[1])

    refused = admin_client_mfa.post(change, {"epds_possible": 14, "epds_probable": 12})
    saved = admin_client_mfa.post(change, {"epds_possible": 11, "epds_probable": 14})

    assert "probable no lower than possible" in refused.content.decode()
    assert saved.status_code == 302
    row = ScreeningSettings.objects.get()
    assert (row.epds_possible, row.epds_probable) == (11, 14)


def test_every_instrument_has_a_portal_page(signed_in, amara):
    for slug in INSTRUMENTS:
        ScreeningAssignmentFactory(client=amara, instrument=slug)

    statuses = {slug: signed_in.get(url(slug)).status_code for slug in INSTRUMENTS}

    assert statuses == {"phq-9": 200, "gad-7": 200, "epds": 200}


@pytest.fixture
def vnu() -> list[str]:
    """The Nu HTML Checker, as tests/practice/test_html_validity.py runs it."""
    command = vnu_command()
    if command is None:
        message = "the Nu HTML Checker needs java and .venv/vnu/vnu.jar (see .ci/run)"
        if IN_CI:
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    return command


def test_the_questionnaire_pages_are_valid_html(signed_in, amara, practice_profile, vnu, tmp_path):
    for slug in INSTRUMENTS:
        ScreeningAssignmentFactory(client=amara, instrument=slug)
    gad7 = ScreeningAssignment.objects.get(instrument="gad-7")
    pages = {f"{slug} blank": signed_in.get(url(slug)).content.decode() for slug in INSTRUMENTS}
    pages["gad-7 with errors"] = signed_in.post(
        url("gad-7"), form_data(gad7, {1: 0})
    ).content.decode()
    signed_in.post(url("gad-7"), form_data(gad7, GAD7_SEVERAL_DAYS))
    pages["thanks"] = signed_in.get(
        reverse("kap_sessions:portal_questionnaire_thanks", args=["gad-7"])
    ).content.decode()

    assert vnu_errors(vnu, pages, tmp_path) == []


# --- In Chromium, on a phone ----------------------------------------------------------


@pytest.fixture
def amara_in_chromium(live_server, phone_page, client_user):  # type: ignore[no-untyped-def]
    """Amara signed in through the real login page, on a phone; lands on her GAD-7."""
    ScreeningAssignmentFactory(client=client_user.client, instrument="gad-7")
    page = phone_page
    page.goto(f"{live_server.url}/accounts/login/?next={url('gad-7')}")
    page.locator("input[name=login]").fill(client_user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{url('gad-7')}")
    return page


@pytest.mark.browser
def test_she_answers_a_gad7_on_her_phone_and_lands_on_thanks(amara_in_chromium, live_server):
    page = amara_in_chromium
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    for item in GAD_7.items[:7]:
        page.get_by_role("group", name=re.compile(f"^{item.number}\\. ")).get_by_label(
            "Several days"
        ).check()
    page.get_by_role("button", name="Send my answers").click()

    page.wait_for_url(f"**{reverse('kap_sessions:portal_questionnaire_thanks', args=['gad-7'])}")
    assert page.get_by_role("heading", name="Thank you").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
    saved = ScreeningResponse.objects.get()
    assert (saved.instrument, saved.total, saved.band) == ("gad-7", 7, "Mild")


@pytest.mark.browser
def test_the_questionnaire_page_passes_axe_with_and_without_its_errors(amara_in_chromium):
    from tests.practice.test_accessibility import violations

    page = amara_in_chromium
    found = violations(page)
    page.get_by_role("group", name=re.compile(r"^1\. ")).get_by_label("Not at all").check()
    page.get_by_role("button", name="Send my answers").click()
    summary = page.get_by_role("alert")
    summary.wait_for()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert summary.get_by_role("link").count() == 6
    found += violations(page)
    summary.get_by_role("link", name="Please answer question 2.").click()
    assert page.evaluate("document.activeElement.id") == "id_item_2_0"
    # Her first answer is kept.
    first = page.get_by_role("group", name=re.compile(r"^1\. "))
    assert first.get_by_label("Not at all").is_checked()

    assert found == []
