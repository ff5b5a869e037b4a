"""The exact words a reader sees when she signs up, and their hash.

The signup block renders these strings, and each consent record stores the
SHA-256 of them, so what she agreed to can be shown later word for word.
Change the words here only; the hash changes with them.
"""

from __future__ import annotations

import hashlib

SIGNUP_HEADING = "Sign up to my newsletter"
SIGNUP_LINE = "Get updated with some helpful articles."
SIGNUP_BUTTON = "Sign Up"
SIGNUP_TERMS_BEFORE_LINK = "By clicking Sign Up you're confirming that you agree with our "
SIGNUP_TERMS_LINK = "Terms and Conditions"

SUCCESS_MESSAGE = "Thank you! Your submission has been received!"
FAILURE_MESSAGE = "Oops! Something went wrong while submitting the form."


def consent_text() -> str:
    return (
        f"{SIGNUP_HEADING}\n{SIGNUP_LINE}\n{SIGNUP_BUTTON}\n"
        f"{SIGNUP_TERMS_BEFORE_LINK}{SIGNUP_TERMS_LINK}."
    )


CONSENT_TEXT_SHA256 = hashlib.sha256(consent_text().encode()).hexdigest()
