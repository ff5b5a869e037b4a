"""Shared fixtures: named personas, and the real parts tests run against.

- ``smtp_sink``: a real SMTP server (aiosmtpd); Django's email goes to it.
- ``celery_worker``: a factory for real ``celery worker`` processes on the test
  database and broker (needs PostgreSQL, which ``make test`` provides).
- ``browser`` / ``page``: Debian's Chromium driven by Playwright.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django refuses
# database calls there unless told it is safe (it is: tests are sequential).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from django.db.models.signals import post_migrate  # noqa: E402

from tests.factories import (  # noqa: E402
    ClientFactory,
    PracticeProfileFactory,
    StaffFactory,
    UserFactory,
)
from tests.support.redis import PrivateRedis  # noqa: E402
from tests.support.server import AppServer  # noqa: E402
from tests.support.smtp import SMTPSink, StallingHandler  # noqa: E402
from tests.support.stack import Stack  # noqa: E402
from tests.support.worker import CeleryBeat, CeleryWorker  # noqa: E402

# The calendar's fixtures (frozen_now, weekly_hours) serve tests/practice and
# tests/consultations alike.
pytest_plugins = ["tests.support.calendar"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() == "true"


# The data migrations whose rows the app needs (get_or_create: safe to repeat).
DATA_MIGRATIONS = ("0005_preparation_defaults", "0006_screening_settings")


def _restore_migration_defaults(sender, using="default", **kwargs):  # type: ignore[no-untyped-def]
    """Put back the rows data migrations write, after a transactional test's flush.

    Flushing empties every table, and Django emits ``post_migrate`` after it
    (as it does after ``migrate``), so the next test, whichever worker or order
    it runs in, finds the built-in contraindications, the starting consent
    documents and the EPDS cut-offs. Only in tests: in the practice, what the
    therapist retired stays retired.
    """
    if sender.label != "kap_sessions":
        return
    from django.apps import apps
    from django.db import migrations

    for name in DATA_MIGRATIONS:
        module = importlib.import_module(f"kap_sessions.migrations.{name}")
        for operation in module.Migration.operations:
            if isinstance(operation, migrations.RunPython):
                operation.code(apps, None)


post_migrate.connect(_restore_migration_defaults, dispatch_uid="tests-migration-defaults")


@pytest.fixture(autouse=True)
def _fresh_practice_profile_cache() -> Iterator[None]:
    from practice.identity import practice_profile_forget
    from practice.pagecache import shared_pages_forget

    practice_profile_forget()
    shared_pages_forget()
    yield
    practice_profile_forget()
    shared_pages_forget()


@pytest.fixture(autouse=True)
def _isolated_cache(settings) -> None:  # type: ignore[no-untyped-def]
    """Give every test a cache of its own (a fresh key prefix).

    Flushing would also empty the Celery queue, which shares the Redis
    database; a new prefix isolates rate limits and cached rows instead.
    ``settings.CACHE_KEY_PREFIX_FOR_TEST`` tells a worker the same prefix.
    """
    import copy
    import uuid

    caches = copy.deepcopy(settings.CACHES)
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    caches["default"]["KEY_PREFIX"] = prefix
    settings.CACHES = caches
    settings.CACHE_KEY_PREFIX_FOR_TEST = prefix
    # In process the doorbell rings for every email (tests that are about its
    # coalescing set their own window).
    settings.OUTBOX_WAKE_COALESCE_SECONDS = 0
    # Password hashing is deliberately slow; tests log in hundreds of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def eager_tasks(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Run Celery jobs in the test process, errors raised (tests about what a job does).

    ``shared_task`` resolves to whichever Celery app is current, which another
    test may have replaced: both run jobs in place, and get their settings back.
    """
    from celery import current_app

    from practice.celery import app

    apps = {id(app): app, id(current_app._get_current_object()): current_app}
    before = {
        key: (each.conf.task_always_eager, each.conf.task_eager_propagates)
        for key, each in apps.items()
    }
    settings.CELERY_TASK_ALWAYS_EAGER = True
    for each in apps.values():
        each.conf.task_always_eager = True
        each.conf.task_eager_propagates = True
    yield
    for key, each in apps.items():
        each.conf.task_always_eager, each.conf.task_eager_propagates = before[key]


@pytest.fixture
def practice_profile(db: None):  # type: ignore[no-untyped-def]
    return PracticeProfileFactory()


def enrol_totp(user):  # type: ignore[no-untyped-def]
    """Give ``user`` an authenticator app; return its secret."""
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return secret


def totp_code(secret: str) -> str:
    """The code her authenticator app shows now.

    The current period's, as an app shows it: with MFA_TOTP_TOLERANCE = 1 it
    stays good through the next period too, so a code typed as the period
    turns still signs her in (the oldest accepted period's would not).
    """
    import time

    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(time.time()) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))


@pytest.fixture
def therapist(db: None, practice_profile):  # type: ignore[no-untyped-def]
    """The therapist: staff, superuser, with an authenticator app enrolled."""
    user = StaffFactory(email="lena@harborlight.example", first_name="Lena", last_name="Marsh")
    user.totp_secret = enrol_totp(user)
    return user


@pytest.fixture
def therapist_without_mfa(db: None, practice_profile):  # type: ignore[no-untyped-def]
    return StaffFactory(email="assistant@harborlight.example", first_name="Sam")


