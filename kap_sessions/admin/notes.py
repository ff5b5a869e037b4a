"""Session notes and psychotherapy notes: drafts edited here, signed with a button, then locked.

A draft is saved through ``note_save``; "Sign" (``note_sign``) makes it
final: from then on its page is read-only (a POST to it is refused) and
shows its addenda, dated, with a form for another (``note_addendum_add``).
Every opening of a note is audited (``AuditedAdminMixin``); saves, signatures
and addenda are audited by their services.

Psychotherapy notes are kept apart from her record: their pages and list
answer only staff holding ``kap_sessions.view_psychotherapynote`` (even a
change permission alone does not open them), no other page links to them,
and exports leave them out unless asked for (``notes_for_export``).

``admin:kap_sessions_sessionnote_for_session`` (a session's id) opens the
session's note, or the form for a new one: the session pages link there.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime

from practice.admin_actions import admin_actor
from practice.admin_audit import AuditedAdminMixin
from practice.admin_site import Section
from practice.models import Client, User

from ..models import CourseSession, PsychotherapyNote, SessionNote
from ..services.notes import Note, note_addendum_add, note_save, note_sign

PSYCHOTHERAPY_PERMISSION = "kap_sessions.view_psychotherapynote"


class NoteState(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("draft", "Draft"), ("signed", "Signed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "draft":
            return queryset.filter(signed_at__isnull=True)
        if self.value() == "signed":
            return queryset.filter(signed_at__isnull=False)
        return queryset


class NoteAdminBase(AuditedAdminMixin):
    """What both kinds of note share: drafts through ``note_save``, "Sign", addenda."""

    workspace_section = Section.CLIENTS
    change_form_template = "kap_sessions/admin/note_change_form.html"
    list_display = ["__str__", "client", "session", "held_on", "state", "signed_at"]
    list_filter = [NoteState]
    search_fields = [
        "session__course__client__first_name",
        "session__course__client__last_name",
        "session__course__client__email",
    ]
    list_select_related = ["session__course__client", "session__appointment"]
    raw_id_fields = ["session"]
    ordering = ["-session__appointment__start", "-id"]
    # Shown above the content; "state" says when it was signed.
    META_FIELDS: ClassVar[tuple[str, ...]] = ("her_session", "state", "author", "updated_at")
    SIGNED_META_FIELDS: ClassVar[tuple[str, ...]] = (
        "her_session",
        "state",
        "signed_by",
        "author",
        "created_at",
        "updated_at",
    )
    # The model's content fields, in the form's order.
    content_fields: ClassVar[tuple[str, ...]] = ()
    url_name: ClassVar[str] = ""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .select_related(
                "session__course__client", "session__appointment", "author", "signed_by"
            )
        )

    def audit_client(self, obj: object) -> Client | None:
        if isinstance(obj, SessionNote | PsychotherapyNote):
            return obj.session.course.client
        return None

    # --- Fields: the content while a draft, everything read-only once signed ---

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        if obj is None:
            return ["session", *self.content_fields]
        if obj.is_signed:
            return [*self.SIGNED_META_FIELDS, *self.content_fields]
        return [*self.META_FIELDS, *self.content_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        if obj is None:
            return []
        if obj.is_signed:
            return [*self.SIGNED_META_FIELDS, *self.content_fields]
        return list(self.META_FIELDS)

    # --- Permissions: a signed note is never changed or deleted here ---

    def may_write(self, request: HttpRequest) -> bool:
        """May sign notes of this kind and add addenda to them (the model's change permission)."""
        return super().has_change_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_signed:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # part of her record: a draft is corrected, a signed note amended

    # --- Saving through the service ---

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        note_save(note=obj, actor=admin_actor(request))

    # note_save writes the audit line of a save; these keep Django's own
    # history entry without writing a second audit line.
    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return admin.ModelAdmin.log_addition(self, request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return admin.ModelAdmin.log_change(self, request, obj, message)

    # --- Read-only displays ---

    @admin.display(description="Client", ordering="session__course__client__last_name")
    def client(self, note: Note) -> Client:
        return note.session.course.client

    @admin.display(description="Held on", ordering="session__appointment__start")
    def held_on(self, note: Note) -> str:
        return date_format(localtime(note.session.appointment.start), "M j, Y")

    @admin.display(description="State")
    def state(self, note: Note) -> str:
        if note.signed_at is None:
            return "Draft"
        return f"Signed on {date_format(localtime(note.signed_at), 'M j, Y, g:i a')}"

    @admin.display(description="Session")
    def her_session(self, note: Note) -> str:
        session = note.session
        return format_html(
            "{} on {} · {}",
            session,
            date_format(localtime(session.appointment.start), "M j, Y, g:i a"),
            session.course.client.full_name,
        )

    # --- The change page: "Sign", the addenda and their form ---

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk is not None:
            may_write = self.may_write(request)
            context["note"] = obj
            context["sign_url"] = (
                reverse(f"admin:{self.url_name}_sign", args=[obj.pk])
                if may_write and not obj.is_signed
                else ""
            )
            context["addendum_url"] = (
                reverse(f"admin:{self.url_name}_addendum", args=[obj.pk])
                if may_write and obj.is_signed
                else ""
            )
            context["addenda"] = list(obj.addenda.select_related("author"))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self) -> list[URLPattern]:
        # Before the inherited patterns, whose "<object_id>/" would take these.
        return [
            path(
                "<path:object_id>/sign/",
                self.admin_site.admin_view(self.sign_view),
                name=f"{self.url_name}_sign",
            ),
            path(
                "<path:object_id>/addendum/",
                self.admin_site.admin_view(self.addendum_view),
                name=f"{self.url_name}_addendum",
            ),
            path(
                "for-session/<int:session_id>/",
                self.admin_site.admin_view(self.for_session_view),
                name=f"{self.url_name}_for_session",
            ),
            *super().get_urls(),
        ]

    def _note_to_write(self, request: HttpRequest, object_id: str) -> Any:
        if not self.may_write(request):
            raise PermissionDenied
        note = self.get_object(request, unquote(object_id))
        if note is None:
            raise Http404("No such note.")
        return note

    def _change_page(self, note: Model) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse(f"admin:{self.url_name}_change", args=[note.pk]))

    def sign_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST: sign the note as last saved (``note_sign``); then back to its page."""
        note = self._note_to_write(request, object_id)
        if request.method != "POST":
            return self._change_page(note)
        try:
            note_sign(note=note, actor=_staff(request))
        except ValidationError as exc:
            self.message_user(request, exc.messages[0], messages.WARNING)
        else:
            self.message_user(
                request,
                "The note is signed. It can no longer change; add an addendum to correct it.",
                messages.SUCCESS,
            )
        return self._change_page(note)

    def addendum_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST ``text``: add a dated addendum to the signed note; then back to its page."""
        note = self._note_to_write(request, object_id)
        if request.method != "POST":
            return self._change_page(note)
        try:
            note_addendum_add(note=note, text=request.POST.get("text", ""), actor=_staff(request))
        except ValidationError as exc:
            self.message_user(request, exc.messages[0], messages.ERROR)
        else:
            self.message_user(request, "The addendum is added, dated today.", messages.SUCCESS)
        return self._change_page(note)

    def for_session_view(self, request: HttpRequest, session_id: int) -> HttpResponse:
        """The session's note if it has one, else the form for a new one."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        note = self.model.objects.filter(session_id=session_id).only("pk").first()
        if note is not None:
            return self._change_page(note)
        if not CourseSession.objects.filter(pk=session_id).exists():
            raise Http404("No such session.")
        if not self.has_add_permission(request):
            raise PermissionDenied
        add = reverse(f"admin:{self.url_name}_add")
        return HttpResponseRedirect(f"{add}?session={session_id}")


def _staff(request: HttpRequest) -> User:
    actor = admin_actor(request)
    if actor is None:
        raise PermissionDenied
    return actor


@admin.register(SessionNote)
class SessionNoteAdmin(NoteAdminBase):
    """The progress note of each session: part of her record."""

    content_fields = SessionNote.CONTENT_FIELDS
    url_name = "kap_sessions_sessionnote"


@admin.register(PsychotherapyNote)
class PsychotherapyNoteAdmin(NoteAdminBase):
    """The therapist's process notes: only for staff allowed to see them, kept out of her record."""

    content_fields = PsychotherapyNote.CONTENT_FIELDS
    url_name = "kap_sessions_psychotherapynote"

    # Every door requires the view permission of psychotherapy notes, in
    # addition to the one it asks for (Django lets a change permission
    # alone view a model).
    def _allowed(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(PSYCHOTHERAPY_PERMISSION))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request) and super().has_change_permission(request, obj)

    def may_write(self, request: HttpRequest) -> bool:
        return self._allowed(request) and super().may_write(request)
