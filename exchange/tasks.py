"""Celery tasks of the exchange: thin wrappers around exchange.outgoing and exchange.receipts. Each
is idempotent (a message is claimed by a conditional UPDATE before it is posted; receipts are
derived under a cursor, one per audit event), hence safe with acks_late."""

from celery import shared_task

from exchange import derive, outgoing
from workflow.tasks import RETRY


@shared_task(name=outgoing.SEND, **RETRY)
def send_task(kind: str, pk: int) -> str | None:
    return outgoing.message_send(kind=kind, pk=pk)


@shared_task(name=outgoing.SWEEP, **RETRY)
def sweep_task() -> dict:
    return {"derived": derive.exchange_derive(), "enqueued": outgoing.messages_sweep()}
