from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "practice"
    verbose_name = "Practice"

    def ready(self) -> None:
        # The core's parts that live in modules of their own register here,
        # in one visible place: signal receivers, the calendar's cache
        # invalidation, and the admin pages of the calendar and the outbox.
        # (Their Celery tasks are named in CELERY_IMPORTS.)
        from . import signals
        from .calendar import admin as calendar_admin
        from .calendar import cache as calendar_cache
        from .outbox import admin as outbox_admin

        del signals, calendar_admin, outbox_admin
        calendar_cache.connect_signals()
