"""Celery tasks of the exchange: thin wrappers around exchange.outgoing. Both are idempotent (a
consignment is claimed by a conditional UPDATE before it is posted), hence safe with acks_late."""

from celery import shared_task

from exchange import outgoing
from workflow.tasks import RETRY


@shared_task(name=outgoing.SEND_CONSIGNMENT, **RETRY)
def send_consignment_task(outgoing_id: int) -> str | None:
    return outgoing.consignment_send(outgoing_id=outgoing_id)


@shared_task(name=outgoing.SWEEP, **RETRY)
def sweep_task() -> int:
    return outgoing.consignments_sweep()
