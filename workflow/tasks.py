"""Celery tasks: thin wrappers that load by id, call one service and own the retry policy.

All are idempotent, hence `acks_late` (set globally): a task whose worker dies runs again.
Only named transient errors are retried, with back-off and a cap; anything else is a bug and is
left to the log, and the sweep (whose attempt counts live in the database) decides what comes back.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from workflow import checkpoints, services
from workflow.audit import audit_verify
from workflow.receipt_audit import receipt_verify

logger = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
RETRY = {"autoretry_for": TRANSIENT, "retry_backoff": 2, "retry_backoff_max": 60, "max_retries": 8}


@shared_task(name="workflow.route_dispatch", **RETRY)
def route_dispatch_task(dispatch_id: int) -> None:
    services.dispatch_route(dispatch_id=dispatch_id)


@shared_task(name="workflow.notify_dispatch", **RETRY)
def notify_dispatch_task(dispatch_id: int) -> None:
    services.dispatch_notify(dispatch_id=dispatch_id)


@shared_task(name="workflow.sweep", **RETRY)
def sweep_task() -> dict:
    counts = services.dispatch_sweep()
    if any(counts.values()):
        logger.info("sweep re-enqueued %s", counts)
    return counts


@shared_task(name="workflow.remind_overdue", **RETRY)
def remind_overdue_task() -> dict:
    counts = services.delivery_remind_overdue()
    if any(counts.values()):
        logger.info("reminders sent %s", counts)
    return counts


@shared_task(name="workflow.remind_assignments", **RETRY)
def remind_assignments_task() -> int:
    reminded = services.assignment_remind_overdue()
    if reminded:
        logger.info("assignments reminded: %s", reminded)
    return reminded


@shared_task(name="workflow.email_notifications", **RETRY)
def email_notifications_task(dispatch_id: int | None = None, limit: int | None = None) -> int:
    return services.notification_email_send(dispatch_id=dispatch_id, limit=limit)


@shared_task(name="workflow.verify_audit", **RETRY)
def verify_audit_task() -> dict:
    receipts = receipt_verify()
    for line in receipts.lines() if not receipts.is_intact else ():
        logger.critical("receipts: %s", line)
    result = audit_verify()
    if not result.is_intact:
        where = result.checkpoint or f"event {result.first_broken_seq}"
        logger.critical("audit chain broken at %s: %s", where, result.reason)
    return {
        "receipts_intact": receipts.is_intact,
        "intact": result.is_intact,
        "events": result.events,
        "first_broken_seq": result.first_broken_seq,
        "checkpoints": result.checkpoints,
        "checkpoint": result.checkpoint,
    }


@shared_task(name="workflow.audit_checkpoint", **RETRY)
def audit_checkpoint_task() -> dict:
    try:
        written = checkpoints.checkpoint_write()
    except checkpoints.CheckpointError as error:
        if not settings.AUDIT_SIGNING_KEY_FILE:
            logger.info("%s", error)  # a deployment without checkpoints: nothing to say louder
        else:
            logger.critical("%s", error)
        return {"written": None, "problem": str(error)}
    return {"written": written.checkpoint.name, "sent": written.sent, "failures": written.failures}
