"""Settings: embedded defaults, production values, loud failures.

Each case starts a fresh Python process, because settings are read once at
import time and the point is what a real process does with its environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], "
    "'db_name': str(s.DATABASES['default']['NAME']), 'broker': s.CELERY_BROKER_URL, "
    "'cache': s.CACHES['default']['BACKEND'], 'email': s.EMAIL_BACKEND, "
    "'debug': s.DEBUG, 'tz': s.TIME_ZONE, 'mfa': s.STAFF_MFA_REQUIRED}))"
)
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "practice.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/practice_prod_check",
    "REDIS_URL": "redis://127.0.0.1:6379/9",
    "EMAIL_URL": "smtp://mailer:secret@smtp.example.com:587/?tls=True",
    "FIELD_ENCRYPTION_KEYS": "0sE4zY0iG3QmC1U3h1QZq2bq8wS9WXn0hJ8m9c3Yb0A=",
}


def run_python(code_or_args: list[str], env: dict[str, str], tmp_path: Path):
    clean = {k: v for k, v in os.environ.items() if k not in _APP_VARIABLES}
    clean.update(VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="practice.settings")
    clean.update(env)
    return subprocess.run(
        [sys.executable, *code_or_args], cwd=ROOT, env=clean, capture_output=True, text=True
    )


_APP_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "FIELD_ENCRYPTION_KEYS",
    "STAFF_MFA_REQUIRED",
    "PRACTICE_TIME_ZONE",
    "SITE_URL",
    "PORT",
    "CONSULTATION_BOOKING_RATE_LIMIT",
    "NEWSLETTER_SIGNUP_RATE_LIMIT",
    "NEWSLETTER_SIGNUP_RATE_WINDOW",
    "INVITATION_RENEW_RATE_LIMIT",
    "CLIENT_INVITATION_DAYS",
    "PRIVATE_FILES_ROOT",
    "PRIVATE_UPLOAD_MAX_BYTES",
    "VAR_DIR",
    "SESSION_IDLE_MINUTES",
    "TRUSTED_PROXY_COUNT",
    "TRUSTED_CLIENT_IP_HEADER",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def test_defaults_need_no_environment(tmp_path):
    result = run_python(["-c", PROBE], {}, tmp_path)

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values == {
        "engine": "django.db.backends.sqlite3",
        "db_name": str(tmp_path / "var" / "db.sqlite3"),
        "broker": "filesystem://localhost//",
        "cache": "django.core.cache.backends.filebased.FileBasedCache",
        "email": "django.core.mail.backends.console.EmailBackend",
        "debug": True,
        "tz": "America/Los_Angeles",
        "mfa": True,
    }
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o077 == 0


def test_production_environment_selects_postgres_redis_and_smtp(tmp_path):
    result = run_python(["-c", PROBE], PRODUCTION, tmp_path)

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["broker"] == "redis://127.0.0.1:6379/9"
    assert values["cache"] == "practice.cache.ResilientRedisCache"
    assert values["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["debug"] is False


def test_production_settings_pass_check_deploy(tmp_path):
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION, tmp_path
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_missing_secret_key_in_production_fails_loudly(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}

    result = run_python(["manage.py", "check"], env, tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_missing_or_malformed_field_encryption_keys_in_production_fail_loudly(tmp_path):
    missing = {k: v for k, v in PRODUCTION.items() if k != "FIELD_ENCRYPTION_KEYS"}
    malformed = {**PRODUCTION, "FIELD_ENCRYPTION_KEYS": "short"}

    results = [run_python(["manage.py", "check"], env, tmp_path) for env in (missing, malformed)]

    assert [r.returncode != 0 for r in results] == [True, True]
    assert "FIELD_ENCRYPTION_KEYS must be set when DEBUG is off." in results[0].stderr
    assert "FIELD_ENCRYPTION_KEYS must be Fernet keys" in results[1].stderr


def test_missing_allowed_hosts_in_production_fails_loudly(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "ALLOWED_HOSTS"}

    result = run_python(["manage.py", "check"], env, tmp_path)

    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set when DEBUG is off." in result.stderr


def test_turning_off_staff_mfa_in_production_is_refused(tmp_path):
    result = run_python(
        ["manage.py", "check"], {**PRODUCTION, "STAFF_MFA_REQUIRED": "false"}, tmp_path
    )

    assert result.returncode != 0
    assert "STAFF_MFA_REQUIRED cannot be turned off" in result.stderr


def test_unknown_practice_time_zone_names_the_variable(tmp_path):
    result = run_python(["manage.py", "check"], {"PRACTICE_TIME_ZONE": "Mars/Olympus"}, tmp_path)

    assert result.returncode != 0
    assert "PRACTICE_TIME_ZONE 'Mars/Olympus' is not a known time zone." in result.stderr


def test_production_requires_a_database_a_broker_and_a_mail_server(tmp_path):
    for name in ["DATABASE_URL", "REDIS_URL", "EMAIL_URL"]:
        env = {k: v for k, v in PRODUCTION.items() if k != name}

        result = run_python(["manage.py", "check"], env, tmp_path)

        assert result.returncode != 0, name
        assert f"{name} must be set when DEBUG is off." in result.stderr


def test_a_malformed_url_names_its_variable(tmp_path):
    result = run_python(["manage.py", "check"], {"DATABASE_URL": "mysqlx://nowhere"}, tmp_path)

    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr.splitlines()[-1]


def _setting(name: str, env: dict[str, str], tmp_path: Path):  # type: ignore[no-untyped-def]
    probe = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps(settings.{name}))"
    )
    result = run_python(["-c", probe], env, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_links_in_mail_point_at_the_port_the_local_server_runs_on(tmp_path):
    given = {"PORT": "9000", "SITE_URL": "https://practice.example.com/"}

    assert _setting("SITE_URL", {}, tmp_path) == "http://localhost:8000"
    assert _setting("SITE_URL", {"PORT": "9000"}, tmp_path) == "http://localhost:9000"
    assert _setting("SITE_URL", given, tmp_path) == "https://practice.example.com"


def test_rate_limits_still_follow_their_environment_variables(tmp_path):
    env = {
        "CONSULTATION_BOOKING_RATE_LIMIT": "0",
        "NEWSLETTER_SIGNUP_RATE_LIMIT": "3",
        "NEWSLETTER_SIGNUP_RATE_WINDOW": "60",
        "INVITATION_RENEW_RATE_LIMIT": "2",
        "CALENDAR_FEED_RATE_LIMIT": "30",
    }

    assert _setting("RATE_LIMITS", env, tmp_path) == {
        "consultation_book": [0, 3600],
        "waitlist_join": [0, 3600],
        "newsletter_signup": [3, 60],
        "invitation_renew": [2, 3600],
        "calendar_feed": [30, 3600],
    }
