"""The therapist's private calendar feed: every appointment, for her own calendar app.

Google Calendar and Apple Calendar subscribe to ``/calendar/feed/<token>.ics``
and fetch it again every so often. The token is the only key (a calendar app
cannot log in), so it is long (``secrets.token_urlsafe(32)``, 256 bits), only
its SHA-256 is stored, it is shown once when it is made, at most one is active,
and she can revoke or replace it from the admin (``CalendarFeedTokenAdmin``).
A wrong, old or revoked token gets the site's ordinary 404, the same page as
any unknown address, so the answer says nothing about which tokens existed.

What the feed says, and what it never says: each appointment from 30 days
back to 90 days ahead, titled by the person's initials and a neutral word
("J.D. - session", "J.D. - consultation", "Time off"); its location is only
"Phone", "Video" or the practice's address; cancelled ones stay, with
``STATUS:CANCELLED``, so a calendar that held them drops them. No name, no
kind of session (a medicine session is "session"), no note, no link to join:
the feed ends up on a phone, in a calendar provider's servers and perhaps a
shared family calendar. Each event keeps the UID of the portal's download of
the same appointment (``appointment-<id>@<host>``, ``ics.appointment_ics``).

Serving it is cheap: the token lookup is one query; the file is built with a
constant number of queries (the appointments with their client, then one per
kind's display hook) and kept in the shared cache under the calendar's
generation (``cache.py``), so any booking, move or cancellation makes a new
one, and otherwise it is kept for the day. While Redis is away the generation
is fresh on every call and the file is built each time: slower, never wrong
and never an error. Fetches are not audited (the feed is the therapist's own
calendar, not a client's record); they are rate limited per address.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event

from practice.discretion import discretion_words_in
from practice.identity import practice_profile
from practice.ratelimit import rate_limited

from .cache import calendar_generation, memo_get
from .display import AppointmentWith, appointments_with
from .ics import calendar_host
from .models import Appointment, AppointmentKind, CalendarFeedToken, MeetingMode

__all__ = [
    "FEED_AHEAD",
    "FEED_BEHIND",
    "calendar_feed",
    "calendar_feed_content",
    "calendar_feed_token_create",
    "calendar_feed_token_find",
    "calendar_feed_token_revoke",
    "calendar_feed_url",
    "feed_summary",
    "initials",
]

FEED_BEHIND = timedelta(days=30)
FEED_AHEAD = timedelta(days=90)
# The file is kept for its day; a change of the calendar makes a new key.
FEED_CACHE_SECONDS = 24 * 60 * 60
# A fetch stamps ``last_used_at`` at most this often (one write an hour,
# not one per fetch).
LAST_USED_PRECISION = timedelta(hours=1)

NEUTRAL_KIND = {
    AppointmentKind.CONSULTATION: "consultation",
    AppointmentKind.PREPARATION: "session",
    AppointmentKind.DOSING: "session",
    AppointmentKind.INTEGRATION: "session",
    AppointmentKind.CHECK_IN: "session",
}
TIME_OFF = "Time off"
MODE_LOCATION = {MeetingMode.PHONE: "Phone", MeetingMode.VIDEO: "Video"}
CALENDAR_NAME = "Practice appointments"


# --- The token -------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic(durable=True)
def calendar_feed_token_create(*, now: datetime | None = None) -> str:
    """Make a new subscription token and return it (the only time it is seen in clear).

    Side effects: the active token, if any, is revoked (its link stops working
    at once) and a new :class:`CalendarFeedToken` row holds the new one's SHA-256.
    Two made at the same moment: the database keeps one active
    (``practice_calendarfeedtoken_one_active``) and the other raises.
    """
    now = now or timezone.now()
    CalendarFeedToken.objects.active().update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    CalendarFeedToken.objects.create(token_sha256=_digest(token), created_at=now)
    return token


@transaction.atomic(durable=True)
def calendar_feed_token_revoke(*, now: datetime | None = None) -> int:
    """Turn the subscription link off; return how many tokens were active (0 or 1).

    Side effect: the active token's ``revoked_at`` is stamped. Her calendar app
    keeps what it last fetched until she removes the subscription.
    """
    return CalendarFeedToken.objects.active().update(revoked_at=now or timezone.now())


def calendar_feed_token_find(token: str) -> CalendarFeedToken | None:
    """The active token row for ``token``, or ``None`` (unknown, old or revoked): one query."""
    if not token:
        return None
    return CalendarFeedToken.objects.active().filter(token_sha256=_digest(token)).first()


def calendar_feed_url(token: str) -> str:
    """The full subscription address of ``token``, as a calendar app is given it."""
    return settings.SITE_URL + reverse("calendar_feed", args=[token])


# --- What the feed says -------------------------------------------------------------------


def initials(name: str) -> str:
    """'J.D.' for 'Jane Doe' (first and last word); 'J.' for one word; '' for none."""
    letters = [next((c for c in word if c.isalpha()), "") for word in name.split()]
    letters = [letter.upper() for letter in letters if letter]
    if not letters:
        return ""
    picked = letters[:1] if len(letters) == 1 else [letters[0], letters[-1]]
    return "".join(f"{letter}." for letter in picked)


def feed_summary(appointment: Appointment, shown: AppointmentWith | None) -> str:
    """The event's title: "J.D. - session", "Consultation", "Time off".

    Initials only when the display hook named a person (an answer with a link
    to her record); otherwise its name is a placeholder ("No one linked", a
    title the therapist typed), which the feed never repeats.
    """
    if appointment.kind == AppointmentKind.BLOCKED:
        return TIME_OFF
    kind = NEUTRAL_KIND.get(AppointmentKind(appointment.kind), "appointment")
    person = initials(shown.name) if shown is not None and shown.record_url else ""
    return f"{person} - {kind}" if person else kind.capitalize()


def _discreet(text: str, fallback: str) -> str:
    return fallback if discretion_words_in(text) else text


def _location(appointment: Appointment, address: str) -> str:
    if appointment.kind == AppointmentKind.BLOCKED:
        return ""
    if appointment.mode == MeetingMode.IN_PERSON:
        return address or "In person"
    return MODE_LOCATION.get(MeetingMode(appointment.mode), "") if appointment.mode else ""


def _window(now: datetime) -> tuple[datetime, datetime]:
    """From 30 days before today's start (UTC) to 90 days after tomorrow's: fixed for the day."""
    day_start = datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)
    return day_start - FEED_BEHIND, day_start + timedelta(days=1) + FEED_AHEAD


def _feed_appointments(start: datetime, end: datetime) -> Sequence[Appointment]:
    return list(
        Appointment.objects.filter(start__gte=start, start__lt=end)
        .select_related("client")
        .only(
            "id",
            "kind",
            "status",
            "start",
            "end",
            "mode",
            "title",
            "client_id",
            "rescheduled_to_id",
            "created_at",
            "status_changed_at",
            "client__id",
            "client__first_name",
            "client__last_name",
            "client__phone",
        )
        .order_by("start", "id")
    )


def _address() -> str:
    profile = practice_profile()
    address = profile.postal_address if profile.street_address else ""
    return _discreet(address, "In person")


def build_calendar_feed(*, now: datetime) -> bytes:
    """The feed's VCALENDAR for the window around ``now`` (uncached; see the module)."""
    start, end = _window(now)
    appointments = _feed_appointments(start, end)
    shown = appointments_with(appointments)
    address = _address()
    host = calendar_host()
    calendar = Calendar()
    calendar.add("prodid", f"-//{host}//Calendar feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", CALENDAR_NAME)
    # Apple Calendar reads X-PUBLISHED-TTL; RFC 7986 names REFRESH-INTERVAL.
    calendar.add("x-published-ttl", "PT15M")
    refresh = timedelta(minutes=15)
    calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    for appointment in appointments:
        calendar.add_component(
            _event(appointment, shown.get(appointment.pk), address=address, host=host)
        )
    return bytes(calendar.to_ical())