@pytest.fixture
def client_user(db: None):  # type: ignore[no-untyped-def]
    """A client of the practice with a portal login (``client`` is Django's test client)."""
    user = UserFactory(email="amara@example.com", first_name="Amara", last_name="Okafor")
    ClientFactory(user=user, email=user.email, first_name="Amara", last_name="Okafor")
    return user


@pytest.fixture
def other_client_user(db: None):  # type: ignore[no-untyped-def]
    user = UserFactory(email="beth@example.com", first_name="Beth", last_name="Lindqvist")
    ClientFactory(user=user, email=user.email, first_name="Beth", last_name="Lindqvist")
    return user


@pytest.fixture
def admin_client_mfa(client, therapist):  # type: ignore[no-untyped-def]
    """Django's test client, logged in as the therapist (who has MFA)."""
    client.force_login(therapist)
    return client


# --- Real SMTP ---------------------------------------------------------------


@pytest.fixture
def smtp_sink(settings) -> Iterator[SMTPSink]:  # type: ignore[no-untyped-def]
    sink = SMTPSink()
    sink.start()
    sink.configure_django(settings)
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def smtp_sink_with(settings):  # type: ignore[no-untyped-def]
    """A factory for a sink of another behaviour: ``smtp_sink_with(lambda sink: handler)``."""
    sinks: list[SMTPSink] = []

    def make(handler_factory: Callable[[SMTPSink], object]) -> SMTPSink:
        sink = SMTPSink(handler_factory=handler_factory)
        sink.start()
        sink.configure_django(settings)
        sinks.append(sink)
        return sink

    yield make
    for sink in sinks:
        sink.stop()


@pytest.fixture
def stalling_smtp_sink(smtp_sink_with):  # type: ignore[no-untyped-def]
    """A factory for a sink whose handler stalls (``tests.support.smtp.StallingHandler``)."""
    return lambda **options: smtp_sink_with(lambda sink: StallingHandler(sink, **options))


# --- A Redis of the test's own, and the app in gunicorn --------------------------


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:  # type: ignore[no-untyped-def]
    """A redis-server on a free port, for tests that stop or flush Redis."""
    redis = PrivateRedis(tmp_path).start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.fixture
def app_server(transactional_db, settings, tmp_path):  # type: ignore[no-untyped-def]
    """A factory: ``app_server(env={...})`` serves the app with gunicorn on the test database."""
    _needs_postgres(settings)
    servers: list[AppServer] = []

    def start(*, env: dict[str, str]) -> AppServer:
        server = AppServer(env=env, log_dir=tmp_path)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


# --- Real Celery worker --------------------------------------------------------


def _needs_postgres(settings) -> None:  # type: ignore[no-untyped-def]
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("a real worker shares the test database: needs PostgreSQL")


@pytest.fixture
def celery_worker(transactional_db, settings, tmp_path):  # type: ignore[no-untyped-def]
    """A factory: ``celery_worker(env={...})`` starts a worker and returns it.

    Every worker started is stopped at the end of the test.
    """
    _needs_postgres(settings)
    started: list[CeleryWorker] = []

    def start(
        *, env: dict[str, str] | None = None, concurrency: int = 2, wait: bool = True
    ) -> CeleryWorker:
        worker = CeleryWorker(env=env, concurrency=concurrency, log_dir=tmp_path)
        started.append(worker)
        return worker.start(wait=wait)

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def celery_beat(transactional_db, settings, tmp_path):  # type: ignore[no-untyped-def]
    """A factory: ``celery_beat(env={...})`` starts ``celery beat`` (each with its own
    schedule file) and returns it; every beat started is stopped at the end."""
    _needs_postgres(settings)
    started: list[CeleryBeat] = []

    def start(*, env: dict[str, str] | None = None, wait: bool = True) -> CeleryBeat:
        beat = CeleryBeat(env=env, log_dir=tmp_path)
        started.append(beat)
        return beat.start(wait=wait)

    yield start
    for beat in started:
        beat.stop()


@pytest.fixture
def stack(transactional_db, settings, tmp_path, smtp_sink, celery_worker, celery_beat):  # type: ignore[no-untyped-def]
    """The app as in production: gunicorn, a Celery worker and beat on the test
    database and the shared Redis, sending email to ``stack.smtp``.

    Links in the emails point at ``stack.url`` (``SITE_URL``). A test that
    needs other settings in the processes starts its own parts with
    ``app_server``, ``celery_worker`` and ``celery_beat``.
    """
    _needs_postgres(settings)
    server = AppServer(env={"EMAIL_URL": smtp_sink.url}, log_dir=tmp_path)
    env = {"EMAIL_URL": smtp_sink.url, "SITE_URL": server.url}
    server.extra_env.update(env)
    settings.SITE_URL = server.url
    worker = celery_worker(env=env)
    beat = celery_beat(env=env)
    server.start()
    try:
        yield Stack(server=server, worker=worker, beat=beat, smtp=smtp_sink)
    finally:
        server.stop()


# --- Real browser ------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("Chromium is required in CI: /usr/bin/chromium is missing")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    """A desktop-sized page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):  # type: ignore[no-untyped-def]
    """A page the size of a phone, with touch."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    page = context.new_page()
    yield page
    context.close()


# --- CI must not skip what it can run ---------------------------------------


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    skipped = terminalreporter.stats.get("skipped", [])
    if IN_CI and skipped:
        terminalreporter.write_line(
            f"CI=true: {len(skipped)} test(s) were skipped; CI must run everything.",
            red=True,
        )


def pytest_sessionfinish(session, exitstatus):  # type: ignore[no-untyped-def]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if IN_CI and reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = 1
