"""Encrypted backups of the PostgreSQL database, and the drill that proves one restores.

:func:`backup_create` runs ``pg_dump --format=custom`` and streams its output
straight into an encrypted file: the plain dump never touches a disk. The
row count of every table is taken in the same snapshot as the dump (the
counting transaction exports its snapshot and ``pg_dump --snapshot`` uses
it), so the counts in the file's manifest are exactly what the dump holds,
however busy the database was. :func:`restore_drill_run` decrypts such a
file into ``pg_restore`` (a pipe again), loads it into a scratch database,
runs ``manage.py verify_audit`` against that database, compares the row
counts with the manifest's, and drops the scratch database whatever
happened.

The key is ``BACKUP_ENCRYPTION_KEY``, read from the environment by the
commands only (never by settings, so web machines need not hold it): 32
random bytes in url-safe base64, made like a Fernet key. A comma-separated
list decrypts with any of its keys and encrypts with the first, so old
backups stay readable after the key is replaced. It must differ from every
``FIELD_ENCRYPTION_KEYS`` entry: a backup and the key to its clinical text
are kept apart.

File format, version 1 (integers big-endian)::

    preamble  magic b"PRACTICE-BACKUP\\n" (16) | version 0x01 (1) | key id (8) | salt (16)
    record    flag (1) | length (4) | AES-256-GCM ciphertext and tag (length)
    ...

- The file key is HKDF-SHA256(backup key, salt, "practice-backup v1 file
  key"): a fresh key for every file, so the counter nonces below never repeat
  under one key. The key id is the first 8 bytes of HKDF-SHA256(backup key,
  no salt, "practice-backup key id"); it names the key without revealing it,
  so a wrong key is reported as such.
- Record ``n`` (from 0) is sealed with the nonce ``n`` as 12 bytes and the
  associated data ``preamble | flag``: a record moved, dropped, repeated or
  taken from another file fails to open, and so does any change to the
  preamble.
- Record 0 is the manifest (UTF-8 JSON, :class:`BackupManifest`), the next
  ones the dump in order (at most :data:`CHUNK_SIZE` bytes each, flag 0), and
  the last one is empty with flag 1. A file cut short anywhere, even at a
  record boundary, lacks that final record and is refused; bytes after it are
  refused too.

What is guaranteed: a file that :func:`backup_decrypt` reads to its end
without error is, byte for byte, what :func:`backup_encrypt` wrote with that
key. The chunks are handed out as they are authenticated, so a consumer
(``pg_restore``) may have seen the first part of a file that turns out to be
damaged later; the drill therefore always restores into a scratch database
it drops afterwards.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlencode

import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import connections
from psycopg import sql
from psycopg.conninfo import make_conninfo

__all__ = [
    "BACKUP_KEY_ENV",
    "CHUNK_SIZE",
    "BackupError",
    "BackupManifest",
    "DrillReport",
    "TableCheck",
    "backup_create",
    "backup_decrypt",
    "backup_encrypt",
    "backup_keys_from_env",
    "restore_drill_run",
]

BACKUP_KEY_ENV = "BACKUP_ENCRYPTION_KEY"
MAGIC = b"PRACTICE-BACKUP\n"
VERSION = 1
KEY_ID_SIZE = 8
SALT_SIZE = 16
PREAMBLE_SIZE = len(MAGIC) + 1 + KEY_ID_SIZE + SALT_SIZE
CHUNK_SIZE = 1024 * 1024
TAG_SIZE = 16
# The manifest is the largest record that is not a dump chunk; a length
# above this is damage, refused before anything is allocated for it.
MAX_RECORD_SIZE = 8 * CHUNK_SIZE + TAG_SIZE
FLAG_MORE = b"\x00"
FLAG_FINAL = b"\x01"
MANIFEST_FORMAT = "practice-backup-manifest"

# libpq parameters a DATABASES OPTIONS entry may carry through to pg_dump,
# pg_restore and the drill's own connections (TLS above all).
LIBPQ_OPTIONS = frozenset(
    {
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslcrl",
        "sslnegotiation",
        "channel_binding",
        "gssencmode",
        "connect_timeout",
        "target_session_attrs",
        "application_name",
        "options",
        "passfile",
        "service",
    }
)


class BackupError(Exception):
    """A backup that cannot be made or read; the message says why, without data."""


# --- Keys ------------------------------------------------------------------------


def backup_keys_from_env(environ: Mapping[str, str] | None = None) -> list[bytes]:
    """The backup keys from ``BACKUP_ENCRYPTION_KEY``, newest first.

    Refuses a missing or malformed key, and a key that is also one of
    ``FIELD_ENCRYPTION_KEYS``.
    """
    raw = (os.environ if environ is None else environ).get(BACKUP_KEY_ENV, "")
    encoded = [part.strip() for part in raw.split(",") if part.strip()]
    if not encoded:
        raise BackupError(
            f"{BACKUP_KEY_ENV} is not set: backups are only written and read encrypted."
        )
    keys = []
    for value in encoded:
        try:
            key = base64.urlsafe_b64decode(value.encode())
        except ValueError:
            key = b""
        if len(key) != 32:
            raise BackupError(
                f"{BACKUP_KEY_ENV} must hold 32-byte keys in url-safe base64, comma-separated."
            )
        keys.append(key)
    field_keys = set()
    for value in settings.FIELD_ENCRYPTION_KEYS:
        try:
            field_keys.add(base64.urlsafe_b64decode(value.encode()))
        except ValueError:
            continue
    if field_keys.intersection(keys):
        raise BackupError(
            f"{BACKUP_KEY_ENV} must differ from every FIELD_ENCRYPTION_KEYS entry, so that a "
            "backup and the key to its clinical text are never kept together."
        )
    return keys


def _hkdf(key: bytes, *, salt: bytes | None, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(key)


def _key_id(key: bytes) -> bytes:
    return _hkdf(key, salt=None, info=b"practice-backup key id", length=KEY_ID_SIZE)


def _file_cipher(key: bytes, salt: bytes) -> AESGCM:
    return AESGCM(_hkdf(key, salt=salt, info=b"practice-backup v1 file key", length=32))


def _nonce(counter: int) -> bytes:
    return counter.to_bytes(12, "big")


# --- The file format -------------------------------------------------------------


@dataclass(frozen=True)
class BackupManifest:
    """What a backup holds, sealed as its first record: the row count of every table."""

    database: str
    created_at: str
    server_version: str
    pg_dump_version: str
    tables: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> bytes:
        body = {"format": MANIFEST_FORMAT, "version": VERSION, **asdict(self)}
        return json.dumps(body, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> BackupManifest:
        try:
            body = json.loads(data)
            if body.pop("format") != MANIFEST_FORMAT or body.pop("version") != VERSION:
                raise ValueError("unknown manifest format")
            manifest = cls(**body)
            if not all(isinstance(count, int) for count in manifest.tables.values()):
                raise ValueError("row counts must be integers")
        except (ValueError, TypeError, KeyError) as exc:
            raise BackupError(f"The backup's manifest is not readable: {exc}") from exc
        return manifest


def backup_encrypt(
    *, out: IO[bytes], key: bytes, manifest: BackupManifest, chunks: Iterable[bytes]
) -> int:
    """Write a backup file to ``out``: the manifest, then ``chunks`` as they come.

    Memory stays flat: each chunk is sealed and written before the next is
    read (chunks over :data:`CHUNK_SIZE` are split). Returns the number of
    dump bytes written.
    """
    salt = secrets.token_bytes(SALT_SIZE)
    preamble = MAGIC + bytes([VERSION]) + _key_id(key) + salt
    cipher = _file_cipher(key, salt)
    out.write(preamble)
    counter = 0

    def seal(plain: bytes, flag: bytes) -> None:
        nonlocal counter
        sealed = cipher.encrypt(_nonce(counter), plain, preamble + flag)
        counter += 1
        out.write(flag + len(sealed).to_bytes(4, "big") + sealed)

    seal(manifest.to_json(), FLAG_MORE)
    total = 0
    for chunk in chunks:
        for start in range(0, len(chunk), CHUNK_SIZE):
            piece = chunk[start : start + CHUNK_SIZE]
            seal(piece, FLAG_MORE)
            total += len(piece)
    seal(b"", FLAG_FINAL)
    return total


def _read_exact(source: IO[bytes], size: int, *, what: str) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise BackupError(f"The backup file is cut short (in {what}).")
    return data


def backup_decrypt(
    *, source: IO[bytes], keys: Sequence[bytes]
) -> tuple[BackupManifest, Iterator[bytes]]:
    """Open a backup file: its manifest now, and an iterator of the dump's chunks.

    Raises :class:`BackupError` for a file that is not a backup, a key that is
    not among ``keys``, or a manifest that fails to open; the iterator raises
    it at the first chunk that fails, and at the end of a file cut short or
    followed by extra bytes.
    """
    preamble = _read_exact(source, PREAMBLE_SIZE, what="the preamble")
    if not preamble.startswith(MAGIC):
        raise BackupError("This is not a practice backup file.")
    if preamble[len(MAGIC)] != VERSION:
        raise BackupError(f"Backup format version {preamble[len(MAGIC)]} is not known here.")
    key_id = preamble[len(MAGIC) + 1 : len(MAGIC) + 1 + KEY_ID_SIZE]
    salt = preamble[-SALT_SIZE:]
    key = next((candidate for candidate in keys if _key_id(candidate) == key_id), None)
    if key is None:
        raise BackupError(
            f"This backup was encrypted with another key (key id {key_id.hex()}) than "
            f"{BACKUP_KEY_ENV} holds."
        )
    cipher = _file_cipher(key, salt)
    counter = 0

    def next_record() -> tuple[bytes, bytes]:
        nonlocal counter
        flag = source.read(1)
        if not flag:
            raise BackupError("The backup file is cut short: its final record is missing.")
        if flag not in (FLAG_MORE, FLAG_FINAL):
            raise BackupError(f"Record {counter} of the backup is damaged (unknown flag).")
        length = int.from_bytes(_read_exact(source, 4, what=f"record {counter}"), "big")
        if not TAG_SIZE <= length <= MAX_RECORD_SIZE:
            raise BackupError(f"Record {counter} of the backup is damaged (bad length).")
        sealed = _read_exact(source, length, what=f"record {counter}")
        try:
            plain = cipher.decrypt(_nonce(counter), sealed, preamble + flag)
        except InvalidTag:
            raise BackupError(
                f"Record {counter} of the backup fails authentication: "
                "the file was altered or damaged."
            ) from None
        counter += 1
        return flag, plain

    flag, manifest_json = next_record()
    if flag == FLAG_FINAL:
        raise BackupError("The backup holds no manifest.")
    manifest = BackupManifest.from_json(manifest_json)

    def chunks() -> Iterator[bytes]:
        while True:
            flag, plain = next_record()
            if flag == FLAG_FINAL:
                if plain or source.read(1):
                    raise BackupError("The backup file has bytes after its final record.")
                return
            yield plain

    return manifest, chunks()


# --- PostgreSQL ------------------------------------------------------------------


def _database_settings() -> dict[str, Any]:
    database = connections["default"].settings_dict
    if database["ENGINE"] != "django.db.backends.postgresql":
        raise BackupError(
            "Backups and the restore drill need PostgreSQL (pg_dump); the configured "
            "database is SQLite, whose file is copied with `sqlite3 db.sqlite3 .backup`."
        )
    return dict(database)


def _conninfo(database: Mapping[str, Any], *, name: str | None = None) -> str:
    """A libpq connection string without the password (which goes in PGPASSWORD)."""
    params: dict[str, Any] = {
        "dbname": name or database["NAME"],
        "user": database.get("USER") or None,
        "host": database.get("HOST") or None,
        "port": str(database["PORT"]) if database.get("PORT") else None,
    }
    for option, value in (database.get("OPTIONS") or {}).items():
        if option in LIBPQ_OPTIONS:
            params[option] = str(value)
    return make_conninfo(**{key: value for key, value in params.items() if value is not None})


def _pg_env(database: Mapping[str, Any]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != BACKUP_KEY_ENV}
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = str(database["PASSWORD"])
    return env


def _connect(database: Mapping[str, Any], *, name: str | None = None) -> psycopg.Connection[Any]:
    return psycopg.connect(
        _conninfo(database, name=name), password=database.get("PASSWORD") or None
    )


def _database_url(database: Mapping[str, Any], *, name: str) -> str:
    """DATABASE_URL for a ``manage.py`` subprocess working on database ``name``."""
    user = quote(str(database.get("USER") or ""), safe="")
    password = quote(str(database.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(str(database.get("HOST") or ""), safe="")
    port = f":{database['PORT']}" if database.get("PORT") else ""
    options = {
        key: str(value)
        for key, value in (database.get("OPTIONS") or {}).items()
        if key in LIBPQ_OPTIONS
    }
    query = f"?{urlencode(options)}" if options else ""
    return f"postgres://{credentials}{host}{port}/{quote(name, safe='')}{query}"


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed (Debian: apt-get install postgresql-client-15, the "
            "server's major version or newer)."
        )
    return path


def _tool_version(path: str) -> str:
    result = subprocess.run(  # noqa: S603 -- a PostgreSQL client found on PATH, fixed arguments
        [path, "--version"], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


_TABLES_SQL = """
    SELECT n.nspname, c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_%'
      AND NOT EXISTS (
        SELECT 1 FROM pg_depend d
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
      )
    ORDER BY 1, 2
