"""Audit rows are sealed off the request: a chain position, and a trigger that allows the sealing.

Written by hand around the generated field and constraints. ``audit_record``
now inserts a row unsealed and ``practice.audit.audit_seal`` seals it later,
in an order of its own (``chain_position``), because rows commit out of id
order. The rows sealed so far were chained in id order, so they take
positions 1, 2, 3... in id order: their hashes stand as they are.

The trigger of ``0009_audit_append_only`` refused every UPDATE; its function
is replaced by one that lets exactly one UPDATE through, the sealing of an
unsealed row: before, no position and both hashes empty; after, a position
and a hash; and no other column changed (compared as the whole row, so a
column added later is covered without touching the trigger). A sealed row
can never be sealed again or edited, and every DELETE is still refused. As
before, TRUNCATE is not refused (the test suite's flush uses it; no code
path of the application truncates).
"""

from typing import Any

from django.db import migrations, models

FUNCTION = "practice_auditevent_append_only"
TRIGGER = "practice_auditevent_append_only"

# The function of 0009_audit_append_only, put back when this is reversed.
REFUSE_ALL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % of practice_auditevent refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""

SEALED_COLUMNS = "'chain_position' - 'prev_hash' - 'hash'"

ALLOW_SEALING = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND OLD.chain_position IS NULL AND OLD.hash = '' AND OLD.prev_hash = ''
        AND NEW.chain_position IS NOT NULL AND NEW.hash <> ''
        AND (to_jsonb(NEW) - {SEALED_COLUMNS}) = (to_jsonb(OLD) - {SEALED_COLUMNS})
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % of practice_auditevent refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""

CREATE_TRIGGER = f"""
CREATE TRIGGER {TRIGGER}
    BEFORE UPDATE OR DELETE ON practice_auditevent
    FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();
"""
DROP_TRIGGER = f"DROP TRIGGER IF EXISTS {TRIGGER} ON practice_auditevent;"

# The rows chained so far, numbered in id order, the order they were chained in.
NUMBER_SEALED_ROWS = """
UPDATE practice_auditevent
SET chain_position = numbered.position
FROM (
    SELECT id, row_number() OVER (ORDER BY id) AS position
    FROM practice_auditevent
    WHERE hash <> ''
) AS numbered
WHERE practice_auditevent.id = numbered.id
"""


def _postgresql(schema_editor: Any) -> bool:
    return bool(schema_editor.connection.vendor == "postgresql")


def lift_trigger(apps: Any, schema_editor: Any) -> None:
    if _postgresql(schema_editor):
        schema_editor.execute(DROP_TRIGGER, params=None)


def restore_refusing_trigger(apps: Any, schema_editor: Any) -> None:
    if _postgresql(schema_editor):
        schema_editor.execute(REFUSE_ALL + CREATE_TRIGGER, params=None)


def number_sealed_rows(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute(NUMBER_SEALED_ROWS, params=None)


def create_sealing_trigger(apps: Any, schema_editor: Any) -> None:
    if _postgresql(schema_editor):
        schema_editor.execute(ALLOW_SEALING + CREATE_TRIGGER, params=None)


def drop_trigger(apps: Any, schema_editor: Any) -> None:
    if _postgresql(schema_editor):
        schema_editor.execute(DROP_TRIGGER, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0009_audit_append_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="chain_position",
            field=models.PositiveBigIntegerField(blank=True, editable=False, null=True),
        ),
        # Numbering the sealed rows updates them: the old trigger refuses that.
        migrations.RunPython(lift_trigger, restore_refusing_trigger),
        migrations.RunPython(number_sealed_rows, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("chain_position__isnull", True)),
                fields=["id"],
                name="practice_audit_unsealed_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                fields=("chain_position",), name="practice_auditevent_chain_position_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("chain_position__isnull", True), ("hash", ""), ("prev_hash", "")),
                    models.Q(
                        ("chain_position__isnull", False),
                        models.Q(("hash", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="practice_auditevent_sealed_whole",
            ),
        ),
        migrations.RunPython(create_sealing_trigger, drop_trigger),
    ]
