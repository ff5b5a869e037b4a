"""Preparation records: the intake, screening questionnaires, safety flags,
eligibility (contraindications and overrides) and versioned consent.

The built-in contraindications and the starting consent texts are rows
written by ``0005_preparation_defaults``.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import practice.encryption


class Migration(migrations.Migration):
    dependencies = [
        ("kap_sessions", "0003_encrypt_closing_summary"),
        ("practice", "0006_client_portal_records"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ConsentDocument",
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
                            (
                                "kap_informed_consent",
                                "Informed consent for ketamine-assisted psychotherapy",
                            ),
                            ("privacy_notice", "Notice of privacy practices"),
                            ("financial_policy", "Financial policy"),
                            (
                                "release_prescriber",
                                "Permission to share information with your prescriber",
                            ),
                            (
                                "release_support_person",
                                "Permission to share information with your support person",
                            ),
                        ],
                        max_length=30,
                    ),
                ),
                ("version", models.PositiveIntegerField()),
                ("title", models.CharField(max_length=200)),
                ("body", models.TextField(help_text="The exact text she reads and signs.")),
                (
                    "published_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="Empty while a draft. Once published, the text can no longer change.",
                        null=True,
                    ),
                ),
                (
                    "internal_note",
                    models.TextField(
                        blank=True, help_text="For the practice only; never shown to clients."
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
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
                "ordering": ["kind", "-version"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "version"),
                        name="kap_sessions_consentdocument_one_per_version",
                        violation_error_message="This version of this document already exists.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("version__gte", 1)),
                        name="kap_sessions_consentdocument_version_positive",
                        violation_error_message="Versions are numbered from 1.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "kind__in",
                                [
                                    "kap_informed_consent",
                                    "privacy_notice",
                                    "financial_policy",
                                    "release_prescriber",
                                    "release_support_person",
                                ],
                            )
                        ),
                        name="kap_sessions_consentdocument_kind_known",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("published_at__isnull", True),
                            models.Q(
                                models.Q(("title", ""), _negated=True),
                                models.Q(("body", ""), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="kap_sessions_consentdocument_published_has_text",
                        violation_error_message="A published document needs a title and a text.",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="ConsentSignature",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "typed_name",
                    models.CharField(max_length=200, verbose_name="full name, as typed"),
                ),
                ("signed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                ("user_agent", models.CharField(blank=True, max_length=300)),
                (
                    "text_sha256",
                    models.CharField(
                        help_text="Of the document's shown_text.",
                        max_length=64,
                        verbose_name="SHA-256 of the text shown",
                    ),
                ),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="consent_signatures",
                        to="practice.client",
                    ),
                ),
                (
                    "document",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="signatures",
                        to="kap_sessions.consentdocument",
                    ),
                ),
                (
                    "pdf",
                    models.OneToOneField(
                        blank=True,
                        help_text="The signed PDF, rendered once after signing.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="consent_signature",
                        to="practice.clientdocument",
                    ),
                ),
                (
                    "superseded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="supersedes",
                        to="kap_sessions.consentsignature",
                    ),
                ),
            ],
            options={
                "ordering": ["-signed_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("client", "document"),
                        name="kap_sessions_consentsignature_one_per_version",
                        violation_error_message="She has already signed this version.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("typed_name", ""), _negated=True),
                        name="kap_sessions_consentsignature_typed_name_given",
                        violation_error_message="Please type your full name.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("text_sha256__regex", "^[0-9a-f]{64}$")),
                        name="kap_sessions_consentsignature_text_sha256_is_hex",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("superseded_by", models.F("pk")), _negated=True),
                        name="kap_sessions_consentsignature_not_superseded_by_itself",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Contraindication",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.SlugField(max_length=60, unique=True)),
                (
                    "plain_words",
                    models.CharField(
                        help_text="The reason as you read it, e.g. “Uncontrolled high blood pressure”.",
                        max_length=200,
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("needs_medical_review", "Needs medical review"),
                            ("not_eligible", "Not eligible"),
                        ],
                        max_length=30,
                    ),
                ),
                (
                    "intake_rule",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("uncontrolled_hypertension", "Uncontrolled high blood pressure"),
                            ("psychosis_or_mania", "Psychosis, mania or bipolar disorder"),
                            ("active_substance_use", "Active substance use"),
                            ("pregnancy", "Pregnancy"),
                            ("active_suicidal_ideation", "Current suicidal thoughts"),
                            ("heart_condition", "Heart condition"),
                            ("liver_condition", "Liver condition"),
                            ("bladder_condition", "Bladder condition"),
                            ("glaucoma", "Glaucoma"),
                            ("seizures", "Seizures"),
                        ],
                        help_text="Computed from her intake; empty for one you mark on a client by hand.",
                        max_length=40,
                    ),
                ),
                ("active", models.BooleanField(default=True)),
                ("order", models.PositiveSmallIntegerField(default=0)),
            ],
            options={
                "ordering": ["order", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("intake_rule", ""), _negated=True),
                        fields=("intake_rule",),
                        name="kap_sessions_contraindication_one_per_intake_rule",
                        violation_error_message="Another contraindication already uses this intake rule.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("outcome__in", ["needs_medical_review", "not_eligible"])
                        ),
                        name="kap_sessions_contraindication_outcome_known",
                        violation_error_message="Choose what this contraindication does to eligibility.",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="ClientContraindication",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "noted_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("note", practice.encryption.EncryptedTextField(blank=True)),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="marked_contraindications",
                        to="practice.client",
                    ),
                ),
                (
                    "noted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "contraindication",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="client_marks",
                        to="kap_sessions.contraindication",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("client", "contraindication"),
                        name="kap_sessions_clientcontraindication_once_per_client",
                        violation_error_message="This contraindication is already marked on her record.",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="EligibilityOverride",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("eligible", "Eligible"),
                            ("needs_medical_review", "Needs medical review"),
                            ("not_eligible", "Not eligible"),
                        ],
                        max_length=30,
                    ),
                ),
                ("note", practice.encryption.EncryptedTextField(help_text="Why you decided this.")),
                (
                    "decided_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="eligibility_overrides",
                        to="practice.client",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-decided_at", "-id"],
                "indexes": [
                    models.Index(
                        fields=["client", "-decided_at"], name="kap_eligibility_client_idx"
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("status__in", ["eligible", "needs_medical_review", "not_eligible"])
                        ),
                        name="kap_sessions_eligibilityoverride_status_known",
                        violation_error_message="Choose a status.",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Intake",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "current_section",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("medical", "Your physical health"),
                            ("mental_health", "Your mental health"),
                            ("substances", "Alcohol and other substances"),
                            ("medications", "Medications and allergies"),
                            ("pregnancy", "Pregnancy and breastfeeding"),
                            ("experience", "Past experience"),
                            ("people", "Where you live and who to call"),
                            ("session_day", "Getting home and your children"),
                        ],
                        help_text="The section she was on; the portal opens it when she comes back.",
                        max_length=20,
                    ),
                ),
                (
                    "started_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("submitted_at", models.DateTimeField(blank=True, null=True)),
                (
                    "blood_pressure",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("normal", "Normal"),
                            ("high_controlled", "High, and kept under control with treatment"),
                            ("high_uncontrolled", "High, and not under control"),
                            ("unsure", "I'm not sure"),
                        ],
                        max_length=20,
                        verbose_name="blood pressure",
                    ),
                ),
                (
                    "heart_condition",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="a heart condition (for example a past heart attack, an irregular heartbeat, chest pain)",
                    ),
                ),
                (
                    "liver_condition",
                    models.BooleanField(blank=True, null=True, verbose_name="a liver condition"),
                ),
                (
                    "bladder_condition",
                    models.BooleanField(
                        blank=True, null=True, verbose_name="bladder or urinary problems"
                    ),
                ),
                (
                    "glaucoma",
                    models.BooleanField(
                        blank=True, null=True, verbose_name="glaucoma or raised pressure in the eye"
                    ),
                ),
                (
                    "seizures",
                    models.BooleanField(blank=True, null=True, verbose_name="seizures or epilepsy"),
                ),
                (
                    "medical_notes",
                    practice.encryption.EncryptedTextField(
                        blank=True, verbose_name="anything else about your health"
                    ),
                ),
                (
                    "psychosis_history",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="ever seen or heard things others did not, or held beliefs others found untrue",
                    ),
                ),
                (
                    "mania_or_bipolar",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="ever had mania, or been told you have bipolar disorder",
                    ),
                ),
                (
                    "psychiatric_hospitalization",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="ever stayed in hospital for your mental health",
                    ),
                ),
                (
                    "current_suicidal_thoughts",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="thoughts of ending your life or harming yourself now",
                    ),
                ),
                (
                    "psychiatric_notes",
                    practice.encryption.EncryptedTextField(
                        blank=True, verbose_name="anything else about your mental health"
                    ),
                ),
                (
                    "substance_use",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("none", "None, or an occasional drink"),
                            ("some", "Some regular use (alcohol, cannabis or other)"),
                            ("concerned", "I'm worried about my use"),
                            ("recovery", "I'm in treatment or recovery"),
                        ],
                        max_length=20,
                        verbose_name="alcohol and other substances",
                    ),
                ),
                (
                    "substance_notes",
                    practice.encryption.EncryptedTextField(
                        blank=True, verbose_name="what you use, and how often"
                    ),
                ),
                (
                    "medications",
                    practice.encryption.EncryptedTextField(
                        blank=True,
                        help_text="Write “none” if you take none.",
                        verbose_name="medications you take",
                    ),
                ),
                (
                    "allergies",
                    practice.encryption.EncryptedTextField(
                        blank=True, help_text="Write “none” if none.", verbose_name="allergies"
                    ),
                ),
                (
                    "pregnant",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("no", "No"),
                            ("yes", "Yes"),
                            ("trying", "Trying to become pregnant"),
                            ("unsure", "I'm not sure"),
                        ],
                        max_length=10,
                        verbose_name="pregnant now",
                    ),
                ),
                (
                    "breastfeeding",
                    models.BooleanField(blank=True, null=True, verbose_name="breastfeeding now"),
                ),
                (
                    "prior_ketamine",
                    models.BooleanField(
                        blank=True, null=True, verbose_name="taken ketamine before"
                    ),
                ),
                (
                    "prior_psychedelics",
                    models.BooleanField(
                        blank=True, null=True, verbose_name="taken psychedelics before"
                    ),
                ),
                (
                    "prior_experience_notes",
                    practice.encryption.EncryptedTextField(
                        blank=True, verbose_name="how those experiences were"
                    ),
                ),
                (
                    "driver_name",
                    models.CharField(
                        blank=True, max_length=200, verbose_name="who will drive you home"
                    ),
                ),
                (
                    "driver_phone",
                    models.CharField(blank=True, max_length=30, verbose_name="their phone number"),
                ),
                (
                    "childcare_plan",
                    practice.encryption.EncryptedTextField(
                        blank=True, verbose_name="who will care for your children that day"
                    ),
                ),
                (
                    "client",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="intake",
                        to="practice.client",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("current_section", ""),
                            (
                                "current_section__in",
                                [
                                    "medical",
                                    "mental_health",
                                    "substances",
                                    "medications",
                                    "pregnancy",
                                    "experience",
                                    "people",
                                    "session_day",
                                ],
                            ),
                            _connector="OR",
                        ),
                        name="kap_sessions_intake_current_section_known",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("submitted_at__isnull", True),
                            ("submitted_at__gte", models.F("started_at")),
                            _connector="OR",
                        ),
                        name="kap_sessions_intake_submitted_after_started",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="ScreeningAssignment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "instrument",
                    models.CharField(
                        choices=[
                            ("phq-9", "PHQ-9"),
                            ("gad-7", "GAD-7"),
                            ("epds", "Edinburgh Postnatal Depression Scale"),
                        ],
                        max_length=20,
                    ),
                ),
                ("due_on", models.DateField()),
                (
                    "assigned_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Open"),
                            ("completed", "Completed"),
                            ("withdrawn", "Withdrawn"),
                        ],
                        default="open",
                        max_length=20,
                    ),
                ),
                (
                    "assigned_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="screening_assignments",
                        to="practice.client",
                    ),
                ),
            ],
            options={
                "ordering": ["due_on", "id"],
                "indexes": [
                    models.Index(
                        fields=["client", "status", "due_on"], name="kap_screening_assign_open_idx"
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("instrument__in", ["phq-9", "gad-7", "epds"])),
                        name="kap_sessions_screeningassignment_instrument_known",
                        violation_error_message="Choose one of the questionnaires.",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ScreeningResponse",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "instrument",
                    models.CharField(
                        choices=[
                            ("phq-9", "PHQ-9"),
                            ("gad-7", "GAD-7"),
                            ("epds", "Edinburgh Postnatal Depression Scale"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "version",
                    models.CharField(
                        help_text="The instrument's version string when she answered.",
                        max_length=100,
                    ),
                ),
                ("total", models.PositiveSmallIntegerField()),
                ("band", models.CharField(max_length=60)),
                (
                    "safety",
                    models.BooleanField(
                        default=False, help_text="Its safety item was answered above zero."
                    ),
                ),
                ("completed_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "assignment",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="response",
                        to="kap_sessions.screeningassignment",
                    ),
                ),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="screenings",
                        to="practice.client",
                    ),
                ),
            ],
            options={
                "ordering": ["-completed_at", "-id"],
                "indexes": [
                    models.Index(
                        fields=["client", "instrument", "-completed_at"],
                        name="kap_screening_resp_client_idx",
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("instrument__in", ["phq-9", "gad-7", "epds"])),
                        name="kap_sessions_screeningresponse_instrument_known",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ScreeningAnswer",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("item_number", models.PositiveSmallIntegerField()),
                (
                    "position",
                    models.PositiveSmallIntegerField(
                        help_text="The option she chose; 0 is the first."
                    ),
                ),
                ("score", models.PositiveSmallIntegerField()),
                (
                    "response",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="answers",
                        to="kap_sessions.screeningresponse",
                    ),
                ),
            ],
            options={
                "ordering": ["response", "item_number"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("response", "item_number"),
                        name="kap_sessions_screeninganswer_one_per_item",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("item_number__gte", 1)),
                        name="kap_sessions_screeninganswer_item_number_positive",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="SafetyFlag",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[("intake", "Intake"), ("phq-9", "PHQ-9"), ("epds", "EPDS")],
                        max_length=20,
                    ),
                ),
                (
                    "raised_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "Open"), ("acknowledged", "Acknowledged")],
                        default="open",
                        max_length=20,
                    ),
                ),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                (
                    "acknowledgement_note",
                    practice.encryption.EncryptedTextField(
                        blank=True, help_text="What you did about it. Required to acknowledge."
                    ),
                ),
                (
                    "acknowledged_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="safety_flags",
                        to="practice.client",
                    ),
                ),
                (
                    "screening_response",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="safety_flags",
                        to="kap_sessions.screeningresponse",
                    ),
                ),
            ],
            options={
                "ordering": ["-raised_at", "-id"],
                "indexes": [
                    models.Index(fields=["status", "raised_at"], name="kap_safetyflag_status_idx")
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("acknowledged_at__isnull", False),
                                ("acknowledged_by__isnull", False),
                                ("status", "acknowledged"),
                            ),
                            models.Q(
                                ("acknowledged_at__isnull", True),
                                ("acknowledged_by__isnull", True),
                                ("status", "open"),
                            ),
                            _connector="OR",
                        ),
                        name="kap_sessions_safetyflag_acknowledged_matches_status",
                        violation_error_message="An acknowledged flag needs who acknowledged it and when; an open flag has neither.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("screening_response__isnull", False),
                            ("source", "intake"),
                            _negated=True,
                        ),
                        name="kap_sessions_safetyflag_intake_has_no_response",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("screening_response__isnull", False)),
                        fields=("screening_response",),
                        name="kap_sessions_safetyflag_one_per_response",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("source", "intake"), ("status", "open")),
                        fields=("client",),
                        name="kap_sessions_safetyflag_one_open_intake_flag_per_client",
                    ),
                ],
            },
        ),
    ]
