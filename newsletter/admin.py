"""The therapist's newsletter workspace: readers, articles, campaigns.

Every write goes through ``services``; these classes only collect input and
show results.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin

from practice.admin_audit import AuditedAdminMixin
from practice.admin_mixins import ReadOnlyAdminMixin
from practice.admin_site import Section
from practice.privacy_admin import erase_action

from . import services
from .emails import (
    CampaignContent,
    campaign_email,
    campaign_glance_words,
    campaign_inbox_line,
    campaign_preview_text,
)
from .forms import CampaignScheduleForm, ImportForm
from .models import Article, Campaign, Delivery, Subscriber, SubscriberExport
from .privacy import subscriber_erase

CONSENT_FIELDS = [
    "status",
    "source",
    "consent_at",
    "consent_page",
    "consent_terms_version",
    "consent_text_sha256",
    "consent_ip",
    "consent_user_agent",
    "consent_note",
    "confirmation_sent_at",
    "reminder_sent_at",
    "confirmed_at",
    "unsubscribed_at",
    "created_at",
]


@admin.register(Subscriber)
class SubscriberAdmin(AuditedAdminMixin):
    workspace_section = Section.NEWSLETTER
    list_display = ["email", "first_name", "status", "source", "consent_at", "confirmed_at"]
    list_filter = ["status", "source"]
    search_fields = ["email", "first_name"]
    date_hierarchy = "consent_at"
    fields = ["email", "first_name", *CONSENT_FIELDS]
    # The consent record is evidence: nobody edits it by hand.
    readonly_fields = ["email", *CONSENT_FIELDS]
    change_list_template = "newsletter/admin/subscriber_change_list.html"
    actions = [
        "unsubscribe_selected",
        # On her request: her row and her deliveries go, the audit line keeps the id only.
        erase_action(
            name="erase_selected",
            label="Erase the selected readers (on request)",
            erase=subscriber_erase,
            what="reader(s)",
            warning="their addresses, consent records and campaign deliveries.",
        ),
    ]
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Readers join through the double opt-in only (the form or an import).
        return False

    @admin.action(description="Unsubscribe the selected readers", permissions=["change"])
    def unsubscribe_selected(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        count = services.subscribers_unsubscribe(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} reader(s) unsubscribed.", messages.SUCCESS)

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("export.csv", wrap(self.export_view), name="newsletter_subscriber_export"),
            path("import/", wrap(self.import_view), name="newsletter_subscriber_import"),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest) -> HttpResponseBase:
        if not self.has_view_permission(request):
            raise PermissionDenied
        _, rows = services.subscribers_export(actor=request.user, request=request)  # type: ignore[arg-type]
        stamp = timezone.localtime().strftime("%Y-%m-%d")
        response = StreamingHttpResponse(services.rows_as_csv(rows), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="newsletter-readers-{stamp}.csv"'
        return response

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            report = services.subscribers_import(csv_text=form.cleaned_data["file"])
            self.message_user(
                request,
                f"{report.invited} address(es) invited to confirm; "
                f"{report.already_known} already known and left alone.",
                messages.SUCCESS,
            )
            for line, reason in report.rejected[:20]:
                self.message_user(request, f"Line {line} refused: {reason}.", messages.WARNING)
            if len(report.rejected) > 20:
                self.message_user(
                    request, f"{len(report.rejected) - 20} more lines refused.", messages.WARNING
                )
            return redirect("admin:newsletter_subscriber_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "title": "Import readers from a CSV file",
        }
        return TemplateResponse(request, "newsletter/admin/subscriber_import.html", context)


@admin.register(SubscriberExport)
class SubscriberExportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    workspace_section = Section.NEWSLETTER
    # The record of who took reader data out stays as it was written.
    list_display = ["created_at", "created_by", "rows"]
    list_select_related = ["created_by"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    workspace_section = Section.NEWSLETTER
    list_display = ["title", "status", "published_at", "author"]
    list_filter = ["status"]
    search_fields = ["title", "summary"]
    list_select_related = ["author"]
    prepopulated_fields = {"slug": ["title"]}
    raw_id_fields = ["author"]
    date_hierarchy = "published_at"
    fields = [
        "title",
        "slug",
        "summary",
        "body",
        "status",
        "published_at",
        "author",
        "image",
        "image_alt",
    ]
    actions = ["make_campaign"]

    def save_model(self, request: HttpRequest, obj: Article, form: Any, change: bool) -> None:
        if obj.author_id is None and not change:
            obj.author = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    @admin.action(description="Send this article: make a campaign", permissions=["change"])
    def make_campaign(
        self, request: HttpRequest, queryset: QuerySet[Article]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one article.", messages.WARNING)
            return None
        campaign = services.campaign_create_for_article(
            article=queryset.get(),
            actor=request.user,  # type: ignore[arg-type]
        )
        self.message_user(
            request, "Campaign drafted: preview it, send a test, then send.", messages.SUCCESS
        )
        return HttpResponseRedirect(reverse("admin:newsletter_campaign_change", args=[campaign.pk]))


def glance_warning(campaign: Campaign) -> str:
    """The warning for treatment words in what an inbox shows, or "" when none.

    Only while it can still be reworded (a draft, or scheduled and so
    unschedulable); once sending has started the warning could change nothing.
    """
    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
        return ""
    found = campaign_glance_words(campaign)
    if not found:
        return ""
    places = "; ".join(
        f"the {place} holds " + ", ".join(f"“{word}”" for word in words) for place, words in found
    )
    return (
        f"Seen at a glance: {places}. Anyone who looks at a shared inbox or a lock screen "
        "reads the subject and the preview text, so consider rewording them in general "
        "words; the email itself may still discuss the practice's work. "
        "You can save and send it as it is."
    )


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    workspace_section = Section.NEWSLETTER
    list_display = ["subject", "status", "scheduled_at", "progress_summary", "finished_at"]
    list_filter = ["status"]
    search_fields = ["subject"]
    list_select_related = ["article"]
    raw_id_fields = ["article"]
    change_form_template = "newsletter/admin/campaign_change_form.html"
    readonly_fields = [
        "preview_text",
        "status",
        "progress",
        "scheduled_at",
        "started_at",
        "finished_at",
        "test_sent_at",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                live_sent=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.SENT)),
                live_failed=Count(
                    "deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)
                ),
            )
        )

    def get_fields(self, request: HttpRequest, obj: Campaign | None = None) -> list[Any]:
        editable = ["subject", "article", "body"]
        if obj is None:
            return editable
        return [*editable, *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Campaign | None = None) -> list[str]:
        if obj is not None and obj.status not in (Campaign.Status.DRAFT,):
            # What went out (or is about to) is the record; it is not edited.
            return ["subject", "article", "body", *self.readonly_fields]
        return list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Campaign | None = None,
    ) -> HttpResponse:
        # What is saved is what would be sent, so the warning reads the stored
        # campaign (after "Save and continue editing" it reflects the edit).
        context["glance_warning"] = glance_warning(obj) if obj is not None else ""
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="preview text")
    def preview_text(self, obj: Campaign) -> str:
        return campaign_preview_text(obj) or "–"

    @admin.display(description="progress")
    def progress_summary(self, obj: Campaign) -> str:
        if obj.status == Campaign.Status.SENT:
            return f"{obj.sent_count} sent of {obj.recipients_total}, {obj.failed_count} failed"
        if obj.status != Campaign.Status.SENDING:
            return "–"
        total = obj.recipients_total if obj.recipients_total is not None else "…"
        return f"{obj.live_sent} sent of {total}, {obj.live_failed} failed"  # type: ignore[attr-defined]

    @admin.display(description="progress")
    def progress(self, obj: Campaign) -> str:
        if obj.status in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            return "Not sent yet."
        counts = services.campaign_progress(obj)
        total = obj.recipients_total if obj.recipients_total is not None else "…"
        text = f"{counts['sent']} sent of {total}, {counts['failed']} failed"
        if counts["skipped"]:
            text += f", {counts['skipped']} skipped (left before their turn)"
        if obj.status == Campaign.Status.SENT:
            return f"Finished: {text}."
        return f"Sending: {text}."

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/preview/", wrap(self.preview_view), name="newsletter_campaign_preview"),
            path(
                "<int:pk>/preview.html",
                wrap(self.preview_html_view),
                name="newsletter_campaign_preview_html",
            ),
            path(
                "<int:pk>/send-test/",
                wrap(self.send_test_view),
                name="newsletter_campaign_send_test",
            ),
            path("<int:pk>/send/", wrap(self.send_view), name="newsletter_campaign_send"),
            path(
                "<int:pk>/unschedule/",
                wrap(self.unschedule_view),
                name="newsletter_campaign_unschedule",
            ),
            *super().get_urls(),
        ]

    def _campaign(self, request: HttpRequest, pk: int, *, change: bool = False) -> Campaign:
        allowed = self.has_change_permission if change else self.has_view_permission
        if not allowed(request):
            raise PermissionDenied
        return get_object_or_404(Campaign.objects.select_related("article"), pk=pk)

    def _sample_email(self, request: HttpRequest, campaign: Campaign) -> Any:
        sample = Subscriber.objects.by_email(request.user.email).first() or Subscriber(  # type: ignore[union-attr]
            pk=0,
            email=request.user.email,  # type: ignore[union-attr]
            first_name=request.user.first_name,  # type: ignore[union-attr]
        )
        # As readers get it: the "[Test]" marks belong to the copy sent to her.
        return campaign_email(content=CampaignContent(campaign), subscriber=sample)

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = self._campaign(request, pk)
        message = self._sample_email(request, campaign)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": campaign,
            "title": f"Preview: {campaign.subject}",
            "message": message,
            "glance_warning": glance_warning(campaign),
            "inbox_line": campaign_inbox_line(campaign),
            "schedule_form": CampaignScheduleForm(),
        }
        return TemplateResponse(request, "newsletter/admin/campaign_preview.html", context)

    @xframe_options_sameorigin
    def preview_html_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = self._campaign(request, pk)
        html = self._sample_email(request, campaign).alternatives[0][0]
        response = HttpResponse(html)
        # The email's own <style> block is inline CSS, which the site's policy
        # forbids; this response shows only the therapist's sanitised content.
        response["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; "
            "frame-ancestors 'self'"
        )
        return response

    def send_test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST":
            return redirect("admin:newsletter_campaign_preview", pk)
        campaign = self._campaign(request, pk, change=True)
        services.campaign_send_test(campaign=campaign, to=request.user.email)  # type: ignore[union-attr]
        self.message_user(
            request,
            f"A test copy is on its way to {request.user.email}.",  # type: ignore[union-attr]
            messages.SUCCESS,
        )
        return redirect("admin:newsletter_campaign_preview", pk)

    def send_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST":
            return redirect("admin:newsletter_campaign_preview", pk)
        campaign = self._campaign(request, pk, change=True)
        form = CampaignScheduleForm(request.POST)
        if not form.is_valid():
            for error in form.errors.get("scheduled_at", []):
                self.message_user(request, str(error), messages.ERROR)
            return redirect("admin:newsletter_campaign_preview", pk)
        at = form.cleaned_data["scheduled_at"]
        try:
            campaign = services.campaign_send(campaign=campaign, at=at)
        except ValidationError as exc:
            self.message_user(request, exc.messages[0], messages.ERROR)
            return redirect("admin:newsletter_campaign_change", pk)
        if campaign.status == Campaign.Status.SCHEDULED:
            when = timezone.localtime(campaign.scheduled_at).strftime("%B %-d, %Y at %H:%M")
            self.message_user(request, f"Scheduled for {when}.", messages.SUCCESS)
        else:
            self.message_user(request, "Sending has started.", messages.SUCCESS)
        return redirect("admin:newsletter_campaign_change", pk)

    def unschedule_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST":
            return redirect("admin:newsletter_campaign_change", pk)
        campaign = self._campaign(request, pk, change=True)
        try:
            services.campaign_unschedule(campaign=campaign)
        except ValidationError as exc:
            self.message_user(request, exc.messages[0], messages.ERROR)
        else:
            self.message_user(request, "Back to draft; nothing will be sent.", messages.SUCCESS)
        return redirect("admin:newsletter_campaign_change", pk)
