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
