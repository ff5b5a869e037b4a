from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "consultations"
    verbose_name = "Free consultations"

    def ready(self) -> None:
        # Registers the consultation emails and the consultation reminder
        # with the outbox (practice.outbox.kinds), who a consultation's
        # appointment is with (practice.calendar.display), and the Today
        # page's panels (practice.dashboard).
        from . import dashboard, display, emails

        del dashboard, display, emails
        # Her consultations in a client's export and purge, and the
        # retention of requests never converted (practice.privacy).
        from . import privacy

        del privacy
