"""What a journey does with the emails that arrive and the pages it opens.

Emails are read at the SMTP sink of the ``stack`` fixture (``stack.smtp``);
links are taken out of the messages, never built by hand. Waits poll for the
message itself, with a generous timeout (the machine may be busy), and a
timeout's message carries what did arrive and the processes' logs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from django.contrib.auth.hashers import PBKDF2PasswordHasher

from practice.discretion import discretion_words_in
from tests.conftest import totp_code
from tests.factories import PASSWORD
from tests.support import waiting
from tests.support.smtp import html_part, text_part
from tests.support.stack import Stack

# Browser contexts at a phone's and a desktop's size (``browser.new_context(**PHONE)``).
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}

MAIL_TIMEOUT = 120.0
URL = re.compile(r"https?://[^\s<>\"']+")


def wait_until(
    condition: Callable[[], object],
    *,
    what: str | Callable[[], str],
    stack: Stack,
    timeout: float = MAIL_TIMEOUT,
) -> None:
    """Poll ``condition`` until it holds; fail with ``what`` (or what it returns by
    then) and the processes' logs."""

    def described() -> str:
        return f"{what() if callable(what) else what}\n{stack.logs()}"

    waiting.wait_until(condition, timeout=timeout, what=described, interval=0.1)


def mail_to(stack: Stack, address: str) -> list[EmailMessage]:
    """Every message the sink holds for ``address``, in the order they arrived."""
    return stack.smtp.to(address)


def subjects_to(stack: Stack, address: str) -> list[str]:
    return [str(message["Subject"]) for message in mail_to(stack, address)]


def wait_for_mail(
    stack: Stack, *, to: str, subject: str, timeout: float = MAIL_TIMEOUT
) -> EmailMessage:
    """The message to ``to`` whose subject starts with ``subject``, once it has arrived."""

    def found() -> list[EmailMessage]:
        return [m for m in mail_to(stack, to) if str(m["Subject"]).startswith(subject)]

    wait_until(
        found,
        what=lambda: (
            f"an email to {to} with a subject starting {subject!r} "
            f"(arrived for {to}: {subjects_to(stack, to)})"
        ),
        stack=stack,
        timeout=timeout,
    )
    first, *_ = found()
    return first


def link_in(message: EmailMessage, pattern: str) -> str:
    """The link in the message's text part that matches ``pattern`` (a regular expression).

    It must be one address (it may appear more than once, as in a footer).
    """
    links = {url for url in URL.findall(text_part(message)) if re.search(pattern, url)}
    assert len(links) == 1, (
        f"expected one link matching {pattern!r} in {message['Subject']!r}, found {sorted(links)}"
    )
    return links.pop()


def header_link(message: EmailMessage, header: str) -> str:
    """The http(s) address among the ``<...>`` entries of ``header`` (as ``List-Unsubscribe``)."""
    value = message[header]
    assert value is not None, f"{message['Subject']!r} has no {header} header"
    links = [link for link in re.findall(r"<([^>]+)>", str(value)) if link.startswith("http")]
    assert len(links) == 1, f"expected one web address in {header}: {value}"
    return links[0]


def attachment(message: EmailMessage, content_type: str) -> tuple[str, bytes]:
    """The message's one attachment of ``content_type``: its file name and bytes."""
    found = [part for part in message.iter_attachments() if part.get_content_type() == content_type]
    assert len(found) == 1, f"expected one {content_type} attachment in {message['Subject']!r}"
    (part,) = found
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return part.get_filename() or "", payload


def discretion_words_in_mail(message: EmailMessage) -> list[str]:
    """The treatment or health words a glance at the message (subject, text, HTML) would catch."""
    return discretion_words_in(
        "\n".join([str(message["Subject"]), text_part(message), html_part(message)])
    )


def password_the_app_can_check(user: Any, password: str = PASSWORD) -> None:
    """Store ``user``'s password hashed as the app's processes hash it.

    The tests' own settings hash passwords with MD5 for speed
    (``tests/conftest.py``), which gunicorn, on the real settings, does not
    accept; Django's default hasher is one it does.
    """
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(password, hasher.salt())
    user.save(update_fields=["password"])


def sign_in_with_totp(page: Any, base: str, user: Any) -> None:
    """Sign ``user`` (a staff persona with ``totp_secret``) in to the admin, as she does.

    Her password must be one the app can check (:func:`password_the_app_can_check`).
    """
    page.goto(f"{base}/accounts/login/?next=/admin/")
    page.locator("input[name=login]").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.locator("input[name=code]").fill(totp_code(user.totp_secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base}/admin/")
