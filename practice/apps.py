from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "practice"
    verbose_name = "Practice"

    def ready(self) -> None:
        # The core's parts that live in modules of their own register here,
        # in one visible place: signal receivers, the core's email kinds (the
        # portal invitation), the calendar's cache invalidation, the admin
        # pages of the calendar and the outbox, and their panels on the Today
        # page, and the private files (their admin, their panel on a client's
        # page, and the check that no served folder holds them).
        # (Their Celery tasks are named in CELERY_IMPORTS.)
        from . import (
            admin_documents,
            audit_panels,  # the audit trail on Today and her access history
            document_panel,
            emails,
            private_files,
            sessions,
            signals,
        )
        from .calendar import admin as calendar_admin
        from .calendar import cache as calendar_cache
        from .calendar import dashboard as calendar_dashboard
        from .outbox import admin as outbox_admin
        from .outbox import dashboard as outbox_dashboard

        del (
            admin_documents,
            audit_panels,
            document_panel,
            emails,
            private_files,
            sessions,
            signals,
            calendar_admin,
            calendar_dashboard,
            outbox_admin,
            outbox_dashboard,
        )
        calendar_cache.connect_signals()
