"""Fixtures for the newsletter tests."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.newsletter.factories import SubscriberFactory

CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def without_csrf(content: bytes) -> bytes:
    """A response body with its per-request CSRF tokens blanked out."""
    return CSRF_INPUT.sub(b'name="csrfmiddlewaretoken" value=""', content)


@pytest.fixture
def anonymous(db: None, practice_profile) -> Client:  # type: ignore[no-untyped-def]
    """A visitor's browser, with CSRF checks on as in real life."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def csrf_post(anonymous: Client):  # type: ignore[no-untyped-def]
    """POST like a browser: fetch the page's CSRF token first."""

    def post(path: str, data: dict[str, str], **extra: str):  # type: ignore[no-untyped-def]
        anonymous.get("/newsletter/")
        token = anonymous.cookies["csrftoken"].value
        return anonymous.post(path, {"csrfmiddlewaretoken": token, **data}, **extra)

    return post


@pytest.fixture
def reader(db: None, practice_profile):  # type: ignore[no-untyped-def]
    """Nora, a confirmed reader."""
    return SubscriberFactory(email="nora@example.com", first_name="Nora", confirmed=True)


@pytest.fixture
def eager_tasks(settings):  # type: ignore[no-untyped-def]
    """Run Celery tasks in the test process (for tests about what they do, not how)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from celery import current_app

    from practice.celery import app

    # shared_task resolves to whichever app is current, which another test
    # may have replaced; make both run tasks in place.
    apps = {id(app): app, id(current_app._get_current_object()): current_app}
    for each in apps.values():
        each.conf.task_always_eager = True
    yield
    for each in apps.values():
        each.conf.task_always_eager = False


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_sink(settings):  # type: ignore[no-untyped-def]
    """The shared sink on a fixed free port.

    aiosmtpd 1.4 cannot start on port 0 (its start-up check connects to the
    port it was given), which the shared fixture asks for; this one picks a
    free port first and is otherwise the same.
    """
    from aiosmtpd.controller import Controller

    from tests.support.smtp import SMTPSink, _Handler

    sink = SMTPSink()
    sink.controller = Controller(_Handler(sink), hostname="127.0.0.1", port=_free_port())
    sink.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield sink
    finally:
        sink.stop()
