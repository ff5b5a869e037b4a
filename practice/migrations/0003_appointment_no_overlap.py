"""No two occupying appointments may overlap: an exclusion constraint, PostgreSQL only.

The constraint is not in the model's Meta because SQLite (the quick start)
cannot express it; there the booking service serialises its check-and-insert
instead (see ``practice.calendar.services``). ``BtreeGistExtension`` is a no-op
on other databases, and the constraint step checks the vendor itself.
"""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations, models
from django.db.models import Func


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = models.DateTimeField()


CONSTRAINT_NAME = "practice_appointment_no_overlap"


def _constraint() -> ExclusionConstraint:
    return ExclusionConstraint(
        name=CONSTRAINT_NAME,
        expressions=[
            (
                TsTzRange("occupied_start", "occupied_end", RangeBoundary()),
                RangeOperators.OVERLAPS,
            )
        ],
        # Only a cancelled appointment gives its time back (OCCUPYING_STATUSES).
        condition=models.Q(status__in=["booked", "completed", "no_show"]),
    )


def add_constraint(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    appointment = apps.get_model("practice", "Appointment")
    schema_editor.add_constraint(appointment, _constraint())


def remove_constraint(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    appointment = apps.get_model("practice", "Appointment")
    schema_editor.remove_constraint(appointment, _constraint())


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0002_calendar"),
    ]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(add_constraint, remove_constraint),
    ]
