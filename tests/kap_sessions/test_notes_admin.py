"""The notes in the workspace: drafts saved through the service, "Sign", read-only once
signed, addenda listed by date, psychotherapy notes only for staff allowed to see them,
every view audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse

from kap_sessions.models import NoteAddendum, PsychotherapyNote, SessionNote
from kap_sessions.services import note_addendum_add, note_sign
from practice.models import AuditEvent
from tests.conftest import enrol_totp
from tests.factories import StaffFactory
from tests.kap_sessions.factories_notes import (
    CourseSessionFactory,
    PsychotherapyNoteFactory,
    SessionNoteFactory,
)

pytestmark = pytest.mark.django_db

DRAFT_FIELDS = {
    "presentation": "Rested; brought a dream.",
    "interventions": "Reviewed the plan for the day.",
    "response": "Relieved.",
    "risk": "None.",
    "plan": "Medicine session on Tuesday.",
}


def change_url(note) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"admin:kap_sessions_{type(note)._meta.model_name}_change", args=[note.pk])


def sign_url(note) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"admin:kap_sessions_{type(note)._meta.model_name}_sign", args=[note.pk])


def addendum_url(note) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"admin:kap_sessions_{type(note)._meta.model_name}_addendum", args=[note.pk])


def assistant_with(client, *codenames: str):  # type: ignore[no-untyped-def]
    """Staff who is not a superuser, with an authenticator and only ``codenames``, signed in."""
    assistant = StaffFactory(is_superuser=False)
    enrol_totp(assistant)
    assistant.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(assistant)
    return assistant


# --- A draft -------------------------------------------------------------------


def test_opening_a_note_is_audited_and_shows_the_sign_button(admin_client_mfa, therapist):
    note = SessionNoteFactory()

    page = admin_client_mfa.get(change_url(note)).content.decode()

    assert f'action="{sign_url(note)}"' in page
    assert 'name="plan"' in page  # a draft is edited here
    assert "Add the addendum" not in page
    lines = AuditEvent.objects.filter(
        object_id=str(note.pk), object_type="kap_sessions.sessionnote"
    )
    assert [(line.action, line.actor_id, line.client_id) for line in lines] == [
        ("view", therapist.pk, note.session.course.client_id)
    ]


def test_a_draft_is_saved_through_the_service_with_one_audit_line(admin_client_mfa, therapist):
    note = SessionNoteFactory()

    response = admin_client_mfa.post(change_url(note), {**DRAFT_FIELDS, "_continue": "1"})

    assert response.status_code == 302
    note.refresh_from_db()
    assert note.plan == "Medicine session on Tuesday."
    lines = AuditEvent.objects.filter(
        object_id=str(note.pk), object_type="kap_sessions.sessionnote"
    )
    assert [(line.action, line.actor_id) for line in lines] == [("change", therapist.pk)]


def test_a_new_note_for_a_session_is_written_from_its_link(admin_client_mfa, therapist):
    session = CourseSessionFactory()
    link = reverse("admin:kap_sessions_sessionnote_for_session", args=[session.pk])

    to_form = admin_client_mfa.get(link)
    form = admin_client_mfa.get(to_form.url)
    saved = admin_client_mfa.post(to_form.url, {"session": session.pk, **DRAFT_FIELDS})

    assert to_form.url == reverse("admin:kap_sessions_sessionnote_add") + f"?session={session.pk}"
    assert f'value="{session.pk}"' in form.content.decode()
    assert saved.status_code == 302
    note = SessionNote.objects.get(session=session)
    assert (note.author, note.presentation, note.is_signed) == (
        therapist,
        "Rested; brought a dream.",
        False,
    )
    assert admin_client_mfa.get(link).url == change_url(note)
    assert AuditEvent.objects.filter(object_id=str(note.pk), action="create").count() == 1


def test_a_second_note_for_the_same_session_is_refused_by_the_form(admin_client_mfa):
    note = SessionNoteFactory()

    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_sessionnote_add"), {"session": note.session_id, **DRAFT_FIELDS}
    )

    assert response.status_code == 200
    assert "Session note with this Session already exists." in response.content.decode()
    assert SessionNote.objects.count() == 1


def test_an_empty_draft_is_not_signed(admin_client_mfa):
    note = SessionNoteFactory(presentation="", interventions="", response="", risk="", plan="")

    response = admin_client_mfa.post(sign_url(note), follow=True)

    note.refresh_from_db()
    assert note.is_signed is False
    assert "Write the note before signing it." in response.content.decode()


# --- Signing and after ---------------------------------------------------------


@time_machine.travel(datetime(2027, 3, 3, 1, 30, tzinfo=UTC), tick=False)
def test_sign_locks_the_page_and_offers_an_addendum(admin_client_mfa, therapist):
    note = SessionNoteFactory()
    admin_client_mfa.force_login(therapist)  # signed in at the travelled time

    signed = admin_client_mfa.post(sign_url(note), follow=True)

    note.refresh_from_db()
    assert (note.signed_by, note.signed_at) == (therapist, datetime(2027, 3, 3, 1, 30, tzinfo=UTC))
    page = signed.content.decode()
    assert "The note is signed." in page
    assert "Signed on Mar 2, 2027, 5:30 p.m." in page  # in the practice's time
    assert 'name="plan"' not in page  # read-only now
    assert f'action="{sign_url(note)}"' not in page
    assert f'action="{addendum_url(note)}"' in page
    assert "Medicine session next week." in page


def test_a_post_to_a_signed_note_changes_nothing(admin_client_mfa, therapist):
    note = SessionNoteFactory()
    note_sign(note=note, actor=therapist)

    response = admin_client_mfa.post(change_url(note), {**DRAFT_FIELDS, "_save": "1"})

    assert response.status_code == 403
    note.refresh_from_db()
    assert note.plan == "Medicine session next week."
    assert not AuditEvent.objects.filter(
        object_id=str(note.pk), action="change", path=change_url(note)
    ).exists()


def test_a_signed_note_cannot_be_deleted_from_the_admin(admin_client_mfa, therapist):
    note = SessionNoteFactory()
    note_sign(note=note, actor=therapist)
    delete = reverse("admin:kap_sessions_sessionnote_delete", args=[note.pk])

    response = admin_client_mfa.post(delete, {"post": "yes"})

    assert response.status_code == 403
    assert SessionNote.objects.filter(pk=note.pk).exists()


def test_an_addendum_is_added_and_listed_with_its_date(admin_client_mfa, therapist):
    note = SessionNoteFactory()
    note_sign(note=note, actor=therapist)
    note_addendum_add(
        note=note, text="An earlier one.", actor=therapist, now=datetime(2027, 3, 4, 18, tzinfo=UTC)
    )

    with time_machine.travel(datetime(2027, 3, 6, 19, 15, tzinfo=UTC), tick=False):
        admin_client_mfa.force_login(therapist)  # signed in at the travelled time
        page = admin_client_mfa.post(
            addendum_url(note), {"text": "She called to correct the date."}, follow=True
        )

    text = page.content.decode()
    assert "The addendum is added" in text
    assert [a.text for a in note.addenda.all()] == [
        "An earlier one.",
        "She called to correct the date.",
    ]
    earlier, later = text.index("An earlier one."), text.index("She called to correct the date.")
    assert earlier < later
    assert 'datetime="2027-03-06T11:15:00-08:00"' in text
    assert "Mar 6, 2027, 11:15 a.m." in text


def test_a_blank_addendum_is_refused_with_a_message(admin_client_mfa, therapist):
    note = SessionNoteFactory()
    note_sign(note=note, actor=therapist)

    page = admin_client_mfa.post(addendum_url(note), {"text": "  "}, follow=True)

    assert "Write the addendum." in page.content.decode()
    assert not NoteAddendum.objects.exists()


def test_a_draft_refuses_an_addendum_posted_to_it(admin_client_mfa):
    note = SessionNoteFactory()

    page = admin_client_mfa.post(addendum_url(note), {"text": "Too early."}, follow=True)

    assert "Only a signed note takes an addendum" in page.content.decode()
    assert not NoteAddendum.objects.exists()


def test_signing_and_addenda_are_refused_to_staff_who_may_only_read(client):
    note = SessionNoteFactory()
    assistant_with(client, "view_sessionnote")

    page = client.get(change_url(note))
    refused_sign = client.post(sign_url(note))

    assert page.status_code == 200
    assert f'action="{sign_url(note)}"' not in page.content.decode()
    assert refused_sign.status_code == 403
    note.refresh_from_db()
    assert note.is_signed is False


# --- Psychotherapy notes: their own permission -----------------------------------


def test_psychotherapy_notes_are_refused_without_their_view_permission(client):
    note = PsychotherapyNoteFactory()
    assistant_with(client, "view_sessionnote", "change_sessionnote", "change_psychotherapynote")
    pages = [
        reverse("admin:kap_sessions_psychotherapynote_changelist"),
        change_url(note),
        reverse("admin:kap_sessions_psychotherapynote_for_session", args=[note.session_id]),
        reverse("admin:kap_sessions_psychotherapynote_add"),
    ]

    responses = [client.get(url) for url in pages]
    posted = client.post(change_url(note), {"text": "Changed.", "_save": "1"})

    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert posted.status_code == 403
    assert all("Transference" not in r.content.decode() for r in responses)
    # Each refused opening of a note is a "refused" line naming the note, nothing more.
    refusals = AuditEvent.objects.filter(object_type="kap_sessions.psychotherapynote")
    assert {(e.object_id, e.outcome) for e in refusals} == {(str(note.pk), "refused")}
    note.refresh_from_db()
    assert note.text.startswith("Transference")


def test_the_sidebar_hides_psychotherapy_notes_from_staff_without_the_permission(client):
    assistant_with(client, "view_sessionnote")

    page = client.get(reverse("admin:kap_sessions_sessionnote_changelist")).content.decode()

    assert reverse("admin:kap_sessions_sessionnote_changelist") in page
    assert reverse("admin:kap_sessions_psychotherapynote_changelist") not in page


def test_staff_with_the_permission_read_psychotherapy_notes_and_it_is_audited(client):
    note = PsychotherapyNoteFactory()
    assistant = assistant_with(client, "view_psychotherapynote")

    page = client.get(change_url(note))

    assert page.status_code == 200
    assert "Transference: she sees me as the older sister who left." in page.content.decode()
    assert 'name="text"' not in page.content.decode()  # reading only
    assert [
        (line.action, line.actor_id, line.client_id)
        for line in AuditEvent.objects.filter(object_type="kap_sessions.psychotherapynote")
    ] == [("view", assistant.pk, note.session.course.client_id)]


def test_the_therapist_writes_signs_and_amends_a_psychotherapy_note(admin_client_mfa, therapist):
    note = PsychotherapyNoteFactory()

    admin_client_mfa.post(change_url(note), {"text": "Rewritten draft.", "_continue": "1"})
    admin_client_mfa.post(sign_url(note))
    admin_client_mfa.post(addendum_url(note), {"text": "A later thought."})

    stored = PsychotherapyNote.objects.get(pk=note.pk)
    assert (stored.text, stored.signed_by) == ("Rewritten draft.", therapist)
    assert [a.text for a in stored.addenda.all()] == ["A later thought."]


def test_a_session_note_page_shows_nothing_of_the_psychotherapy_note(admin_client_mfa):
    progress = SessionNoteFactory()
    PsychotherapyNoteFactory(session=progress.session)

    page = admin_client_mfa.get(change_url(progress)).content.decode()

    assert "Transference" not in page
    assert reverse("admin:kap_sessions_psychotherapynote_changelist") + "?" not in page


def test_her_client_page_shows_nothing_of_her_psychotherapy_notes(admin_client_mfa):
    note = PsychotherapyNoteFactory()
    client_page = reverse("admin:practice_client_change", args=[note.session.course.client_id])

    page = admin_client_mfa.get(client_page)

    assert page.status_code == 200
    assert "Transference" not in page.content.decode()


def test_the_note_lists_show_no_content(admin_client_mfa):
    SessionNoteFactory()
    PsychotherapyNoteFactory()

    lists = [
        admin_client_mfa.get(reverse(f"admin:kap_sessions_{name}_changelist")).content.decode()
        for name in ("sessionnote", "psychotherapynote")
    ]

    assert "Medicine session next week." not in lists[0]
    assert "Transference" not in lists[1]
    assert all("Draft" in page for page in lists)
