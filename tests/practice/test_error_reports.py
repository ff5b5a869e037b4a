"""An error inside a clinical form leaves its text out of the error email and the log."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from practice.error_reports import ClinicalExceptionReporterFilter
from tests.kap_sessions.factories_notes import SessionNoteFactory
from tests.kap_sessions.intake_steps import INTAKE_URL, section_post

pytestmark = pytest.mark.django_db

SECRET = "I hear voices telling me to leave the baby"


class ServiceBroke(RuntimeError):
    pass


def broken(**kwargs: object) -> None:
    raise ServiceBroke("the service failed")


@pytest.fixture
def production_errors(settings, caplog, mailoutbox):  # type: ignore[no-untyped-def]
    """DEBUG off, ADMINS set, the django.request log captured (it does not propagate)."""
    settings.DEBUG = False
    settings.ADMINS = [("Practice admin", "ops@harborlight.example")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    request_logger = logging.getLogger("django.request")
    request_logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    yield caplog
    request_logger.removeHandler(caplog.handler)


def everything_written(caplog, mailoutbox) -> str:  # type: ignore[no-untyped-def]
    logged = "\n".join(
        [record.getMessage() for record in caplog.records]
        + [caplog.handler.format(record) for record in caplog.records]
    )
    mailed = "\n".join(
        f"{message.subject}\n{message.body}\n"
        + "".join(str(content) for content, _ in getattr(message, "alternatives", []))
        for message in mailoutbox
    )
    return logged + "\n" + mailed


def test_an_error_in_the_intake_mails_the_admins_without_her_answers(
    client, client_user, practice_profile, production_errors, mailoutbox, monkeypatch
):
    monkeypatch.setattr("kap_sessions.views.intake.intake_save_section", broken)
    client.force_login(client_user)
    client.raise_request_exception = False

    response = client.post(INTAKE_URL, section_post("medical", medical_notes=SECRET))

    assert response.status_code == 500
    assert len(mailoutbox) == 1
    report = mailoutbox[0].body
    assert "ServiceBroke" in report
    assert "medical_notes = '********************'" in report
    written = everything_written(production_errors, mailoutbox)
    assert "/portal/intake/" in written
    assert SECRET not in written
    assert "voices" not in written
    assert client_user.email not in written


def test_an_error_in_a_session_note_mails_the_admins_without_the_note(
    admin_client_mfa, production_errors, mailoutbox, monkeypatch
):
    note = SessionNoteFactory()
    monkeypatch.setattr("kap_sessions.admin.notes.note_save", broken)
    admin_client_mfa.raise_request_exception = False

    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_sessionnote_change", args=[note.pk]),
        {
            "presentation": SECRET,
            "interventions": "Grounding.",
            "response": "Calmer.",
            "risk": "Voices; safety plan made.",
            "plan": "Call tomorrow.",
            "_continue": "1",
        },
    )

    assert response.status_code == 500
    assert len(mailoutbox) == 1
    assert "ServiceBroke" in mailoutbox[0].body
    assert "presentation = '********************'" in mailoutbox[0].body
    written = everything_written(production_errors, mailoutbox)
    assert SECRET not in written
    assert "safety plan" not in written


def test_frame_variables_and_cookies_are_hidden_even_with_debug_on(rf, settings):
    settings.DEBUG = True
    request = rf.post("/portal/intake/", {"medical_notes": SECRET})
    request.COOKIES["sessionid"] = "abc"
    request.COOKIES["csrftoken"] = "def"
    reporter_filter = ClinicalExceptionReporterFilter()
    medical_notes = SECRET

    def frame():  # type: ignore[no-untyped-def]
        import sys

        return sys._getframe(1)

    variables = dict(reporter_filter.get_traceback_frame_variables(request, frame()))

    assert variables["medical_notes"] == reporter_filter.cleansed_substitute
    assert reporter_filter.get_post_parameters(request).dict() == {
        "medical_notes": reporter_filter.cleansed_substitute
    }
    assert set(reporter_filter.get_safe_cookies(request).values()) == {
        reporter_filter.cleansed_substitute
    }
    del medical_notes
