"""Celery tasks of the webhooks, on the webhooks queue: thin wrappers around the services.

Both are idempotent (the derivation's cursor and unique calls, the sender's leased claims), hence
safe with `acks_late`; only named transient errors are retried (workflow.tasks.RETRY).
"""

import logging

from celery import shared_task

from webhooks import services
from webhooks.enqueue import DERIVE_EVENTS, SEND_CALLS
from workflow.tasks import RETRY

logger = logging.getLogger(__name__)


@shared_task(name=DERIVE_EVENTS, **RETRY)
def derive_events_task() -> int:
    return services.webhook_events_derive()


@shared_task(name=SEND_CALLS, **RETRY)
def send_calls_task() -> dict:
    counts = services.webhook_deliveries_send()
    if any(counts.values()):
        logger.info("webhook calls %s", counts)
    return counts
