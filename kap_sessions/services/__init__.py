"""Every write to KAP courses, one module per concern; import them from here."""

from .consent import (
    consent_document_new_version,
    consent_document_publish,
    consent_sign,
    consents_complete,
    consents_to_sign,
)
from .course import course_advance, course_start
from .eligibility import (
    Eligibility,
    contraindication_mark,
    contraindication_unmark,
    eligibility_for,
    eligibility_override,
)
from .intake import IntakeSaved, intake_save_section, intake_submit
from .portal import PortalTodo, client_profile_update, portal_todo
from .referral import referral_letter_issue
from .safety import safety_flag_acknowledge, safety_flag_raise
from .screening import (
    screening_assign,
    screening_history,
    screening_submit,
    screening_withdraw,
)

__all__ = [
    "Eligibility",
    "IntakeSaved",
    "PortalTodo",
    "client_profile_update",
    "consent_document_new_version",
    "consent_document_publish",
    "consent_sign",
    "consents_complete",
    "consents_to_sign",
    "contraindication_mark",
    "contraindication_unmark",
    "course_advance",
    "course_start",
    "eligibility_for",
    "eligibility_override",
    "intake_save_section",
    "intake_submit",
    "portal_todo",
    "referral_letter_issue",
    "safety_flag_acknowledge",
    "safety_flag_raise",
    "screening_assign",
    "screening_history",
    "screening_submit",
    "screening_withdraw",
]

# Issue 11: notes and the course's measures.
from .measures import measures_plan_before_dosing, measures_plan_for_phase  # noqa: E402
from .notes import (  # noqa: E402
    note_addendum_add,
    note_save,
    note_sign,
    notes_for_export,
)

__all__ += [
    "measures_plan_before_dosing",
    "measures_plan_for_phase",
    "note_addendum_add",
    "note_save",
    "note_sign",
    "notes_for_export",
]

# Issue 11: the course's sessions and the gates of a medicine session.
from .gates import (  # noqa: E402
    Gate,
    GateClosed,
    dosing_schedule_gates,
    dosing_schedule_gates_for,
    dosing_start_gates,
)
from .sessions import (  # noqa: E402
    SessionCompleted,
    integration_overdue,
    integration_proposal,
    medical_clearance_record,
    pregnancy_attestation_record,
    session_book,
    session_cancel,
    session_complete,
    session_location_record,
    session_move,
    session_start,
)

__all__ += [
    "Gate",
    "GateClosed",
    "SessionCompleted",
    "dosing_schedule_gates",
    "dosing_schedule_gates_for",
    "dosing_start_gates",
    "integration_overdue",
    "integration_proposal",
    "medical_clearance_record",
    "pregnancy_attestation_record",
    "session_book",
    "session_cancel",
    "session_complete",
    "session_location_record",
    "session_move",
    "session_start",
]

# Issue 11: the record of a medicine session.
from .dosing import (  # noqa: E402
    adverse_event_record,
    discharge_missing,
    dosing_discharge,
    dosing_record_update,
    presence_flag,
    vital_readings,
    vital_sign_record,
)

__all__ += [
    "adverse_event_record",
    "discharge_missing",
    "dosing_discharge",
    "dosing_record_update",
    "presence_flag",
    "vital_readings",
    "vital_sign_record",
]

# Issue 11: the money paperwork.
from .billing import estimate_share, superbill_prefill_lines  # noqa: E402

__all__ += ["estimate_share", "superbill_prefill_lines"]

from .portal_cache import portal_changed, portal_reads  # noqa: E402

__all__ += ["portal_changed", "portal_reads"]
