"""Phone or video moves to the calendar appointment; the therapist's call notes.

The mode a consultation was booked with is copied to its appointment (and to
the appointments it was rescheduled from) before the column goes.
"""

from django.db import migrations, models


def copy_mode_to_appointments(apps, schema_editor):
    Consultation = apps.get_model("consultations", "Consultation")
    Appointment = apps.get_model("practice", "Appointment")
    for consultation in Consultation.objects.only("appointment_id", "meeting_mode").iterator():
        ids = [consultation.appointment_id]
        # Follow the reschedule chain back: each older row points at its replacement.
        while True:
            earlier = list(
                Appointment.objects.filter(rescheduled_to_id__in=ids[-1:]).values_list(
                    "pk", flat=True
                )
            )
            if not earlier:
                break
            ids.extend(earlier)
        Appointment.objects.filter(pk__in=ids).update(mode=consultation.meeting_mode)


def copy_mode_back(apps, schema_editor):
    Consultation = apps.get_model("consultations", "Consultation")
    for consultation in Consultation.objects.select_related("appointment").iterator():
        consultation.meeting_mode = consultation.appointment.mode or "video"
        consultation.save(update_fields=["meeting_mode"])


class Migration(migrations.Migration):
    dependencies = [
        ("consultations", "0002_waitlist_message"),
        ("practice", "0005_meeting_mode_video_license"),
    ]

    operations = [
        # A default, so that going back can add the column to existing rows.
        migrations.AlterField(
            model_name="consultation",
            name="meeting_mode",
            field=models.CharField(
                choices=[("phone", "Phone call"), ("video", "Video call")],
                default="video",
                max_length=10,
            ),
        ),
        migrations.RunPython(copy_mode_to_appointments, copy_mode_back),
        migrations.RemoveField(model_name="consultation", name="meeting_mode"),
        migrations.AddField(
            model_name="consultation",
            name="call_notes",
            field=models.TextField(
                blank=True,
                help_text="Private: only you see these. Not sent anywhere.",
                verbose_name="call notes",
            ),
        ),
    ]
