"""The models of KAP courses, one module per concern; import them from here."""

from .consent import (
    OPTIONAL_CONSENT_KINDS,
    ConsentDocument,
    ConsentDocumentQuerySet,
    ConsentKind,
    ConsentSignature,
    ConsentSignatureQuerySet,
)
from .course import CLOSED_PHASES, Course, CoursePhase, CourseQuerySet
from .eligibility import (
    ClientContraindication,
    Contraindication,
    ContraindicationOutcome,
    EligibilityOverride,
    EligibilityStatus,
    IntakeRule,
)
from .final import RecordIsFinal
from .intake import SECTIONS, BloodPressure, Intake, IntakeSection, Pregnancy, SubstanceUse
from .safety import SafetyFlag, SafetyFlagStatus, SafetySource
from .screening import (
    INSTRUMENT_CHOICES,
    ScreeningAnswer,
    ScreeningAssignment,
    ScreeningResponse,
    ScreeningSettings,
    ScreeningStatus,
)

__all__ = [
    "CLOSED_PHASES",
    "INSTRUMENT_CHOICES",
    "OPTIONAL_CONSENT_KINDS",
    "SECTIONS",
    "BloodPressure",
    "ClientContraindication",
    "ConsentDocument",
    "ConsentDocumentQuerySet",
    "ConsentKind",
    "ConsentSignature",
    "ConsentSignatureQuerySet",
    "Contraindication",
    "ContraindicationOutcome",
    "Course",
    "CoursePhase",
    "CourseQuerySet",
    "EligibilityOverride",
    "EligibilityStatus",
    "Intake",
    "IntakeRule",
    "IntakeSection",
    "Pregnancy",
    "RecordIsFinal",
    "SafetyFlag",
    "SafetyFlagStatus",
    "SafetySource",
    "ScreeningAnswer",
    "ScreeningAssignment",
    "ScreeningResponse",
    "ScreeningSettings",
    "ScreeningStatus",
    "SubstanceUse",
]
