"""Every write of the newsletter: readers, their consent, campaigns.

Views, forms, admin actions and tasks call these functions and nothing else
that writes. One module per concern; this package re-exports the public
names, so ``from newsletter import services`` and
``from newsletter.services import X`` are the only imports callers need:

- ``readers``: sign-up, double opt-in, unsubscribe, erasure, a reader's data,
  tidying unconfirmed sign-ups, and ``subscriber_transition``.
- ``campaigns``: ``campaign_transition``, sending now or later, the test
  copy, dispatch, batches, finishing and progress.
- ``readers_csv``: the audited CSV export and the CSV import.

Transactions: entry points that callers run on their own (from a view, an
admin page or a task) are ``transaction.atomic(durable=True)``, so nesting
one inside another transaction by mistake fails at once instead of
stretching a lock or delaying its jobs. The transition functions stay plain
``atomic``: they always run inside their caller's transaction.

Queueing: imports go one way, tasks import services, and no service imports
``newsletter.tasks``. Emails to one person (the confirmation, the test copy)
are rows of the practice's outbox, written in the same transaction
(``practice.outbox.services.outbox_put``). Other work is queued by the
task's name with ``practice.queue.enqueue_on_commit("newsletter.<task>",
**ids)``, which publishes only once the transaction commits, so a
rolled-back write queues nothing.
"""

from .campaigns import (
    campaign_create_for_article,
    campaign_dispatch,
    campaign_finish,
    campaign_progress,
    campaign_send,
    campaign_send_batch,
    campaign_send_test,
    campaign_transition,
    campaign_unschedule,
    campaigns_dispatch,
)
from .readers import (
    email_normalise,
    subscriber_confirm,
    subscriber_data,
    subscriber_erase,
    subscriber_for_confirm_link,
    subscriber_for_token,
    subscriber_subscribe,
    subscriber_transition,
    subscriber_unsubscribe,
    subscribers_tidy_unconfirmed,
    subscribers_unsubscribe,
)
from .readers_csv import (
    EXPORT_HEADER,
    ImportReport,
    rows_as_csv,
    subscribers_export,
    subscribers_import,
)

__all__ = [
    "EXPORT_HEADER",
    "ImportReport",
    "campaign_create_for_article",
    "campaign_dispatch",
    "campaign_finish",
    "campaign_progress",
    "campaign_send",
    "campaign_send_batch",
    "campaign_send_test",
    "campaign_transition",
    "campaign_unschedule",
    "campaigns_dispatch",
    "email_normalise",
    "rows_as_csv",
    "subscriber_confirm",
    "subscriber_data",
    "subscriber_erase",
    "subscriber_for_confirm_link",
    "subscriber_for_token",
    "subscriber_subscribe",
    "subscriber_transition",
    "subscriber_unsubscribe",
    "subscribers_export",
    "subscribers_import",
    "subscribers_tidy_unconfirmed",
    "subscribers_unsubscribe",
]