"""


def _row_counts(cursor: psycopg.Cursor[Any]) -> dict[str, int]:
    """Rows of every table pg_dump dumps (not the catalogs, not extensions' own)."""
    tables = cursor.execute(_TABLES_SQL).fetchall()
    counts = {}
    for schema, table in tables:
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        row = cursor.execute(query).fetchone()
        assert row is not None  # noqa: S101 -- count(*) always returns a row
        counts[f"{schema}.{table}"] = int(row[0])
    return counts


class _StderrTail:
    """Drain a child's stderr in a thread (no pipe deadlock) and keep its last lines."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._lines: list[str] = []
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream: IO[bytes]) -> None:
        for line in stream:
            self._lines = [*self._lines[-19:], line.decode(errors="replace").rstrip()]

    def text(self) -> str:
        self._thread.join(timeout=10)
        return "\n".join(self._lines)


# --- The backup --------------------------------------------------------------------


def backup_create(*, output: Path, key: bytes, overwrite: bool = False) -> BackupManifest:
    """Dump the configured PostgreSQL database into the encrypted file ``output``.

    Side effects: holds a read-only REPEATABLE READ transaction on the
    database while ``pg_dump`` runs in its snapshot; writes ``output`` (mode
    0600) under a temporary name in the same directory and renames it only
    once the dump succeeded, so a failed run leaves no file that looks like a
    backup. Refuses an existing ``output`` unless ``overwrite``.
    """
    database = _database_settings()
    pg_dump = _pg_tool("pg_dump")
    output = output.resolve()
    if output.exists() and not overwrite:
        raise BackupError(f"{output} exists; give another name (or --overwrite).")
    partial = output.with_name(f".{output.name}.{secrets.token_hex(4)}.partial")
    with _connect(database) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cursor:
            snapshot_row = cursor.execute("SELECT pg_export_snapshot()").fetchone()
            assert snapshot_row is not None  # noqa: S101 -- the function returns one row
            manifest = BackupManifest(
                database=str(database["NAME"]),
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                server_version=str(conn.info.parameter_status("server_version") or ""),
                pg_dump_version=_tool_version(pg_dump),
                tables=_row_counts(cursor),
            )
        # The transaction stays open (the snapshot lives as long as it) until
        # pg_dump is done.
        process = subprocess.Popen(  # noqa: S603 -- pg_dump from PATH, arguments built here
            [
                pg_dump,
                "--format=custom",
                "--no-password",
                f"--snapshot={snapshot_row[0]}",
                f"--dbname={_conninfo(database)}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_pg_env(database),
        )
        assert process.stdout is not None and process.stderr is not None  # noqa: S101 -- piped
        dump, errors = process.stdout, _StderrTail(process.stderr)
        try:
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                backup_encrypt(
                    out=out,
                    key=key,
                    manifest=manifest,
                    chunks=iter(lambda: dump.read(CHUNK_SIZE), b""),
                )
                out.flush()
                os.fsync(out.fileno())
            if process.wait() != 0:
                raise BackupError(f"pg_dump failed:\n{errors.text()}")
            partial.replace(output)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            partial.unlink(missing_ok=True)
    return manifest


# --- The restore drill ---------------------------------------------------------------


@dataclass(frozen=True)
class TableCheck:
    """One table's rows: in the backup's manifest and in the restored database."""

    table: str
    expected: int | None
    restored: int | None

    @property
    def ok(self) -> bool:
        return self.expected == self.restored


@dataclass(frozen=True)
class DrillReport:
    """What a restore drill found; ``ok`` only if the audit trail and every count hold."""

    manifest: BackupManifest
    scratch_database: str
    audit_ok: bool
    audit_output: str
    tables: list[TableCheck]

    @property
    def mismatches(self) -> list[TableCheck]:
        return [check for check in self.tables if not check.ok]

    @property
    def ok(self) -> bool:
        return self.audit_ok and not self.mismatches


def _scratch_name(live_name: str) -> str:
    # PostgreSQL cuts identifiers at 63 bytes; the random tail must survive.
    return f"{live_name[:36]}_restore_drill_{secrets.token_hex(4)}"


def _restore(
    *, source: IO[bytes], keys: Sequence[bytes], database: Mapping[str, Any], name: str
) -> BackupManifest:
    """Stream the decrypted dump into ``pg_restore`` loading database ``name``."""
    manifest, chunks = backup_decrypt(source=source, keys=keys)
    process = subprocess.Popen(  # noqa: S603 -- pg_restore from PATH, arguments built here
        [
            _pg_tool("pg_restore"),
            "--no-password",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={_conninfo(database, name=name)}",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=_pg_env(database),
    )
    assert process.stdin is not None and process.stderr is not None  # noqa: S101 -- piped
    errors = _StderrTail(process.stderr)
    try:
        try:
            for chunk in chunks:
                process.stdin.write(chunk)
            process.stdin.close()
        except BrokenPipeError:
            # pg_restore stopped reading: its own error says why.
            pass
        if process.wait() != 0:
            raise BackupError(f"pg_restore failed:\n{errors.text()}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return manifest


def restore_drill_run(*, source: Path, keys: Sequence[bytes]) -> DrillReport:
    """Restore the backup ``source`` into a scratch database and check it.

    Side effects: creates the database ``<name>_restore_drill_<random>`` on
    the configured server, loads the backup into it, runs ``manage.py
    verify_audit`` against it in a subprocess, counts its rows, and drops it
    (also on any error). Raises :class:`BackupError` when the file does not
    open or does not restore; a restore that completes returns its report,
    ``ok`` or not.
    """
    database = _database_settings()
    with source.open("rb") as handle:
        # Fail on a wrong key or a foreign file before anything is created.
        backup_decrypt(source=handle, keys=keys)
    scratch = _scratch_name(str(database["NAME"]))
    with _connect(database) as admin:
        admin.autocommit = True
        encoding_row = admin.execute(
            "SELECT pg_encoding_to_char(encoding) FROM pg_database "
            "WHERE datname = current_database()"
        ).fetchone()
        assert encoding_row is not None  # noqa: S101 -- the current database exists
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING {}").format(
                sql.Identifier(scratch), sql.Literal(encoding_row[0])
            )
        )
        try:
            with source.open("rb") as handle:
                manifest = _restore(source=handle, keys=keys, database=database, name=scratch)
            audit = subprocess.run(  # noqa: S603 -- this project's manage.py, fixed arguments
                [sys.executable, str(settings.BASE_DIR / "manage.py"), "verify_audit"],
                env={**_pg_env(database), "DATABASE_URL": _database_url(database, name=scratch)},
                capture_output=True,
                text=True,
                timeout=3600,
                check=False,
            )
            with _connect(database, name=scratch) as restored, restored.cursor() as cursor:
                restored_counts = _row_counts(cursor)
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch))
            )
    tables = [
        TableCheck(
            table=table,
            expected=manifest.tables.get(table),
            restored=restored_counts.get(table),
        )
        for table in sorted(set(manifest.tables) | set(restored_counts))
    ]
    return DrillReport(
        manifest=manifest,
        scratch_database=scratch,
        audit_ok=audit.returncode == 0,
        audit_output=(audit.stdout + audit.stderr).strip(),
        tables=tables,
    )
