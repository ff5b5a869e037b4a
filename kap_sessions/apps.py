from django.apps import AppConfig


class KapSessionsConfig(AppConfig):
    name = "kap_sessions"
    verbose_name = "KAP courses"

    def ready(self) -> None:
        # Registers the KAP emails (the therapist's safety alert, "a document
        # is ready", "something is ready" for questionnaires) with the outbox
        # (practice.outbox.kinds), the KAP panels of a client's page in the
        # admin (practice.client_panels) and the open safety flags on the
        # Today page (practice.dashboard). course_emails registers the course
        # sessions' reminders (practice.calendar.reminders), "a short form is
        # ready" and the therapist's agenda of the day.
        from . import client_panels, course_emails, dashboard, emails

        del client_panels, course_emails, dashboard, emails
        # The course's parts of a client's export, purge and retention (practice.privacy).
        from . import privacy

        del privacy
        # Her portal home's kept reads go out of date on every save or delete
        # of a row it shows (services/portal_cache.py).
        from .services.portal_cache import connect_signals

        connect_signals()
