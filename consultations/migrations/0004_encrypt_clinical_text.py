"""The consultation's clinical text is encrypted at rest (practice.encryption).

The columns stay text; the rows written before are encrypted in place, in
raw SQL because the model's field would try to decrypt the plain text. Going
back decrypts them again.
"""

from django.db import migrations

import practice.encryption

COLUMNS = ("reason", "medications", "call_notes", "cancel_reason")


def _rewrite(schema_editor, change):
    table = "consultations_consultation"
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {', '.join(quote(c) for c in COLUMNS)} FROM {quote(table)}"  # noqa: S608
        )
        rows = cursor.fetchall()
        for row_id, *values in rows:
            cursor.execute(
                f"UPDATE {quote(table)} SET "  # noqa: S608
                + ", ".join(f"{quote(c)} = %s" for c in COLUMNS)
                + " WHERE id = %s",
                [change(v) if v else v for v in values] + [row_id],
            )


def encrypt_rows(apps, schema_editor):
    _rewrite(schema_editor, practice.encryption.encrypt)


def decrypt_rows(apps, schema_editor):
    _rewrite(schema_editor, practice.encryption.decrypt)


class Migration(migrations.Migration):
    dependencies = [
        ("consultations", "0003_appointment_mode_call_notes"),
    ]

    operations = [
        migrations.RunPython(encrypt_rows, decrypt_rows),
        migrations.AlterField(
            model_name="consultation",
            name="call_notes",
            field=practice.encryption.EncryptedTextField(
                blank=True,
                help_text="Private: only you see these. Not sent anywhere.",
                verbose_name="call notes",
            ),
        ),
        migrations.AlterField(
            model_name="consultation",
            name="cancel_reason",
            field=practice.encryption.EncryptedTextField(
                blank=True, editable=False, help_text="Her reason, when she cancelled."
            ),
        ),
        migrations.AlterField(
            model_name="consultation",
            name="medications",
            field=practice.encryption.EncryptedTextField(
                blank=True, max_length=1000, verbose_name="current medications"
            ),
        ),
        migrations.AlterField(
            model_name="consultation",
            name="reason",
            field=practice.encryption.EncryptedTextField(
                max_length=2000, verbose_name="what brings her"
            ),
        ),
    ]
