"""Enqueue work after commit, by the tasks' stable names, on the queue of the document's urgency.

Services call these inside their transaction; the message is published only once the transaction
has committed (never before its rows are visible). A crash between commit and publish loses the
message but not the work: its state is in the dispatch row and the sweep enqueues it again.
"""

from django.db import transaction

from config.celery import app
from documents.models import URGENT_LEVELS
from workflow.models import Queue

ROUTE_DISPATCH = "workflow.route_dispatch"
NOTIFY_DISPATCH = "workflow.notify_dispatch"
EMAIL_NOTIFICATIONS = "workflow.email_notifications"


def queue_for(urgency: str) -> str:
    return Queue.URGENT if urgency in URGENT_LEVELS else Queue.ROUTINE


def _publish_on_commit(task_name: str, dispatch_id: int, queue: str) -> None:
    # robust: a broker that is down must not turn a committed issue into an error page; the
    # failure is logged and the sweep publishes again.
    transaction.on_commit(lambda: app.send_task(task_name, args=[dispatch_id], queue=queue), robust=True)


def enqueue_routing(dispatch_id: int, queue: str) -> None:
    _publish_on_commit(ROUTE_DISPATCH, dispatch_id, queue)


def enqueue_notification(dispatch_id: int, queue: str) -> None:
    _publish_on_commit(NOTIFY_DISPATCH, dispatch_id, queue)


def enqueue_notification_emails(queue: str) -> None:
    """Email the notifications a service has just written (reminders, recalls, returns, completions).

    The task emails every notification still unsent, whoever wrote it, and the beat runs it too, so
    a lost message only delays the emails.
    """
    transaction.on_commit(lambda: app.send_task(EMAIL_NOTIFICATIONS, queue=queue), robust=True)


def enqueue_dispatch_emails(dispatch_id: int, queue: str) -> None:
    """Email a dispatch's DELIVERED notifications, on the dispatch's own queue: a 特提 telegram's emails
    are sent by the urgent worker, never behind a routine outbox. The same task and outbox as
    above, narrowed to the dispatch; what a lost message leaves unsent, the beat's run sends."""
    transaction.on_commit(
        lambda: app.send_task(EMAIL_NOTIFICATIONS, kwargs={"dispatch_id": dispatch_id}, queue=queue), robust=True
    )
