"""The practice's screening settings: one row holding the EPDS cut-offs (10 and 13)."""

from django.db import migrations, models


def write_the_defaults(apps, schema_editor):
    ScreeningSettings = apps.get_model("kap_sessions", "ScreeningSettings")
    ScreeningSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("kap_sessions", "0005_preparation_defaults"),
    ]

    operations = [
        migrations.CreateModel(
            name="ScreeningSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "epds_possible",
                    models.PositiveSmallIntegerField(
                        default=10,
                        help_text="An EPDS total at or above this reads as possible depression.",
                        verbose_name="EPDS: possible depression from",
                    ),
                ),
                (
                    "epds_probable",
                    models.PositiveSmallIntegerField(
                        default=13,
                        help_text="An EPDS total at or above this reads as probable depression.",
                        verbose_name="EPDS: probable depression from",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "screening settings",
                "verbose_name_plural": "screening settings",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("pk", 1)),
                        name="kap_sessions_screeningsettings_singleton",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("epds_possible__gte", 1),
                            ("epds_probable__gte", models.F("epds_possible")),
                            ("epds_probable__lte", 30),
                        ),
                        name="kap_sessions_screeningsettings_epds_cutoffs_ordered",
                        violation_error_message="The EPDS cut-offs must be at least 1, at most 30, and probable no lower than possible.",
                    ),
                ],
            },
        ),
        migrations.RunPython(write_the_defaults, migrations.RunPython.noop),
    ]
