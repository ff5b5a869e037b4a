from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "consultations"
    verbose_name = "Free consultations"

    def ready(self) -> None:
        # Registers the consultation emails and the consultation reminder
        # with the outbox (practice.outbox.kinds).
        from . import emails

        del emails
