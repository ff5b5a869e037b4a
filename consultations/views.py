"""The public pages of the free consultation: book, confirmation, manage, waitlist.

Views are thin: they pick the time zone, show slots, and hand valid input to
the services. Every failure a person can cause (a taken slot, a tampered
field, a dead link, too many tries) ends on a page that says what happened.
Every view that takes a form marks its POST fields and the variables of every
frame below it sensitive, so an error report (Django's, or any reporter that
uses its filter) never carries her intake answers or contact details.
"""

from __future__ import annotations

import json
import re
import uuid
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_safe

from practice.calendar.cache import cached_slots, calendar_cache_key, memo_get, memo_set
from practice.calendar.slots import kind_settings
from practice.forms import HONEYPOT_FIELD, error_summary
from practice.identity import practice_profile
from practice.models import Appointment, AppointmentKind
from practice.pagecache import render_with_holes
from practice.ratelimit import rate_limited

from .forms import (
    SLOT_GONE,
    BookingForm,
    CancelForm,
    RescheduleForm,
    WaitlistForm,
)
from .links import manage_link_resolve
from .models import Consultation
from .picker import picker_context
from .services import (
    Booking,
    SlotUnavailable,
    consultation_book,
    consultation_rebook_submission,
    consultation_reschedule,
    consultation_transition,
    waitlist_join,
)
from .zones import zone_label, zone_or_none

SESSION_BOOKED = "consultation_booked"

# The summary's link for a time not chosen (or gone) leads to the picker.
PICKER_ANCHORS = {"start": "slot-picker"}


def _visitor_zone(request: HttpRequest, fallback: str | None = None) -> ZoneInfo:
    return (
        zone_or_none(request.GET.get("tz"))
        or zone_or_none(request.POST.get("time_zone"))
        or zone_or_none(fallback)
        or practice_profile().zone
    )


def _render_book(
    request: HttpRequest,
    form: BookingForm,
    zone: ZoneInfo,
    *,
    status: int = 200,
    notice: str = "",
) -> HttpResponse:
    context = {
        "form": form,
        "settings_for_kind": kind_settings(AppointmentKind.CONSULTATION),
        "waitlist_form": WaitlistForm(initial={"time_zone": zone.key}),
        "notice": notice,
        "errors": error_summary(form, anchors=PICKER_ANCHORS) if form.is_bound else [],
        "chosen": form.data.get("start", "") if form.is_bound else "",
        **picker_context(request, zone, fresh=form.is_bound),
    }
    return render(request, "consultations/book.html", context, status=status)


# The blank booking page is the same for every visitor in one zone and minute
# but for two values: the CSRF token and the form's idempotency key, which are
# holes filled per request. The key holds the calendar's cache key (its
# generation and the minute), so a booking leaves the page as soon as it
# leaves the slot list.
SUBMISSION_HOLE = "00000000-0000-4000-8000-00000000f111"


def _blank_book_page(request: HttpRequest, zone: ZoneInfo) -> HttpResponse:
    page_from = request.GET.get("from", "")
    page_from = page_from if re.fullmatch(r"\d{4}-\d{2}-\d{2}", page_from) else ""

    def context() -> dict[str, object]:
        return {
            "form": BookingForm(initial={"submission_id": SUBMISSION_HOLE, "time_zone": zone.key}),
            "settings_for_kind": kind_settings(AppointmentKind.CONSULTATION),
            "waitlist_form": WaitlistForm(initial={"time_zone": zone.key}),
            "notice": "",
            "errors": [],
            "chosen": "",
            **picker_context(request, zone),
        }

    return render_with_holes(
        request,
        "consultations/book.html",
        context,
        key=calendar_cache_key("book-page", zone.key, page_from),
        holes={SUBMISSION_HOLE: lambda: str(uuid.uuid4())},
        # The key changes with the minute anyway.
        max_age=60,
    )


