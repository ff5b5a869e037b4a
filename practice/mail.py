"""The one email builder.

Each message is three templates under ``templates/emails/``:
``<name>-subject.txt``, ``<name>-body.txt`` and ``<name>-body.html``. Every
message gets the practice's identity in its context, and is sent from the
practice's address. Apps keep one named function per email in their
``emails.py`` that calls :func:`build_email`.

Privacy: subjects, bodies and attachments must never name a treatment or
repeat a health answer. Links to the app carry the detail instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from email.message import Message
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEText
from django.template.loader import render_to_string

from .identity import practice_profile


def absolute_url(path: str) -> str:
    """An absolute https link for a path, for messages sent outside a request."""
    return f"{settings.SITE_URL}{path}"


def build_email(
    name: str,
    *,
    to: Sequence[str],
    context: Mapping[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
    attachments: Sequence[tuple[str, bytes | str, str]] = (),
    reply_to: Sequence[str] | None = None,
) -> EmailMultiAlternatives:
    profile = practice_profile()
    ctx = {"practice": profile, "site_url": settings.SITE_URL, **(context or {})}
    # A subject is one line, however the template wraps it.
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", ctx).split())
    text = render_to_string(f"emails/{name}-body.txt", ctx)
    html = render_to_string(f"emails/{name}-body.html", ctx)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=formataddr((profile.practice_name, _from_address(profile.email))),
        to=list(to),
        headers=dict(headers or {}),
        reply_to=list(reply_to) if reply_to else [profile.email] if profile.email else None,
    )
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        if ";" in mimetype:
            message.attach(_text_attachment(filename, content, mimetype))
        else:
            message.attach(filename, content, mimetype)
    return message


def _text_attachment(filename: str, content: bytes | str, mimetype: str) -> SafeMIMEText:
    """A text attachment whose Content-Type keeps the parameters ``mimetype`` gives.

    ``EmailMessage.attach`` takes a bare type only: a calendar file needs its
    iTIP method beside it (``text/calendar; charset="utf-8"; method=REQUEST``,
    RFC 6047 section 2.4), which mail clients read to offer "add to calendar"
    or to remove a cancelled event.
    """
    header = Message()
    header["Content-Type"] = mimetype
    maintype, subtype = header.get_content_maintype(), header.get_content_subtype()
    if maintype != "text":
        raise ValueError(f"a type with parameters must be text/*, not {mimetype!r}")
    text = content.decode() if isinstance(content, bytes) else content
    part = SafeMIMEText(text, subtype, settings.DEFAULT_CHARSET)
    # The text is sent as UTF-8 (its charset parameter says so); the other
    # parameters follow it unquoted, as RFC 5545 section 8.1 writes them.
    for name, value in (header.get_params() or [])[1:]:
        if name.lower() != "charset":
            part.set_param(name, str(value), requote=False)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def _from_address(practice_email: str) -> str:
    # The envelope sender stays the configured DEFAULT_FROM_EMAIL address (the
    # domain the mail server is allowed to send for); the practice's name is
    # what readers see.
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or practice_email
