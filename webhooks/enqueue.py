"""Enqueue the sender after commit, by its stable name, on the webhooks queue (config/celery.py).

A lost message only delays calls: they are rows, and the beat runs the sender every
WEBHOOK_SWEEP_SECONDS.
"""

from django.db import transaction

from config.celery import app

QUEUE = "webhooks"
DERIVE_EVENTS = "webhooks.derive_events"
SEND_CALLS = "webhooks.send_calls"


def enqueue_send() -> None:
    transaction.on_commit(lambda: app.send_task(SEND_CALLS, queue=QUEUE), robust=True)
