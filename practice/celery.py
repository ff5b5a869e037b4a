"""The Celery app. Configuration comes from Django settings (``CELERY_*``)."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "practice.settings")

app = Celery("practice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _beat_on_start(sender, **kwargs):  # type: ignore[no-untyped-def]
    # Record a heartbeat as soon as the worker is up, so /healthz does not
    # report it down until the first scheduled beat. (Imported here: this
    # module is loaded before Django is set up, when no model can be.)
    from practice.services import worker_heartbeat_record

    worker_heartbeat_record(hostname=sender.hostname)
