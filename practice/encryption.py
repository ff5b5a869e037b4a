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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models, transaction
from django.db.models.functions import Cast
from django.db.models.lookups import Exact
from django.dispatch import receiver

__all__ = [
    "EncryptedTextField",
    "RotationCount",
    "UnreadableCiphertext",
    "decrypt",
    "decrypt_columns_in_place",
    "encrypt",
    "encrypt_columns_in_place",
    "encrypted_columns",
    "encrypted_columns_rotate",
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


@functools.cache
def _primary_fernet() -> Fernet:
    _fernet()  # the same checks and messages for a missing or malformed key
    return Fernet(settings.FIELD_ENCRYPTION_KEYS[0])


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs: Any) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()
        _primary_fernet.cache_clear()


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


def encrypted_columns() -> dict[type[models.Model], tuple[str, ...]]:
    """Every concrete model with encrypted columns, and the names of those columns.

    A field inherited from a concrete parent is listed once, on the parent's
    table; proxy and unmanaged models have no table of their own to rewrite.
    """
    found: dict[type[models.Model], tuple[str, ...]] = {}
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        names = tuple(
            field.name
            for field in model._meta.local_concrete_fields
            if isinstance(field, EncryptedTextField)
        )
        if names:
            found[model] = names
    return found


@dataclass(frozen=True)
class RotationCount:
    """What key rotation found in one model's table."""

    model: str  # "app_label.ModelName"
    rows: int  # rows read
    values: int  # non-empty encrypted values read
    rotated: int  # values re-encrypted (or, in a dry run, that would be)


def encrypted_columns_rotate(
    *, batch_size: int = 500, dry_run: bool = False
) -> list[RotationCount]:
    """Re-encrypt every encrypted value not yet under the first key of FIELD_ENCRYPTION_KEYS.

    Side effects: rewrites the tokens in place, one transaction per batch of
    ``batch_size`` rows, each batch's rows locked while it is rewritten (so a
    concurrent edit is neither lost nor overwritten with the old token).
    The text never changes, only the key that opens it; values already under
    the first key are left alone, so a second run rotates nothing. Rows are
    written with ``bulk_update``, which bypasses ``save()``: the final-record
    guards (kap_sessions/models/final.py) rightly refuse any change through
    ``save()``, and this is not one. Nothing is written when ``dry_run``.

    Raises :class:`UnreadableCiphertext` (naming the model and row, never the
    token) for a value that no configured key opens.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    return [
        _rotate_model(model, names, batch_size=batch_size, dry_run=dry_run)
        for model, names in sorted(
            encrypted_columns().items(), key=lambda item: item[0]._meta.label
        )
    ]


def _rotate_model(
    model: type[models.Model], names: tuple[str, ...], *, batch_size: int, dry_run: bool
) -> RotationCount:
    label = model._meta.label
    rows = values = rotated = 0
    for batch in _primary_key_batches(model, batch_size=batch_size):
        with transaction.atomic():
            changed: list[models.Model] = []
            for pk, *tokens in _locked(model, names, batch, lock=not dry_run):
                rows += 1
                new_tokens = []
                for token in tokens:
                    if token:
                        values += 1
                        new_tokens.append(_token_under_first_key(token, label=label, pk=pk))
                    else:
                        new_tokens.append(token)
                if new_tokens == tokens:
                    continue
                rotated += sum(new != old for new, old in zip(new_tokens, tokens, strict=True))
                row = model(pk=pk)
                for name, token in zip(names, new_tokens, strict=True):
                    # A Value of plain text is written as it is: the field's
                    # own get_prep_value would encrypt the token once more.
                    setattr(row, name, models.Value(token, output_field=models.TextField()))
                changed.append(row)
            if changed and not dry_run:
                model._base_manager.bulk_update(changed, list(names))
    return RotationCount(model=label, rows=rows, values=values, rotated=rotated)


def _primary_key_batches(model: type[models.Model], *, batch_size: int) -> Iterator[list[Any]]:
    """The primary keys of the table, ``batch_size`` at a time, in order."""
    last = None
    while True:
        queryset = model._base_manager.order_by("pk")
        if last is not None:
            queryset = queryset.filter(pk__gt=last)
        batch = list(queryset.values_list("pk", flat=True)[:batch_size])
        if not batch:
            return
        yield batch
        last = batch[-1]


def _locked(
    model: type[models.Model], names: tuple[str, ...], batch: list[Any], *, lock: bool
) -> list[tuple[Any, ...]]:
    """The stored tokens of the rows ``batch``, as stored (cast, so nothing decrypts them)."""
    raw = {f"_stored_{name}": Cast(name, output_field=models.TextField()) for name in names}
    queryset = model._base_manager.filter(pk__in=batch).order_by("pk")
    if lock:
        queryset = queryset.select_for_update()
    return [
        tuple(row)
        for row in queryset.annotate(**raw).values_list("pk", *raw)  # type: ignore[arg-type]
    ]


def _token_under_first_key(token: str, *, label: str, pk: Any) -> str:
    try:
        # Checks the signature only: a token the first key signed is current.
        _primary_fernet().extract_timestamp(token.encode("ascii"))
        return token
    except (InvalidToken, UnicodeEncodeError):
        pass
    try:
        return rotate_token(token)
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise UnreadableCiphertext(
            f"A value of {label} {pk} could not be decrypted with any key."
        ) from exc
