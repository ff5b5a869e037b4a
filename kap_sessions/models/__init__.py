"""The models of KAP courses, one module per concern; import them from here."""

from .billing import EstimateLine, GoodFaithEstimate, Superbill, SuperbillLine
from .consent import (
    OPTIONAL_CONSENT_KINDS,
    ConsentDocument,
    ConsentDocumentQuerySet,
    ConsentKind,
    ConsentSignature,
    ConsentSignatureQuerySet,
)
from .course import CLOSED_PHASES, Course, CoursePhase, CoursePhaseChange, CourseQuerySet
from .dosing import AdverseEvent, AdverseEventSeverity, DosingRecord, Route, VitalSign
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
from .notes import NoteAddendum, PsychotherapyNote, SessionNote, SignedNote
from .safety import SafetyFlag, SafetyFlagStatus, SafetySource
from .screening import (
    INSTRUMENT_CHOICES,
    ScreeningAnswer,
    ScreeningAssignment,
    ScreeningResponse,
    ScreeningSettings,
    ScreeningStatus,
)
from .sessions import (
    SESSION_KINDS,
    CourseSession,
    CourseSessionQuerySet,
    CourseSettings,
    MedicalClearance,
    PregnancyAttestation,
    PregnancyStatus,
)

__all__ = [
    "CLOSED_PHASES",
    "INSTRUMENT_CHOICES",
    "OPTIONAL_CONSENT_KINDS",
    "SECTIONS",
    "SESSION_KINDS",
    "AdverseEvent",
    "AdverseEventSeverity",
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
    "CoursePhaseChange",
    "CourseQuerySet",
    "CourseSession",
    "CourseSessionQuerySet",
    "CourseSettings",
    "DosingRecord",
    "EligibilityOverride",
    "EligibilityStatus",
    "EstimateLine",
    "GoodFaithEstimate",
    "Intake",
    "IntakeRule",
    "IntakeSection",
    "MedicalClearance",
    "NoteAddendum",
    "Pregnancy",
    "PregnancyAttestation",
    "PregnancyStatus",
    "PsychotherapyNote",
    "RecordIsFinal",
    "Route",
    "SafetyFlag",
    "SafetyFlagStatus",
    "SafetySource",
    "ScreeningAnswer",
    "ScreeningAssignment",
    "ScreeningResponse",
    "ScreeningSettings",
    "ScreeningStatus",
    "SessionNote",
    "SignedNote",
    "SubstanceUse",
    "Superbill",
    "SuperbillLine",
    "VitalSign",
]
