from celery import shared_task

from .services import reminder_dispatch_due


@shared_task(name="practice.calendar.dispatch_reminders")
def dispatch_reminders() -> int:
    """Run by beat every minute; see ``reminder_dispatch_due`` for the guarantees."""
    return reminder_dispatch_due()
