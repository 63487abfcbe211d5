"""The beat's 催办 task through a real worker: overdue → reminder in-app and by email, once.

No eager mode: the test commits, publishes `workflow.remind_overdue` by name on the control queue
to the machine's Redis (under this run's key prefix), and a separate `celery worker` process runs it
and then the email task it enqueues.
"""

import datetime
import email
from email.header import decode_header, make_header

import pytest
from django.utils import timezone

from config.celery import app
from tests.factories import delivery_of, issue
from tests.worker import Worker, wait_until
from workflow.models import Delivery, Notification

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def control_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    mail_dir = tmp_path_factory.mktemp("reminder-worker") / "mail"
    mail_dir.mkdir()
    with django_db_blocker.unblock():
        process = Worker(queues="control", mail_dir=mail_dir, concurrency=1)
    yield process, mail_dir
    process.stop()


def _emails(mail_dir) -> list[tuple[str, str]]:
    """(to, decoded subject) of every email the worker wrote."""
    emails = []
    for path in mail_dir.glob("*.log"):
        for chunk in path.read_text(encoding="utf-8").split("-" * 79):
            if chunk.strip():
                message = email.message_from_string(chunk.strip())
                emails.append((message["To"], str(make_header(decode_header(message["Subject"])))))
    return emails


def _succeeded(process, task: str) -> int:
    return sum(1 for line in process.output().splitlines() if f"Task {task}[" in line and "succeeded" in line)


def test_the_reminder_task_runs_in_a_real_worker_and_sends_once(committed_world, control_worker):
    world = committed_world
    process, mail_dir = control_worker
    document, _dispatch = issue(world.zzb, world.department, main=[world.education], urgency="特提")
    # The worker runs on the real clock: put the sign-for deadline an hour behind it.
    Delivery.objects.filter(document=document).update(deadline_sign_for=timezone.now() - datetime.timedelta(hours=1))

    app.send_task("workflow.remind_overdue", queue="control")
    assert wait_until(lambda: Notification.objects.filter(kind="reminder", emailed_at__isnull=False).exists())
    app.send_task("workflow.remind_overdue", queue="control")  # a redelivered or duplicated message
    assert wait_until(lambda: _succeeded(process, "workflow.remind_overdue") == 2)

    assert list(Notification.objects.filter(kind="reminder").values_list("user__username", "round")) == [("jygw", 1)]
    assert delivery_of(document, world.education).reminder_count == 1
    ((to, subject),) = _emails(mail_dir)
    assert to == "jygw@example.org"
    assert subject == f"【催办】{document.number}《关于做好测试工作的通知》（第1次催办）"