@sensitive_post_parameters()
@require_http_methods(["GET", "HEAD", "POST"])
@sensitive_variables()
def book(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _blank_book_page(request, _visitor_zone(request))

    zone = _visitor_zone(request)
    form = BookingForm(request.POST)
    if form.is_bot:
        # Bots get what looks like success, so they learn nothing to adapt to.
        return render(request, "consultations/received.html")
    # A second copy of a form that already booked (double click, back and
    # resubmit) lands on the same confirmation, before its slot is re-checked.
    earlier = consultation_rebook_submission(submission_id=request.POST.get("submission_id"))
    if earlier is not None:
        return _confirm(request, earlier)
    if not form.is_valid():
        _repair_hidden_fields(form, zone)
        if form.has_error("start") and SLOT_GONE in form.errors["start"]:
            return _render_book(request, form, zone, status=409)
        return _render_book(request, form, zone, status=400)
    if rate_limited(request, "consultation_book"):
        return _render_book(
            request,
            form,
            zone,
            status=429,
            notice=(
                "There have been many bookings from your network in the last hour, so this one "
                f"was not made. Please try again later, or call {practice_profile().phone}."
            ),
        )
    details = {k: v for k, v in form.cleaned_data.items() if k not in ("start", HONEYPOT_FIELD)}
    try:
        booking = consultation_book(
            start=form.cleaned_data["start"],
            details=details,
            submission_id=form.cleaned_data["submission_id"],
        )
    except SlotUnavailable:
        form.add_error("start", SLOT_GONE)
        return _render_book(request, form, zone, status=409)
    return _confirm(request, booking)


def _repair_hidden_fields(form: BookingForm, zone: ZoneInfo) -> None:
    # A tampered hidden field is reported once; the page she gets back carries
    # good values so her next press of the button can work.
    if form.has_error("submission_id") or form.has_error("time_zone"):
        data = dict(form.data.items())
        if form.has_error("submission_id"):
            data["submission_id"] = str(uuid.uuid4())
        if form.has_error("time_zone"):
            data["time_zone"] = zone.key
        form.data = data


def _confirm(request: HttpRequest, booking: Booking) -> HttpResponse:
    request.session[SESSION_BOOKED] = {"id": booking.consultation.pk, "token": booking.token}
    return redirect("consultations:booked")


@never_cache
@require_safe
def booked(request: HttpRequest) -> HttpResponse:
    held = request.session.get(SESSION_BOOKED) or {}
    consultation = Consultation.objects.with_appointment().filter(pk=held.get("id", 0)).first()
    if consultation is None:
        return redirect("consultations:book")
    return render(
        request,
        "consultations/booked.html",
        {
            "consultation": consultation,
            "local_start": consultation.local_start,
            "zone_label": zone_label(consultation.time_zone),
            "token": held.get("token", ""),
        },
    )


@require_safe
def slots_json(request: HttpRequest) -> HttpResponse:
    requested = request.GET.get("tz")
    zone = zone_or_none(requested) if requested else practice_profile().zone
    if zone is None:
        return JsonResponse(
            {"error": "Unknown time zone. Use an IANA name such as America/New_York."},
            status=400,
        )
    key = calendar_cache_key("slots-json", zone.key)
    body = memo_get(key)
    if body is None:
        slots = cached_slots(kind=AppointmentKind.CONSULTATION)
        body = json.dumps({"timezone": zone.key, "slots": [slot.isoformat() for slot in slots]})
        memo_set(key, body)
    response = HttpResponse(body, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


def _manage_response(
    request: HttpRequest, template: str, context: dict[str, object], status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    # The token in the address is a key: never cached, never sent to another
    # site. ("no-referrer" would also blank the Origin of her own form posts,
    # which the CSRF check then refuses.)
    response["Cache-Control"] = "no-store, private"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


def _manage_unknown(request: HttpRequest) -> HttpResponse:
    return _manage_response(request, "consultations/manage_unknown.html", {}, status=404)


def _manage_context(
    request: HttpRequest, consultation: Consultation, token: str
) -> tuple[ZoneInfo, dict[str, object]]:
    zone = _visitor_zone(request, fallback=consultation.time_zone)
    appointment = consultation.appointment
    return zone, {
        "consultation": consultation,
        "appointment": appointment,
        "token": token,
        "local_start": appointment.start.astimezone(zone),
        "zone": zone.key,
        "zone_label": zone_label(zone.key),
        "state": _state(consultation),
    }


def _to_manage(token: str) -> HttpResponse:
    return redirect("consultations:manage", token=token)


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    """Her booking as it stands, with "Reschedule" and "Cancel" leading to their own steps."""
    consultation = manage_link_resolve(token=token)
    if consultation is None:
        return _manage_unknown(request)
    if request.method == "POST":
        # A form from a page older than the reschedule and cancel steps: show
        # her booking as it stands; nothing changes without its own step.
        return _to_manage(token)
    _, context = _manage_context(request, consultation, token)
    return _manage_response(request, "consultations/manage.html", context)


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@sensitive_variables()
def manage_reschedule(request: HttpRequest, token: str) -> HttpResponse:
    """The picker for a new time; its POST moves the consultation."""
    consultation = manage_link_resolve(token=token)
    if consultation is None:
        return _manage_unknown(request)
    if _state(consultation) != "upcoming":
        # Cancelled, passed, or a second press after it moved on: the manage
        # page says how things stand.
        return _to_manage(token)
    appointment = consultation.appointment
    form = RescheduleForm(appointment_id=appointment.pk)
    status = 200
    if request.method == "POST":
        form = RescheduleForm(request.POST, appointment_id=appointment.pk)
        if form.is_valid():
            start = form.cleaned_data["start"]
            if start == appointment.start:
                # The second copy of a move that is already done (double click).
                return _to_manage(token)
            try:
                consultation_reschedule(consultation=consultation, start=start)
            except SlotUnavailable:
                form.add_error("start", SLOT_GONE)
            except ValidationError as exc:
                # It was cancelled or began while she chose.
                messages.info(request, exc.messages[0])
                return _to_manage(token)
            else:
                messages.success(
                    request, "Your consultation has moved. A new confirmation is on its way."
                )
                return _to_manage(token)
        status = 409 if form.has_error("start") else 400
    zone, context = _manage_context(request, consultation, token)
    context.update(
        form=form,
        errors=error_summary(form, anchors=PICKER_ANCHORS) if form.is_bound else [],
        chosen=form.data.get("start", "") if form.is_bound else "",
        **picker_context(request, zone, ignore_appointment_id=appointment.pk),
    )
    return _manage_response(request, "consultations/manage_reschedule.html", context, status)


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@sensitive_variables()
def manage_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """Asks "Cancel my call on ...?"; only the POST of "Yes, cancel" cancels."""
    consultation = manage_link_resolve(token=token)
    if consultation is None:
        return _manage_unknown(request)
    if _state(consultation) != "upcoming":
        # Already cancelled (a second press, another tab) or passed.
        return _to_manage(token)
    form = CancelForm()
    status = 200
    if request.method == "POST":
        form = CancelForm(request.POST)
        if form.is_valid():
            try:
                consultation_transition(
                    consultation=consultation,
                    to=Appointment.Status.CANCELLED,
                    by=Consultation.CancelledBy.CLIENT,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError:
                # Cancelled a moment ago from elsewhere: the page says so.
                return _to_manage(token)
            messages.success(request, "Your consultation is cancelled.")
            return _to_manage(token)
        status = 400
    _, context = _manage_context(request, consultation, token)
    context.update(form=form, errors=error_summary(form) if form.is_bound else [])
    return _manage_response(request, "consultations/manage_cancel.html", context, status)


def _state(consultation: Consultation) -> str:
    appointment = consultation.appointment
    if appointment.status == Appointment.Status.CANCELLED:
        return "cancelled"
    if appointment.status == Appointment.Status.BOOKED and appointment.start > timezone.now():
        return "upcoming"
    return "past"


@sensitive_post_parameters()
@require_http_methods(["GET", "HEAD", "POST"])
@sensitive_variables()
def waitlist(request: HttpRequest) -> HttpResponse:
    zone = _visitor_zone(request)
    if request.method != "POST":
        form = WaitlistForm(initial={"time_zone": zone.key})
        return render(request, "consultations/waitlist.html", {"form": form, "errors": []})
    form = WaitlistForm(request.POST)
    if form.is_bot:
        return render(request, "consultations/waitlist_done.html")
    if not form.is_valid():
        return render(
            request,
            "consultations/waitlist.html",
            {"form": form, "errors": error_summary(form)},
            status=400,
        )
    if rate_limited(request, "waitlist_join"):
        return render(
            request,
            "consultations/waitlist.html",
            {
                "form": form,
                "errors": [],
                "notice": "There have been many sign-ups from your network in the last hour. "
                "Please try again later.",
            },
            status=429,
        )
    waitlist_join(
        name=form.cleaned_data["name"],
        email=form.cleaned_data["email"],
        preferred_times=form.cleaned_data["preferred_times"],
        time_zone=form.cleaned_data["time_zone"],
    )
    # The same page whether she was already waiting or not.
    return render(request, "consultations/waitlist_done.html")
