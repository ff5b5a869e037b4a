"""The audit table becomes append-only: rows written before the chain are sealed, then a trigger.

Written by hand (``0008_trust`` is generated). First the rows that existed
before the hash chain get their ``prev_hash``/``hash``, in id order, as
``practice.audit`` computes them. Then, on PostgreSQL, a trigger refuses
every UPDATE and DELETE of ``practice_auditevent``: it is the database that
refuses, so it holds for whatever role connects (turning it off takes
``ALTER TABLE ... DISABLE TRIGGER``, which the application never runs).
TRUNCATE is not refused: the test suite's flush between tests uses it, and
no code path of the application truncates.
"""

from typing import Any

from django.db import migrations

from practice.audit import CHAIN_FIELDS, audit_event_hash

CHUNK = 2000

FUNCTION = "practice_auditevent_append_only"
TRIGGER = "practice_auditevent_append_only"

CREATE = f"""
CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % of practice_auditevent refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER {TRIGGER}
    BEFORE UPDATE OR DELETE ON practice_auditevent
    FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();
"""

DROP = f"""
DROP TRIGGER IF EXISTS {TRIGGER} ON practice_auditevent;
DROP FUNCTION IF EXISTS {FUNCTION}();
"""


def seal_existing_rows(apps: Any, schema_editor: Any) -> None:
    AuditEvent = apps.get_model("practice", "AuditEvent")
    previous_hash = ""
    last_id = 0
    while True:
        chunk = list(
            AuditEvent.objects.using(schema_editor.connection.alias)
            .filter(id__gt=last_id)
            .order_by("id")[:CHUNK]
        )
        if not chunk:
            return
        for event in chunk:
            event.prev_hash = previous_hash
            event.hash = audit_event_hash({name: getattr(event, name) for name in CHAIN_FIELDS})
            previous_hash = event.hash
        AuditEvent.objects.using(schema_editor.connection.alias).bulk_update(
            chunk, ["prev_hash", "hash"]
        )
        last_id = chunk[-1].id


def create_trigger(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0008_trust"),
    ]

    operations = [
        migrations.RunPython(seal_existing_rows, migrations.RunPython.noop),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
