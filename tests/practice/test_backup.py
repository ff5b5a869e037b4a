"""Encrypted backups (``backup_database``) and the restore drill (``restore_drill``).

The drill tests run pg_dump and pg_restore on the real PostgreSQL test
database, so they are transactional: pg_dump is another connection and sees
only committed rows.
"""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from practice.audit import audit_seal
from practice.backups import (
    CHUNK_SIZE,
    BackupError,
    backup_decrypt,
    backup_encrypt,
    backup_keys_from_env,
)
from practice.models import AuditEvent, Client
from practice.services import audit_record
from tests.factories import ClientFactory

drill = pytest.mark.django_db(transaction=True)


@pytest.fixture
def backup_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", key)
    return key


@pytest.fixture
def postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump and pg_restore need PostgreSQL")


@pytest.fixture
def practice_records(therapist) -> list[Client]:  # type: ignore[no-untyped-def]
    clients = [
        ClientFactory(email="wren.castillo@example.com", first_name="Wren", last_name="Castillo"),
        ClientFactory(),
        ClientFactory(),
    ]
    for client in clients:
        audit_record(actor=therapist, action=AuditEvent.Action.VIEW, obj=client)
    audit_seal()  # as the sealer leaves them, seconds after the views
    return clients


def scratch_databases() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            [f"{connection.settings_dict['NAME'][:36]}\\_restore\\_drill\\_%"],
        )
        return {row[0] for row in cursor.fetchall()}


def run_backup(path: Path) -> str:
    out = io.StringIO()
    call_command("backup_database", output=path, stdout=out)
    return out.getvalue()


