"""A course's closing summary is clinical text: encrypted at rest, existing rows in place."""

from django.db import migrations

import practice.encryption


def encrypt_rows(apps, schema_editor):
    practice.encryption.encrypt_columns_in_place(
        schema_editor, table="kap_sessions_course", columns=("closing_summary",)
    )


def decrypt_rows(apps, schema_editor):
    practice.encryption.decrypt_columns_in_place(
        schema_editor, table="kap_sessions_course", columns=("closing_summary",)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("kap_sessions", "0002_initial"),
    ]

    operations = [
        migrations.RunPython(encrypt_rows, decrypt_rows),
        migrations.AlterField(
            model_name="course",
            name="closing_summary",
            field=practice.encryption.EncryptedTextField(
                blank=True, help_text="Written when the course is completed or withdrawn."
            ),
        ),
    ]
