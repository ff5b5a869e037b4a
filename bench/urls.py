"""The app's URLs plus bare Django pages: the baselines benchmarks divide by."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from practice.urls import urlpatterns as practice_urlpatterns


class BareForm(forms.Form):
    email = forms.EmailField()


def bare_page(request: HttpRequest) -> HttpResponse:
    return render(request, "bench/bare.html", {"title": "Bare page"})


@login_required
def bare_signed_in(request: HttpRequest) -> HttpResponse:
    """A bare page behind the login, through the same middleware as the portal:
    the baseline of a signed-in client's page (its frame is the site's base.html)."""
    return render(request, "bench/bare_signed_in.html")


@login_required
def bare_signed_in_audited(request: HttpRequest) -> HttpResponse:
    """The bare signed-in page writing the one audit line every view of a record must.

    The floor of any audited page (the portal's home among them): the same
    frame as ``bare_signed_in``, plus ``audit_record``'s insert as a portal
    view writes it (made durable by the session's save that follows).
    """
    from practice.models import AuditEvent
    from practice.services import audit_record

    audit_record(
        actor=request.user,  # type: ignore[arg-type]
        action=AuditEvent.Action.VIEW,
        obj=request.user,
        request=request,
        durable_with_session=True,
    )
    return render(request, "bench/bare_signed_in.html")


def bare_form(request: HttpRequest) -> HttpResponse:
    form = BareForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return redirect("bench_bare_form")
    return render(request, "bench/bare_form.html", {"form": form})


def bare_form_write(request: HttpRequest) -> HttpResponse:
    """The bare form that also writes one row and waits for its durable commit.

    The limit for any sign-up that must keep what it was given: the sign-up
    bench reports its ratio to this page too.
    """
    form = BareForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_write (email) VALUES (%s)", [form.cleaned_data["email"]]
            )
        return redirect("bench_bare_form")
    return render(request, "bench/bare_form.html", {"form": form})


def bare_form_subscribe(request: HttpRequest) -> HttpResponse:
    """The bare form handing its address to the sign-up service itself.

    No sign-up form (first name, page, honeypot), no client address or user
    agent: what the service's writes cost (a new reader and her
    confirmation's outbox row, one statement, one durable commit) against
    the one bare row of ``bare_form_write``. The sign-up bench's floor.
    """
    from newsletter.services import subscriber_subscribe

    form = BareForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        subscriber_subscribe(email=form.cleaned_data["email"])
        return redirect("bench_bare_form")
    return render(request, "bench/bare_form.html", {"form": form})


urlpatterns = [
    path("bench/bare/", bare_page, name="bench_bare"),
    path("bench/bare-signed-in/", bare_signed_in, name="bench_bare_signed_in"),
    path(
        "bench/bare-signed-in-audited/",
        bare_signed_in_audited,
        name="bench_bare_signed_in_audited",
    ),
    path("bench/bare-form/", bare_form, name="bench_bare_form"),
    path("bench/bare-form-write/", bare_form_write, name="bench_bare_form_write"),
    path("bench/bare-form-subscribe/", bare_form_subscribe, name="bench_bare_form_subscribe"),
    *practice_urlpatterns,
]

handler400 = "practice.views.bad_request"
handler403 = "practice.views.permission_denied"
handler404 = "practice.views.page_not_found"
handler500 = "practice.views.server_error"
