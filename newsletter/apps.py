from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = "Newsletter and articles"

    def ready(self) -> None:
        # Registers the newsletter's emails with the outbox
        # (practice.outbox.kinds): the confirmation and the campaign test.
        from . import emails

        del emails
