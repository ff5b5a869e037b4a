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
