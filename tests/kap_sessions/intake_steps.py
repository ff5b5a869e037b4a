"""Her intake as the portal's form posts it, section by section (shared by the intake tests)."""

from __future__ import annotations

from typing import Any

INTAKE_URL = "/portal/intake/"
SAFETY_URL = "/portal/support/"

# Every section answered, as the form's fields spell the answers.
COMPLETE: dict[str, dict[str, str]] = {
    "medical": {
        "blood_pressure": "normal",
        "heart_condition": "no",
        "liver_condition": "no",
        "bladder_condition": "no",
        "glaucoma": "no",
        "seizures": "no",
        "medical_notes": "",
    },
    "mental_health": {
        "psychosis_history": "no",
        "mania_or_bipolar": "no",
        "psychiatric_hospitalization": "no",
        "current_suicidal_thoughts": "no",
        "psychiatric_notes": "",
    },
    "substances": {"substance_use": "none", "substance_notes": ""},
    "medications": {"medications": "Sertraline 50 mg daily", "allergies": "none"},
    "pregnancy": {"pregnant": "no", "breastfeeding": "yes"},
    "experience": {
        "prior_ketamine": "no",
        "prior_psychedelics": "no",
        "prior_experience_notes": "",
    },
    "people": {
        "state": "CA",
        "emergency_contact_name": "Chidi Okafor",
        "emergency_contact_phone": "(510) 555-0199",
        "emergency_contact_relationship": "husband",
        "support_person_name": "",
        "support_person_phone": "",
        "support_person_email": "",
    },
    "session_day": {
        "driver_name": "Chidi Okafor",
        "driver_phone": "(510) 555-0199",
        "childcare_plan": "My mother takes the children for the day.",
    },
}


def section_post(section: str, action: str = "continue", **answers: Any) -> dict[str, str]:
    """The POST of one section: its complete answers, with ``answers`` replacing some."""
    data = {**COMPLETE[section], **{name: str(value) for name, value in answers.items()}}
    return {"section": section, "action": action, **data}
