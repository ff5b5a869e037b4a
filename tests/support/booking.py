"""Filling in the booking form in a browser, as a visitor does."""

from __future__ import annotations

from typing import Any


def fill_booking_form(
    page: Any,
    *,
    first_name: str,
    last_name: str,
    email: str,
    reason: str,
    perinatal: str = "neither",
    phone: str = "",
) -> None:
    """Fill every required answer of the form on ``page`` (a time must be chosen already)."""
    form = page.locator("[data-booking-form]")
    form.get_by_label("First name").fill(first_name)
    form.get_by_label("Last name").fill(last_name)
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=preferred_contact][value=email]").check()
    form.locator("input[name=meeting_mode][value=video]").check()
    if phone:
        form.locator("input[name=phone]").fill(phone)
    form.get_by_label("What brings you here?").fill(reason)
    form.locator(f"input[name=perinatal][value={perinatal}]").check()
    form.locator("input[name=prior_experience][value=none]").check()
    form.locator("input[name=consent_to_contact]").check()


# Every answer of the booking form filled in, as a mother who tells a lot
# would (the start and the submission id are the caller's).
FULL_ANSWERS = {
    "time_zone": "America/New_York",
    "first_name": "Nora",
    "last_name": "O'Neill",
    "email": "nora@example.com",
    "phone": "+1 (510) 555-0100",
    "preferred_contact": "email",
    "meeting_mode": "video",
    "reason": "I feel far away from my children and I am exhausted.",
    "perinatal": "postpartum",
    "perinatal_months": "5",
    "children_ages": "4, 5 months",
    "prior_experience": "micro",
    "medications": "sertraline",
    "heard_from": "friend",
    "consent_to_contact": "on",
    "website": "",
}


def booking_answers(*, start: str, csrf: str, **overrides: str) -> dict[str, str]:
    """The booking form's fields as a browser posts them: the fewest answers
    the form takes, for ``start``, with a fresh submission id."""
    import uuid

    return {
        "csrfmiddlewaretoken": csrf,
        "submission_id": str(uuid.uuid4()),
        "time_zone": "America/New_York",
        "start": start,
        "first_name": "Nora",
        "last_name": "Quinn",
        "email": "nora@example.com",
        "phone": "",
        "preferred_contact": "email",
        "meeting_mode": "video",
        "reason": "I want to feel like myself again.",
        "perinatal": "neither",
        "prior_experience": "none",
        "consent_to_contact": "on",
        "website": "",
        **overrides,
    }