def _event(
    appointment: Appointment, shown: AppointmentWith | None, *, address: str, host: str
) -> Event:
    cancelled = appointment.status == Appointment.Status.CANCELLED
    # No METHOD in a subscribed feed, so DTSTAMP is the event's last revision
    # (RFC 5545 section 3.8.7.2): the same bytes until the row changes.
    changed = (appointment.status_changed_at or appointment.created_at).astimezone(UTC)
    event = Event()
    event.add("uid", f"appointment-{appointment.pk}@{host}")
    event.add("sequence", 1 if cancelled else 0)
    event.add("dtstamp", changed)
    event.add("last-modified", changed)
    event.add("created", appointment.created_at.astimezone(UTC))
    event.add("dtstart", appointment.start.astimezone(UTC))
    event.add("dtend", appointment.end.astimezone(UTC))
    event.add("summary", feed_summary(appointment, shown))
    location = _location(appointment, address)
    if location:
        event.add("location", location)
    event.add("class", "PRIVATE")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def _cache_key(now: datetime) -> str:
    profile = practice_profile()
    # The address and host are in the file but outside the calendar's
    # generation: a change of either makes a new key too.
    extra = hashlib.sha256(f"{profile.postal_address}|{calendar_host()}".encode()).hexdigest()
    day = now.astimezone(UTC).strftime("%Y%m%d")
    return ":".join(["calendar", calendar_generation(), "feed", day, extra[:16]])


def calendar_feed_content(*, now: datetime | None = None) -> bytes:
    """The feed's bytes, from the cache while the calendar has not changed today."""
    now = now or timezone.now()
    key = _cache_key(now)
    content = memo_get(key)
    if isinstance(content, bytes):
        return content
    content = build_calendar_feed(now=now)
    cache.set(key, content, FEED_CACHE_SECONDS)
    return content


# --- The view ---------------------------------------------------------------------------


def _note_use(feed_token: CalendarFeedToken, now: datetime) -> None:
    last = feed_token.last_used_at
    if last is None or now - last >= LAST_USED_PRECISION:
        CalendarFeedToken.objects.filter(pk=feed_token.pk).update(last_used_at=now)


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """``/calendar/feed/<token>.ics``: the feed, or the site's 404 for any other token."""
    if rate_limited(request, "calendar_feed"):
        return HttpResponse("Too many requests.", status=429, content_type="text/plain")
    feed_token = calendar_feed_token_find(token)
    if feed_token is None:
        raise Http404("No such page.")
    now = timezone.now()
    _note_use(feed_token, now)
    response = HttpResponse(
        calendar_feed_content(now=now), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="appointments.ics"'
    # Only her calendar app keeps a copy; no proxy or browser cache may.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
