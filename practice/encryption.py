"""Clinical free text, encrypted in the database with the practice's own keys.

One field type, :class:`EncryptedTextField`, for every column that holds
what a client wrote about her health or what the therapist wrote about her
(intake answers, notes). Values are Fernet tokens (AES-128-CBC with an
HMAC-SHA256) made with ``settings.FIELD_ENCRYPTION_KEYS``: the first key
encrypts, every key decrypts, so a key is replaced by putting the new one
first and re-encrypting (``rotate_token``) before dropping the old.

Written here on ``cryptography`` rather than taken from
django-fernet-encrypted-fields, which derives its keys from SECRET_KEY (so
rotating the session secret would orphan the clinical text) and hands back
the stored token as if it were the text when it cannot decrypt it. Here a
token that no key opens is an error, never a silent substitute.

The database sees only tokens: such a column cannot be searched, ordered or
compared in SQL, which is what is wanted for this text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.db.models.lookups import Exact
from django.dispatch import receiver

__all__ = [
    "EncryptedTextField",
    "UnreadableCiphertext",
    "decrypt",
    "decrypt_columns_in_place",
    "encrypt",
    "encrypt_columns_in_place",
    "rotate_token",
]


class UnreadableCiphertext(Exception):
    """A stored value that none of the configured keys opens (wrong or missing key)."""


@functools.cache
def _fernet() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "Each FIELD_ENCRYPTION_KEYS entry must be a Fernet key (32 url-safe base64 bytes)."
        ) from exc


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs: Any) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError) as exc:
        # The token is not repeated: it is clinical text under another key.
        raise UnreadableCiphertext("A stored value could not be decrypted with any key.") from exc


def rotate_token(token: str) -> str:
    """The same text under the first key (the trust issue's key rotation runs this)."""
    return _fernet().rotate(token.encode("ascii")).decode("ascii")


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text column stored as a Fernet token; reads give back the text.

    An empty value is stored as the empty string (not a token), so
    ``blank=True`` fields stay cheap and an empty answer is visibly empty.
    """

    description = "Text, encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        # Each token has its own random IV, so only "is it empty or missing"
        # means anything in SQL; any other comparison would silently match
        # nothing, and is refused instead.
        if lookup_name == "exact":
            return _EmptyOnlyExact
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return None


class _EmptyOnlyExact(Exact):
    def get_prep_lookup(self) -> Any:
        if self.rhs != "":
            raise FieldError("Encrypted text can only be compared with the empty string.")
        return super().get_prep_lookup()


def encrypt_columns_in_place(schema_editor: Any, *, table: str, columns: tuple[str, ...]) -> None:
    """For a migration that turns plain text columns into encrypted ones: encrypt the rows.

    Raw SQL, because the model's field would try to decrypt the plain text.
    """
    _rewrite_columns(schema_editor, table=table, columns=columns, change=encrypt)


def decrypt_columns_in_place(schema_editor: Any, *, table: str, columns: tuple[str, ...]) -> None:
    """The reverse of :func:`encrypt_columns_in_place`, for going back."""
    _rewrite_columns(schema_editor, table=table, columns=columns, change=decrypt)


def _rewrite_columns(
    schema_editor: Any, *, table: str, columns: tuple[str, ...], change: Callable[[str], str]
) -> None:
    quote = schema_editor.quote_name
    selected = ", ".join(quote(column) for column in columns)
    assignments = ", ".join(f"{quote(column)} = %s" for column in columns)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {selected} FROM {quote(table)}")  # noqa: S608  (model names)
        for row_id, *values in cursor.fetchall():
            cursor.execute(
                f"UPDATE {quote(table)} SET {assignments} WHERE id = %s",  # noqa: S608
                [change(value) if value else value for value in values] + [row_id],
            )
