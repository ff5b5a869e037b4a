"""The consultation's clinical text is encrypted at rest (practice.encryption).

The columns stay text; the rows written before are encrypted in place (and
decrypted again going back).
"""

from django.db import migrations

import practice.encryption

COLUMNS = ("reason", "medications", "call_notes", "cancel_reason")


def encrypt_rows(apps, schema_editor):
    practice.encryption.encrypt_columns_in_place(
        schema_editor, table="consultations_consultation", columns=COLUMNS
    )


def decrypt_rows(apps, schema_editor):
    practice.encryption.decrypt_columns_in_place(
        schema_editor, table="consultations_consultation", columns=COLUMNS
    )


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
