"""What the client portal keeps beside her record.

Her time zone, the state she lives in, her emergency contact and support
person on the client row; her portal invitations and her private documents.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import practice.client_records


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0005_meeting_mode_video_license"),
    ]

    operations = [
        migrations.AddField(
            model_name="client",
            name="emergency_contact_name",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="client",
            name="emergency_contact_phone",
            field=models.CharField(blank=True, max_length=30),
        ),
        migrations.AddField(
            model_name="client",
            name="emergency_contact_relationship",
            field=models.CharField(
                blank=True, help_text="For example: partner, sister, friend.", max_length=60
            ),
        ),
        migrations.AddField(
            model_name="client",
            name="state",
            field=models.CharField(
                blank=True,
                choices=[
                    ("AL", "Alabama"),
                    ("AK", "Alaska"),
                    ("AZ", "Arizona"),
                    ("AR", "Arkansas"),
                    ("CA", "California"),
                    ("CO", "Colorado"),
                    ("CT", "Connecticut"),
                    ("DE", "Delaware"),
                    ("DC", "District of Columbia"),
                    ("FL", "Florida"),
                    ("GA", "Georgia"),
                    ("HI", "Hawaii"),
                    ("ID", "Idaho"),
                    ("IL", "Illinois"),
                    ("IN", "Indiana"),
                    ("IA", "Iowa"),
                    ("KS", "Kansas"),
                    ("KY", "Kentucky"),
                    ("LA", "Louisiana"),
                    ("ME", "Maine"),
                    ("MD", "Maryland"),
                    ("MA", "Massachusetts"),
                    ("MI", "Michigan"),
                    ("MN", "Minnesota"),
                    ("MS", "Mississippi"),
                    ("MO", "Missouri"),
                    ("MT", "Montana"),
                    ("NE", "Nebraska"),
                    ("NV", "Nevada"),
                    ("NH", "New Hampshire"),
                    ("NJ", "New Jersey"),
                    ("NM", "New Mexico"),
                    ("NY", "New York"),
                    ("NC", "North Carolina"),
                    ("ND", "North Dakota"),
                    ("OH", "Ohio"),
                    ("OK", "Oklahoma"),
                    ("OR", "Oregon"),
                    ("PA", "Pennsylvania"),
                    ("RI", "Rhode Island"),
                    ("SC", "South Carolina"),
                    ("SD", "South Dakota"),
                    ("TN", "Tennessee"),
                    ("TX", "Texas"),
                    ("UT", "Utah"),
                    ("VT", "Vermont"),
                    ("VA", "Virginia"),
                    ("WA", "Washington"),
                    ("WV", "West Virginia"),
                    ("WI", "Wisconsin"),
                    ("WY", "Wyoming"),
                    ("AS", "American Samoa"),
                    ("GU", "Guam"),
                    ("MP", "Northern Mariana Islands"),
                    ("PR", "Puerto Rico"),
                    ("VI", "U.S. Virgin Islands"),
                ],
                help_text="The therapist is licensed in some states only.",
                max_length=2,
                verbose_name="state she lives in",
            ),
        ),
        migrations.AddField(
            model_name="client",
            name="support_person_email",
            field=models.EmailField(blank=True, max_length=254),
        ),
        migrations.AddField(
            model_name="client",
            name="support_person_name",
            field=models.CharField(
                blank=True,
                help_text="Someone she chooses to be told about her care, if she wishes.",
                max_length=200,
            ),
        ),
        migrations.AddField(
            model_name="client",
            name="support_person_phone",
            field=models.CharField(blank=True, max_length=30),
        ),
        migrations.AddField(
            model_name="client",
            name="time_zone",
            field=models.CharField(
                blank=True,
                help_text="Her time zone, e.g. America/Chicago; empty means the practice's zone.",
                max_length=64,
                validators=[practice.client_records.validate_time_zone],
            ),
        ),
        migrations.AddConstraint(
            model_name="client",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("state", ""),
                    (
                        "state__in",
                        [
                            "AL",
                            "AK",
                            "AZ",
                            "AR",
                            "CA",
                            "CO",
                            "CT",
                            "DE",
                            "DC",
                            "FL",
                            "GA",
                            "HI",
                            "ID",
                            "IL",
                            "IN",
                            "IA",
                            "KS",
                            "KY",
                            "LA",
                            "ME",
                            "MD",
                            "MA",
                            "MI",
                            "MN",
                            "MS",
                            "MO",
                            "MT",
                            "NE",
                            "NV",
                            "NH",
                            "NJ",
                            "NM",
                            "NY",
                            "NC",
                            "ND",
                            "OH",
                            "OK",
                            "OR",
                            "PA",
                            "RI",
                            "SC",
                            "SD",
                            "TN",
                            "TX",
                            "UT",
                            "VT",
                            "VA",
                            "WA",
                            "WV",
                            "WI",
                            "WY",
                            "AS",
                            "GU",
                            "MP",
                            "PR",
                            "VI",
                        ],
                    ),
                    _connector="OR",
                ),
                name="practice_client_state_known",
                violation_error_message="Choose a US state or territory.",
            ),
        ),
        migrations.CreateModel(
            name="ClientDocument",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("signed_consent", "Signed consent"),
                            ("referral_letter", "Referral letter"),
                            ("upload", "Upload"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "title",
                    models.CharField(help_text="What she sees in her portal.", max_length=200),
                ),
                ("storage_name", models.CharField(editable=False, max_length=255, unique=True)),
                ("sha256", models.CharField(editable=False, max_length=64, verbose_name="SHA-256")),
                ("size", models.PositiveIntegerField(editable=False, help_text="In bytes.")),
                (
                    "content_type",
                    models.CharField(
                        choices=[
                            ("application/pdf", "PDF"),
                            ("image/png", "PNG image"),
                            ("image/jpeg", "JPEG image"),
                        ],
                        max_length=40,
                    ),
                ),
                (
                    "visible_to_client",
                    models.BooleanField(
                        default=False, help_text="Listed in her portal, where she can download it."
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="documents",
                        to="practice.client",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(
                        fields=["client", "-created_at"], name="practice_document_client_idx"
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("sha256__regex", "^[0-9a-f]{64}$")),
                        name="practice_clientdocument_sha256_is_hex",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("content_type__in", ["application/pdf", "image/png", "image/jpeg"])
                        ),
                        name="practice_clientdocument_content_type_allowed",
                        violation_error_message="Only PDF, PNG and JPEG files can be kept.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("size__gt", 0)),
                        name="practice_clientdocument_not_empty",
                        violation_error_message="The file is empty.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("kind__in", ["signed_consent", "referral_letter", "upload"])
                        ),
                        name="practice_clientdocument_kind_known",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="ClientInvitation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token_hash", models.CharField(editable=False, max_length=64, unique=True)),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("expires_at", models.DateTimeField()),
                ("used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "revoked_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="Set when a newer invitation replaced this one.",
                        null=True,
                    ),
                ),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="invitations",
                        to="practice.client",
                    ),
                ),
                (
                    "sent_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("expires_at__gt", models.F("created_at"))),
                        name="practice_clientinvitation_expires_after_created",
                        violation_error_message="An invitation must expire after it is sent.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("token_hash__regex", "^[0-9a-f]{64}$")),
                        name="practice_clientinvitation_token_hash_is_sha256",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("used_at__isnull", True), ("revoked_at__isnull", True), _connector="OR"
                        ),
                        name="practice_clientinvitation_used_or_revoked",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("revoked_at__isnull", True), ("used_at__isnull", True)),
                        fields=("client",),
                        name="practice_clientinvitation_one_outstanding_per_client",
                        violation_error_message="She already has an invitation that has not been used; revoke it before sending a new one.",
                    ),
                ],
            },
        ),
    ]
