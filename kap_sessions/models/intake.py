"""Her full intake: one per client, saved as she goes, resumed where she left off.

Every answer may be empty, so a half-done intake is a valid row: the portal
saves each section as she leaves it, and ``current_section`` names the one
to open when she comes back (perhaps days later, on another phone).
:data:`SECTIONS` is the one ordered list of what is asked, used by the form
wizard, the "what is left" list and :meth:`Intake.missing_sections`.

Free text about her health (notes, medications, allergies) is encrypted at
rest. The yes/no answers and choices are plain columns: eligibility reads
them, and they are useless without the client they belong to, who is
behind the same access checks.

Her emergency contact, support person and the state she lives in are kept
on :class:`practice.models.Client` (she edits them on ``/portal/profile/``
as well); the intake asks for them in its own section but does not copy them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils import timezone

from practice.encryption import EncryptedTextField
from practice.models import Client


@dataclass(frozen=True)
class IntakeSection:
    """One page of the intake: its fields on :class:`Intake` and on her client record."""

    name: str
    title: str
    fields: tuple[str, ...] = ()
    client_fields: tuple[str, ...] = ()
    # Answers she may leave empty and still be done with the section.
    optional: tuple[str, ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f for f in (*self.fields, *self.client_fields) if f not in self.optional)


SECTIONS: tuple[IntakeSection, ...] = (
    IntakeSection(
        "medical",
        "Your physical health",
        fields=(
            "blood_pressure",
            "heart_condition",
            "liver_condition",
            "bladder_condition",
            "glaucoma",
            "seizures",
            "medical_notes",
        ),
        optional=("medical_notes",),
    ),
    IntakeSection(
        "mental_health",
        "Your mental health",
        fields=(
            "psychosis_history",
            "mania_or_bipolar",
            "psychiatric_hospitalization",
            "current_suicidal_thoughts",
            "psychiatric_notes",
        ),
        optional=("psychiatric_notes",),
    ),
    IntakeSection(
        "substances",
        "Alcohol and other substances",
        fields=("substance_use", "substance_notes"),
        optional=("substance_notes",),
    ),
    IntakeSection(
        "medications",
        "Medications and allergies",
        fields=("medications", "allergies"),
    ),
    IntakeSection(
        "pregnancy",
        "Pregnancy and breastfeeding",
        fields=("pregnant", "breastfeeding"),
    ),
    IntakeSection(
        "experience",
        "Past experience",
        fields=("prior_ketamine", "prior_psychedelics", "prior_experience_notes"),
        optional=("prior_experience_notes",),
    ),
    IntakeSection(
        "people",
        "Where you live and who to call",
        client_fields=("state", *Client.PEOPLE_FIELDS),
        optional=(
            "emergency_contact_relationship",
            "support_person_name",
            "support_person_phone",
            "support_person_email",
        ),
    ),
    IntakeSection(
        "session_day",
        "Getting home and your children",
        fields=("driver_name", "driver_phone", "childcare_plan"),
    ),
)

SECTION_CHOICES = [(section.name, section.title) for section in SECTIONS]


class BloodPressure(models.TextChoices):
    NORMAL = "normal", "Normal"
    HIGH_CONTROLLED = "high_controlled", "High, and kept under control with treatment"
    HIGH_UNCONTROLLED = "high_uncontrolled", "High, and not under control"
    UNSURE = "unsure", "I'm not sure"


class SubstanceUse(models.TextChoices):
    NONE = "none", "None, or an occasional drink"
    SOME = "some", "Some regular use (alcohol, cannabis or other)"
    CONCERNED = "concerned", "I'm worried about my use"
    RECOVERY = "recovery", "I'm in treatment or recovery"


class Pregnancy(models.TextChoices):
    NO = "no", "No"
    YES = "yes", "Yes"
    TRYING = "trying", "Trying to become pregnant"
    UNSURE = "unsure", "I'm not sure"


class IntakeQuerySet(models.QuerySet["Intake"]):
    def with_client(self) -> IntakeQuerySet:
        # missing_sections() reads her client record for the "people" section.
        return self.select_related("client")

    def submitted(self) -> IntakeQuerySet:
        return self.filter(submitted_at__isnull=False)


class Intake(models.Model):
    client = models.OneToOneField(Client, on_delete=models.PROTECT, related_name="intake")
    current_section = models.CharField(
        max_length=20,
        choices=SECTION_CHOICES,
        blank=True,
        help_text="The section she was on; the portal opens it when she comes back.",
    )
    started_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    # Physical health
    blood_pressure = models.CharField(
        "blood pressure", max_length=20, choices=BloodPressure.choices, blank=True
    )
    heart_condition = models.BooleanField(
        "a heart condition (for example a past heart attack, an irregular heartbeat, chest pain)",
        null=True,
        blank=True,
    )
    liver_condition = models.BooleanField("a liver condition", null=True, blank=True)
    bladder_condition = models.BooleanField("bladder or urinary problems", null=True, blank=True)
    glaucoma = models.BooleanField("glaucoma or raised pressure in the eye", null=True, blank=True)
    seizures = models.BooleanField("seizures or epilepsy", null=True, blank=True)
    medical_notes = EncryptedTextField("anything else about your health", blank=True)

    # Mental health
    psychosis_history = models.BooleanField(
        "ever seen or heard things others did not, or held beliefs others found untrue",
        null=True,
        blank=True,
    )
    mania_or_bipolar = models.BooleanField(
        "ever had mania, or been told you have bipolar disorder", null=True, blank=True
    )
    psychiatric_hospitalization = models.BooleanField(
        "ever stayed in hospital for your mental health", null=True, blank=True
    )
    current_suicidal_thoughts = models.BooleanField(
        "thoughts of ending your life or harming yourself now", null=True, blank=True
    )
    psychiatric_notes = EncryptedTextField("anything else about your mental health", blank=True)

    # Alcohol and other substances
    substance_use = models.CharField(
        "alcohol and other substances", max_length=20, choices=SubstanceUse.choices, blank=True
    )
    substance_notes = EncryptedTextField("what you use, and how often", blank=True)

    # Medications and allergies: "none" is an answer, an empty box is not yet one.
    medications = EncryptedTextField(
        "medications you take", blank=True, help_text="Write “none” if you take none."
    )
    allergies = EncryptedTextField("allergies", blank=True, help_text="Write “none” if none.")

    # Pregnancy and breastfeeding
    pregnant = models.CharField(
        "pregnant now", max_length=10, choices=Pregnancy.choices, blank=True
    )
    breastfeeding = models.BooleanField("breastfeeding now", null=True, blank=True)

    # Past experience
    prior_ketamine = models.BooleanField("taken ketamine before", null=True, blank=True)
    prior_psychedelics = models.BooleanField("taken psychedelics before", null=True, blank=True)
    prior_experience_notes = EncryptedTextField("how those experiences were", blank=True)

    # The session day: who drives her home (she must not drive) and who
    # looks after her children. Contact details, kept plain like the
    # emergency contact's; the childcare plan is free text she writes and may
    # say more about her family than a name, so it is encrypted.
    driver_name = models.CharField("who will drive you home", max_length=200, blank=True)
    driver_phone = models.CharField("their phone number", max_length=30, blank=True)
    childcare_plan = EncryptedTextField("who will care for your children that day", blank=True)

    objects = IntakeQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(current_section="")
                | models.Q(current_section__in=[section.name for section in SECTIONS]),
                name="kap_sessions_intake_current_section_known",
            ),
            models.CheckConstraint(
                condition=models.Q(submitted_at__isnull=True)
                | models.Q(submitted_at__gte=models.F("started_at")),
                name="kap_sessions_intake_submitted_after_started",
            ),
        ]

    def __str__(self) -> str:
        return f"Intake #{self.pk} for client #{self.client_id}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    def section_done(self, section: IntakeSection) -> bool:
        """Every answer the section requires is given (``False`` and "none" are answers)."""
        for name in section.required:
            owner = self.client if name in section.client_fields else self
            if getattr(owner, name) in (None, ""):
                return False
        return True

    def missing_sections(self) -> list[IntakeSection]:
        """The sections still to answer, in the order she is asked them."""
        return [section for section in SECTIONS if not self.section_done(section)]

    @property
    def resume_section(self) -> IntakeSection:
        """Where to open the intake: the section she was on, else the first one not done."""
        by_name = {section.name: section for section in SECTIONS}
        if self.current_section in by_name:
            return by_name[self.current_section]
        missing = self.missing_sections()
        return missing[0] if missing else SECTIONS[0]
