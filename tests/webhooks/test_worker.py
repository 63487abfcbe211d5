"""The whole way, as deployed: the services write the audit log, `celery beat` runs the derivation and
the sender on the webhooks queue, a real `celery worker` posts to a receiver on loopback that fails
its first calls (500, then no answer in time, then 500 again). After deduplication by webhook-id the
receiver holds every event exactly once, in the audit log's order for each delivery, every one
signed with its subscription's secret.
"""

from collections import defaultdict
from datetime import timedelta

import pytest

from tests.factories import delivery_of, forward, issue
from tests.webhooks.receiver import Receiver
from tests.worker import Beat, Worker, wait_until
from webhooks.models import WebhookDelivery
from workflow import services

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ENV = {
    "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    "WEBHOOK_PLAIN_HTTP_HOSTS": "127.0.0.1",
    "WEBHOOK_SWEEP_SECONDS": "1",
    "WEBHOOK_RETRY_SECONDS": "0.5",
    "WEBHOOK_TIMEOUT_SECONDS": "1",
}


@pytest.fixture
def webhook_processes(committed_db, django_db_blocker, tmp_path):
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    with django_db_blocker.unblock():
        worker = Worker(queues="webhooks", mail_dir=mail_dir, extra_env=ENV, concurrency=2, name="worker-webhooks")
        beat = Beat(log_dir=tmp_path, extra_env=ENV)
    yield worker, beat
    beat.stop()
    worker.stop()


def test_every_event_arrives_once_after_deduplication_in_order_per_delivery_signed(
    committed_world, subscribe, webhook_processes
):
    world = committed_world
    worker, _beat = webhook_processes
    receiver = Receiver(script=[500, "timeout", 500], hold_seconds=3)
    try:
        secrets = {
            "/issuer": subscribe(world.department, receiver.url("/issuer"))[1],
            "/education": subscribe(world.education, receiver.url("/education"))[1],
            "/university": subscribe(world.university, receiver.url("/university"))[1],
        }
        document, _dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
        received = delivery_of(document, world.education)
        services.delivery_open(actor=world.jygw, delivery=received)
        cover, _cover_dispatch = forward(world.jygw, received, main=[world.university, world.university_b])
        services.delivery_sign_for(actor=world.imu, delivery_id=delivery_of(cover, world.university).pk)
        services.delivery_complete(actor=world.jygw, delivery_id=received.pk, feedback="已组织学习。")
        services.delivery_remind(actor=world.zzb, delivery_id=delivery_of(document, world.other).pk)
        services.delivery_return(
            actor=world.other_clerk, delivery_id=delivery_of(document, world.other).pk, reason="not_competent"
        )
        services.delivery_recall(actor=world.jygw, delivery_id=delivery_of(cover, world.university_b).pk)

        # issuer: 2 delivered, read, signed, forwarded, completed, reminded, returned; education: its
        # delivered, read, signed, forwarded, completed, and as the cover's issuer 2 delivered,
        # signed, recalled; university: delivered, signed.
        expected = 8 + 9 + 2
        assert wait_until(lambda: WebhookDelivery.objects.filter(state="sent").count() == expected, timeout=90), (
            worker.output()[-3000:]
        )
        calls = WebhookDelivery.objects.order_by("audit_event_id")
        assert calls.count() == expected
        assert wait_until(lambda: len(receiver.calls()) == expected + 3)
    finally:
        receiver.stop()

    # The three failed attempts came again: after deduplication, each event once.
    assert [call.answered for call in receiver.calls()[:3]] == [500, "timeout", 500]
    by_path = defaultdict(list)
    for call in receiver.calls():
        by_path[call.path].append(call)
    for path, arrived in by_path.items():
        assert all(call.signature_valid(secrets[path]) for call in arrived), path
        unique = list(dict.fromkeys(call.event_id for call in arrived))
        rows = calls.filter(subscription__url=receiver.url(path))
        assert sorted(unique) == sorted(rows.values_list("event_id", flat=True)), path
        # Per delivery, the order of first arrival is the audit log's.
        first_arrivals = defaultdict(list)
        for event_id in unique:
            first_arrivals[event_id.rsplit("_", 1)[1]].append(event_id)
        for delivery_id, event_ids in first_arrivals.items():
            in_audit_order = list(rows.filter(delivery_id=int(delivery_id)).values_list("event_id", flat=True))
            assert event_ids == in_audit_order, (path, delivery_id)
    assert sorted(set(calls.values_list("event_type", flat=True))) == [
        "completed",
        "delivered",
        "forwarded",
        "read",
        "recalled",
        "reminded",
        "returned",
        "signed",
    ]


def test_a_call_cut_short_by_a_killed_worker_is_sent_again_when_its_lease_ends(
    committed_world, subscribe, django_db_blocker, tmp_path
):
    """The worker is killed (main process and pool, SIGKILL) while its call waits for the receiver's
    answer: nothing was recorded, the call is still pending under its lease, and once the lease is
    over the next worker sends it again, with the same id and body."""
    world = committed_world
    env = {**ENV, "WEBHOOK_TIMEOUT_SECONDS": "5"}  # the lease: 2 × 5 s + 5 s
    receiver = Receiver(script=["timeout"], hold_seconds=12)
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    with django_db_blocker.unblock():
        beat = Beat(log_dir=tmp_path, extra_env=env)
        first = Worker(queues="webhooks", mail_dir=mail_dir, extra_env=env, concurrency=1, name="worker-first")
    second = None
    try:
        subscribe(world.education, receiver.url(), ["delivered"])
        issue(world.zzb, world.department, main=[world.education])
        assert wait_until(lambda: len(receiver.calls()) == 1, interval=0.02)
        for child in first.children():
            child.kill()
        first.kill()
        call = WebhookDelivery.objects.get()
        assert (call.state, call.attempts, call.last_error, call.last_status) == ("pending", 1, "", None)
        assert call.next_attempt_at >= call.last_attempt_at + timedelta(seconds=15)

        with django_db_blocker.unblock():
            second = Worker(queues="webhooks", mail_dir=mail_dir, extra_env=env, concurrency=1, name="worker-second")
        assert wait_until(lambda: WebhookDelivery.objects.filter(state="sent").exists(), timeout=60), second.output()[
            -3000:
        ]
    finally:
        receiver.stop()
        beat.stop()
        first.stop()
        if second is not None:
            second.stop()

    call.refresh_from_db()
    assert (call.state, call.attempts, call.last_status) == ("sent", 2, 204)
    arrived = receiver.calls()
    assert [received.event_id for received in arrived] == [call.event_id, call.event_id]
    assert arrived[0].body == arrived[1].body
