from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from .admin_audit import AuditedAdminMixin
from .admin_mixins import ReadOnlyAdminMixin
from .models import AuditEvent, Client, PracticeProfile, User, WorkerHeartbeat


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Name", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(PracticeProfile)
class PracticeProfileAdmin(admin.ModelAdmin):
    fieldsets = (
        ("The practice", {"fields": ("practice_name", "tagline", "time_zone", "terms_version")}),
        (
            "The therapist",
            {
                "fields": (
                    "therapist_name",
                    "therapist_credentials",
                    "license_number",
                    "therapist_bio",
                )
            },
        ),
        (
            "Contact",
            {
                "fields": (
                    "phone",
                    "email",
                    "street_address",
                    "locality",
                    "region",
                    "postal_code",
                    "country",
                )
            },
        ),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not PracticeProfile.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Client)
class ClientAdmin(AuditedAdminMixin):
    list_display = ["full_name", "email", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["first_name", "last_name", "preferred_name", "email"]
    readonly_fields = ["created_at", "updated_at"]
    raw_id_fields = ["user"]
    fieldsets = (
        (None, {"fields": ("first_name", "last_name", "preferred_name", "status")}),
        ("Contact", {"fields": ("email", "phone", "date_of_birth")}),
        ("Portal", {"fields": ("user",)}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id", "client", "ip_address"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "actor__email"]
    date_hierarchy = "at"
    list_select_related = ["actor", "client"]
    # The log is append-only: nobody edits or deletes it from the admin.


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Written by the workers themselves; /healthz reads only the newest.
    list_display = ["hostname", "seen_at"]