def run_drill(path: Path) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("restore_drill", input=path, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


# --- The drill on the real database ---------------------------------------------------


@drill
def test_backup_then_drill_passes(postgres, backup_key, practice_records, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "practice.backup"

    written = run_backup(path)

    assert f"written to {path}" in written
    content = path.read_bytes()
    # Ciphertext only: neither pg_dump's own header nor a client's address.
    assert b"PGDMP" not in content
    assert b"wren.castillo@example.com" not in content
    assert path.stat().st_mode & 0o777 == 0o600
    with path.open("rb") as handle:
        manifest, _ = backup_decrypt(source=handle, keys=backup_keys_from_env())
    assert manifest.tables["public.practice_client"] == 3
    assert manifest.tables["public.practice_auditevent"] == AuditEvent.objects.count()

    report, error = run_drill(path)

    assert error is None, report
    assert "verify_audit: ok" in report
    assert "MISMATCH" not in report
    client_line = next(line for line in report.splitlines() if "public.practice_client " in line)
    assert client_line.split()[1:] == ["3", "3"]
    assert report.rstrip().endswith("Restore drill passed.")
    assert scratch_databases() == set()


@drill
def test_drill_refuses_an_altered_file(postgres, backup_key, practice_records, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "practice.backup"
    run_backup(path)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01
    path.write_bytes(bytes(content))

    report, error = run_drill(path)

    assert error is not None
    assert "fails authentication: the file was altered or damaged" in str(error)
    assert "Restore drill passed" not in report
    assert scratch_databases() == set()


@drill
def test_drill_refuses_a_file_cut_at_a_record_boundary(  # type: ignore[no-untyped-def]
    postgres, backup_key, practice_records, tmp_path
):
    path = tmp_path / "practice.backup"
    run_backup(path)
    # The final record is flag (1) + length (4) + an empty plaintext's tag (16).
    path.write_bytes(path.read_bytes()[:-21])

    _, error = run_drill(path)

    assert error is not None
    assert "its final record is missing" in str(error)
    assert scratch_databases() == set()


@drill
def test_drill_refuses_a_wrong_key(postgres, backup_key, practice_records, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    path = tmp_path / "practice.backup"
    run_backup(path)
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", Fernet.generate_key().decode())

    _, error = run_drill(path)

    assert error is not None
    assert "encrypted with another key" in str(error)
    assert scratch_databases() == set()


@drill
def test_drill_detects_a_row_count_mismatch(postgres, backup_key, practice_records, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "practice.backup"
    run_backup(path)
    keys = backup_keys_from_env()
    # A file made here: the real dump under a manifest that claims one more client.
    with path.open("rb") as handle:
        manifest, chunks = backup_decrypt(source=handle, keys=keys)
        dump = b"".join(chunks)
    tables = {
        **manifest.tables,
        "public.practice_client": manifest.tables["public.practice_client"] + 1,
    }
    forged = tmp_path / "forged.backup"
    with forged.open("wb") as out:
        backup_encrypt(
            out=out,
            key=keys[0],
            manifest=dataclasses.replace(manifest, tables=tables),
            chunks=[dump],
        )

    report, error = run_drill(forged)

    assert error is not None
    assert str(error) == "Restore drill failed: row counts differ in public.practice_client."
    client_line = next(line for line in report.splitlines() if "public.practice_client " in line)
    assert client_line.split()[1:] == ["4", "3", "MISMATCH"]
    assert scratch_databases() == set()


@drill
def test_drill_fails_when_the_restored_audit_trail_does_not_verify(  # type: ignore[no-untyped-def]
    postgres, backup_key, practice_records, tmp_path
):
    altered = AuditEvent.objects.order_by("id")[1]
    with connection.cursor() as cursor:
        # Past the append-only trigger, as only a superuser could: the chain
        # check in the restored copy must still name the row.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "UPDATE practice_auditevent SET object_id = %s WHERE id = %s", ["999", altered.pk]
        )
        cursor.execute("SET session_replication_role = DEFAULT")
    path = tmp_path / "practice.backup"
    run_backup(path)

    report, error = run_drill(path)

    assert error is not None
    assert str(error) == "Restore drill failed: the audit trail does not verify."
    assert "verify_audit: FAILED" in report
    assert str(altered.pk) in report.split("verify_audit: FAILED", 1)[1].split("table", 1)[0]
    assert scratch_databases() == set()


# --- What the backup refuses ------------------------------------------------------------


@drill
def test_backup_refuses_without_a_key(postgres, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("BACKUP_ENCRYPTION_KEY", raising=False)
    path = tmp_path / "practice.backup"

    with pytest.raises(CommandError) as error:
        run_backup(path)

    assert str(error.value).startswith("BACKUP_ENCRYPTION_KEY is not set")
    assert list(tmp_path.iterdir()) == []


def test_backup_refuses_the_clinical_text_key(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", settings.FIELD_ENCRYPTION_KEYS[0])

    with pytest.raises(CommandError) as error:
        run_backup(tmp_path / "practice.backup")

    assert "must differ from every FIELD_ENCRYPTION_KEYS entry" in str(error.value)
    assert list(tmp_path.iterdir()) == []


@drill
def test_backup_refuses_to_replace_a_file(postgres, backup_key, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "practice.backup"
    path.write_bytes(b"yesterday's backup")

    with pytest.raises(CommandError) as error:
        run_backup(path)

    assert "exists" in str(error.value)
    assert path.read_bytes() == b"yesterday's backup"


def test_backup_refuses_sqlite(tmp_path):  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "BACKUP_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "backup_database", "--output", str(tmp_path / "b")],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 1
    assert "need PostgreSQL (pg_dump); the configured database is SQLite" in result.stderr
    assert not (tmp_path / "b").exists()


# --- The file format ----------------------------------------------------------------------


def sealed(key: bytes, chunks: list[bytes]) -> bytes:
    from practice.backups import BackupManifest

    manifest = BackupManifest(
        database="practice",
        created_at="2027-01-05T17:00:00+00:00",
        server_version="15",
        pg_dump_version="pg_dump 15",
        tables={"public.practice_client": 2},
    )
    out = io.BytesIO()
    backup_encrypt(out=out, key=key, manifest=manifest, chunks=chunks)
    return out.getvalue()


def opened(content: bytes, keys: list[bytes]) -> bytes:
    _, chunks = backup_decrypt(source=io.BytesIO(content), keys=keys)
    return b"".join(chunks)


def test_format_round_trip_splits_large_chunks() -> None:
    key = os.urandom(32)
    payload = [b"a" * (CHUNK_SIZE + 10), b"", b"tail"]

    content = sealed(key, payload)

    assert opened(content, [key]) == b"".join(payload)
    manifest, _ = backup_decrypt(source=io.BytesIO(content), keys=[key])
    assert manifest.tables == {"public.practice_client": 2}


def test_format_refuses_records_swapped() -> None:
    key = os.urandom(32)
    content = sealed(key, [b"first", b"other"])
    # Preamble (41), then the manifest record, then two 5-byte chunks (26 bytes each).
    manifest_length = int.from_bytes(content[42:46], "big")
    start = 41 + 5 + manifest_length
    first, second = content[start : start + 26], content[start + 26 : start + 52]
    swapped = content[:start] + second + first + content[start + 52 :]

    with pytest.raises(BackupError, match="Record 1 of the backup fails authentication"):
        opened(swapped, [key])


def test_format_refuses_bytes_after_the_end() -> None:
    key = os.urandom(32)

    with pytest.raises(BackupError, match="bytes after its final record"):
        opened(sealed(key, [b"dump"]) + b"\x00", [key])


def test_format_reads_with_an_older_key_listed_second() -> None:
    old, new = os.urandom(32), os.urandom(32)

    assert opened(sealed(old, [b"dump"]), [new, old]) == b"dump"


def test_drill_subprocess_url_keeps_credentials_and_tls_options() -> None:
    import environ

    from practice.backups import _database_url

    live = environ.Env.db_url_config(
        "postgres://practice:p%40ss%2Fword@db.internal:5432/practice"
        "?sslmode=verify-full&sslrootcert=/etc/practice/db-ca.pem"
    )

    scratch = environ.Env.db_url_config(_database_url(live, name="practice_restore_drill_1a2b"))

    assert scratch == {**live, "NAME": "practice_restore_drill_1a2b"}
