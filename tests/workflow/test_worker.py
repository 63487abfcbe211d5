"""Issue → a real worker routes over Redis → deliveries in the inboxes → notifications sent.

No eager mode and nothing mocked: the test process commits, publishes to the machine's Redis (under
a key prefix of its own), and a separate `celery worker` process does the work.
"""

import email
from email.header import decode_header, make_header

import pytest

from config.celery import app
from tests.factories import issue, person, unit
from tests.worker import Worker, wait_until
from units.models import Role
from workflow.models import Delivery, Dispatch, Notification
from workflow.selectors import inbox_for_user

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    mail_dir = tmp_path_factory.mktemp("worker") / "mail"
    mail_dir.mkdir()
    with django_db_blocker.unblock():
        process = Worker(queues="urgent,routine,control", mail_dir=mail_dir)
    yield process, mail_dir
    process.stop()


def _emails(mail_dir):
    messages = []
    for path in mail_dir.glob("*.log"):
        for chunk in path.read_text(encoding="utf-8").split("-" * 79):
            if chunk.strip():
                messages.append(email.message_from_string(chunk.strip()))
    return messages


def _unemailed(dispatch) -> bool:
    return Notification.objects.filter(delivery__dispatch=dispatch, emailed_at__isnull=True).exists()


def _succeeded(process, task: str) -> int:
    return sum(1 for line in process.output().splitlines() if f"Task {task}[" in line and "succeeded" in line)


def test_an_issued_document_reaches_every_inbox_through_the_worker(committed_world, worker):
    world = committed_world
    _process, mail_dir = worker
    schools = [unit(f"高校{i}", world.education) for i in range(20)]
    for school in schools:
        person(school, Role.CLERK, username=f"clerk-of-{school.pk}")

    document, dispatch = issue(
        world.jygw, world.education, main=[*schools, world.university], urgency="特提", route=False
    )

    assert wait_until(lambda: Dispatch.objects.get(pk=dispatch.pk).notified_at is not None, timeout=60)
    assert Delivery.objects.filter(dispatch=dispatch).count() == 21
    assert [d.document_id for d in inbox_for_user(world.imu)] == [document.pk]
    assert Notification.objects.filter(delivery__dispatch=dispatch).count() == 21
    assert wait_until(lambda: not _unemailed(dispatch), timeout=60)  # the outbox's run, after notifying
    recipients = sorted(message["To"] for message in _emails(mail_dir))
    assert recipients == sorted([f"clerk-of-{school.pk}@example.org" for school in schools] + ["imu@example.org"])


def test_a_routine_document_is_routed_too(committed_world, worker):
    world = committed_world
    _document, dispatch = issue(
        world.zzb, world.department, main=[world.education, world.other], urgency="普通", route=False
    )
    assert wait_until(lambda: Dispatch.objects.get(pk=dispatch.pk).notified_at is not None, timeout=60)
    assert Delivery.objects.filter(dispatch=dispatch).count() == 2


def test_a_delivered_email_goes_out_once_through_the_outbox_and_not_again(committed_world, worker):
    world = committed_world
    process, mail_dir = worker
    _document, dispatch = issue(world.zzb, world.department, main=[world.education], urgency="特提", route=False)

    assert wait_until(lambda: Dispatch.objects.get(pk=dispatch.pk).notified_at is not None, timeout=60)
    assert wait_until(lambda: not _unemailed(dispatch), timeout=60)
    runs = _succeeded(process, "workflow.email_notifications")
    # A redelivered message for the dispatch, and the beat's run: the outbox has nothing left to send.
    app.send_task("workflow.email_notifications", kwargs={"dispatch_id": dispatch.pk}, queue="urgent")
    app.send_task("workflow.email_notifications", kwargs={"limit": 1000}, queue="control")
    assert wait_until(lambda: _succeeded(process, "workflow.email_notifications") == runs + 2, timeout=60)

    (notification,) = Notification.objects.filter(delivery__dispatch=dispatch)
    message_id = f"<notification-{notification.pk}@127.0.0.1>"
    sent = [message for message in _emails(mail_dir) if message["Message-ID"] == message_id]
    assert [(message["To"], str(make_header(decode_header(message["Subject"])))) for message in sent] == [
        ("jygw@example.org", f"【特提】来文待签收：{dispatch.document.number}《关于做好测试工作的通知》")
    ]
