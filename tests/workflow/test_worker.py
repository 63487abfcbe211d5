"""Issue → a real worker routes over Redis → deliveries in the inboxes → notifications sent.

No eager mode and nothing mocked: the test process commits, publishes to the machine's Redis (under
a key prefix of its own), and a separate `celery worker` process does the work.
"""

import email

import pytest

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
    recipients = sorted(message["To"] for message in _emails(mail_dir))
    assert recipients == sorted([f"clerk-of-{school.pk}@example.org" for school in schools] + ["imu@example.org"])


def test_a_routine_document_is_routed_too(committed_world, worker):
    world = committed_world
    _document, dispatch = issue(
        world.zzb, world.department, main=[world.education, world.other], urgency="普通", route=False
    )
    assert wait_until(lambda: Dispatch.objects.get(pk=dispatch.pk).notified_at is not None, timeout=60)
    assert Delivery.objects.filter(dispatch=dispatch).count() == 2
