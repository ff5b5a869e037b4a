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
# What she does next, under the thank-you (in place and on the thanks page).
NEXT_STEP = "Check your inbox to confirm your subscription."
NEXT_STEP_NOTE = (
    "The email may take a minute to arrive. If you cannot find it, check your spam folder."
)
# Only for what she cannot fix in the form: a server error, a lost
# connection, too many sign-ups. A field she can fix gets its own message.
FAILURE_MESSAGE = "Oops! Something went wrong while submitting the form."
CONNECTION_LOST = "Please check your connection and try again."


def consent_text() -> str:
    return (
        f"{SIGNUP_HEADING}\n{SIGNUP_LINE}\n{SIGNUP_BUTTON}\n"
        f"{SIGNUP_TERMS_BEFORE_LINK}{SIGNUP_TERMS_LINK}."
    )


CONSENT_TEXT_SHA256 = hashlib.sha256(consent_text().encode()).hexdigest()
