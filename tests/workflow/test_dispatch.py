from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import delivery_of, forward, issue, person, unit
from units.models import Role
from workflow import services
from workflow.models import AuditEvent, AuditVerb, Delivery, Dispatch, Notification


def _units(world, n, *, clerks=False):
    units = [unit(f"单位{i:05d}", world.region) for i in range(n)]
    if clerks:
        for each in units:
            person(each, Role.CLERK)
    return units


def test_routing_creates_one_delivery_per_recipient_with_its_role(world):
    _document, dispatch = issue(world.zzb, world.department, main=[world.education], cc=[world.other], route=False)
    assert services.dispatch_route(dispatch_id=dispatch.pk) is True
    deliveries = Delivery.objects.filter(dispatch=dispatch).order_by("unit_id")
    assert [(d.unit_id, d.role, d.state) for d in deliveries] == sorted(
        [(world.education.pk, "主送", "pending"), (world.other.pk, "抄送", "pending")]
    )
    dispatch.refresh_from_db()
    assert dispatch.routed_at is not None
    assert dispatch.route_attempts == 1


def test_each_delivery_carries_its_documents_urgency(world):
    # 收文 待签收 sorts by the delivery's copy (Delivery.urgency), never reading the document.
    document, dispatch = issue(world.zzb, world.department, main=[world.education], cc=[world.other], urgency="特提")
    routine, _dispatch = issue(world.zzb, world.department, main=[world.education])
    assert list(Delivery.objects.filter(dispatch=dispatch).values_list("urgency", flat=True)) == ["特提", "特提"]
    assert list(Delivery.objects.filter(document=routine).values_list("urgency", flat=True)) == ["普通"]
    assert document.urgency == "特提"


def test_each_delivery_says_whether_its_document_is_a_cover_letter(world):
    # The search door reads what a unit sees through its covers from delivery_covers (is_cover).
    document, _dispatch = issue(world.zzb, world.department, main=[world.education], cc=[world.other])
    cover, _ = forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    assert sorted(Delivery.objects.filter(document=document).values_list("is_cover", flat=True)) == [False, False]
    assert sorted(Delivery.objects.filter(document=cover).values_list("is_cover", flat=True)) == [True, True]


def test_the_migration_marks_the_covers_delivered_before_it(world):
    import importlib

    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    name = "0023_delivery_is_cover"
    state = MigrationLoader(connection).project_state(("workflow", name))
    document, _dispatch = issue(world.zzb, world.department, main=[world.education], cc=[world.other])
    cover, _ = forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    forward(world.imu, delivery_of(cover, world.university), main=[world.college])
    written = sorted(Delivery.objects.values_list("pk", "is_cover"))
    assert sum(is_cover for _pk, is_cover in written) == 3  # two universities, the college
    Delivery.objects.update(is_cover=False)  # as before the migration: the column's default
    with connection.schema_editor(atomic=False) as schema_editor:
        importlib.import_module(f"workflow.migrations.{name}").mark_covers(state.apps, schema_editor)
    assert sorted(Delivery.objects.values_list("pk", "is_cover")) == written


def test_each_delivery_carries_its_documents_issuing_unit(world):
    # 发文's overdue list walks the issuing unit's open deliveries by deadline (Delivery.issuing_unit).
    _document, dispatch = issue(world.zzb, world.department, main=[world.education], cc=[world.other])
    cover, _ = forward(world.jygw, delivery_of(_document, world.education), main=[world.groups["各高校党委"]])
    assert (
        list(Delivery.objects.filter(dispatch=dispatch).values_list("issuing_unit", flat=True))
        == [world.department.pk] * 2
    )
    assert set(Delivery.objects.filter(document=cover).values_list("issuing_unit", flat=True)) == {world.education.pk}
    # And each dispatch (发文 pages a unit's dispatches by it).
    assert [Dispatch.objects.get(document=d).issuing_unit_id for d in (_document, cover)] == [
        world.department.pk,
        world.education.pk,
    ]


def test_routing_twice_or_after_a_crash_creates_nothing_twice(world, settings):
    settings.ROUTING_CHUNK_SIZE = 2
    units = _units(world, 5)
    _document, dispatch = issue(world.zzb, world.department, main=units, route=False)
    # A worker that died after the first chunk: two deliveries are in, the dispatch is not routed.
    Delivery.objects.bulk_create(
        Delivery(
            dispatch=dispatch,
            document_id=dispatch.document_id,
            unit=u,
            role="主送",
            urgency=dispatch.document.urgency,
            issuing_unit_id=dispatch.document.issuing_unit_id,
            created_at=timezone.now(),
        )
        for u in units[:2]
    )
    services.dispatch_route(dispatch_id=dispatch.pk)
    services.dispatch_route(dispatch_id=dispatch.pk)

    assert Delivery.objects.filter(dispatch=dispatch).count() == 5
    created = AuditEvent.objects.filter(verb=AuditVerb.DELIVERIES_CREATED, object_id=str(dispatch.pk))
    # Only the three new deliveries are audited (chunks [0,1] had nothing new, [2,3] and [4] did).
    assert [event.payload["count"] for event in created] == [2, 1]
    assert AuditEvent.objects.filter(verb=AuditVerb.DISPATCH_ROUTED, object_id=str(dispatch.pk)).count() == 1


def test_routing_a_dispatch_that_is_gone_is_logged_and_ignored(db):
    assert services.dispatch_route(dispatch_id=10**9) is False
    assert services.dispatch_notify(dispatch_id=10**9) is False


def test_routing_enqueues_notification_once(world, django_capture_on_commit_callbacks):
    _document, dispatch = issue(world.zzb, world.department, main=[world.education], route=False)
    with django_capture_on_commit_callbacks() as first:
        services.dispatch_route(dispatch_id=dispatch.pk)
    with django_capture_on_commit_callbacks() as second:
        services.dispatch_route(dispatch_id=dispatch.pk)
    assert (len(first), len(second)) == (1, 0)


def test_routing_runs_the_same_queries_per_chunk_for_any_number_of_recipients(world, settings, count_queries):
    settings.ROUTING_CHUNK_SIZE = 100
    units = _units(world, 400)
    _d, small = issue(world.zzb, world.department, main=units[:100], route=False)
    _d, large = issue(world.zzb, world.department, main=units, route=False)

    small_count, _ = count_queries(services.dispatch_route, dispatch_id=small.pk)
    large_count, _ = count_queries(services.dispatch_route, dispatch_id=large.pk)

    # Each chunk: a savepoint pair, the dispatch's row lock (a recall waits for the chunk, or the
    # chunk sees the recall), the insert, the dispatch's figures (workflow.tally) and its audit event
    # (lock, head, insert) = 8; the rest (load, attempt count, mark routed, count, audit) does not
    # depend on the size.
    assert small_count - 1 * 8 == large_count - 4 * 8 == 9


def test_notify_gives_each_clerk_one_notification_and_one_email(world):
    _document, dispatch = issue(world.zzb, world.department, main=[world.education, world.other], urgency="特提")
    services.dispatch_notify(dispatch_id=dispatch.pk)
    services.dispatch_notify(dispatch_id=dispatch.pk)
    assert mail.outbox == []  # the emails are the outbox's (tests/workflow/test_emails.py)
    services.notification_email_send(dispatch_id=dispatch.pk)

    notifications = Notification.objects.order_by("user__username")
    assert [(n.user.username, n.delivery.unit_id, n.kind) for n in notifications] == [
        ("jygw", world.education.pk, "delivered"),
        ("other_clerk", world.other.pk, "delivered"),
    ]
    assert all(n.emailed_at for n in notifications)
    assert sorted(message.to[0] for message in mail.outbox) == ["jygw@example.org", "other_clerk@example.org"]
    assert mail.outbox[0].subject.startswith("【特提】来文待签收：内组电明字〔2022〕")
    dispatch.refresh_from_db()
    assert dispatch.notified_at is not None
    assert AuditEvent.objects.get(verb=AuditVerb.DISPATCH_NOTIFIED).payload == {"notifications": 2}


def test_a_clerk_role_granted_to_the_units_group_notifies_its_members(world):
    member = person(world.other, username="member_of_other")
    world.other.group.user_set.add(member)
    services.role_grant(actor=None, unit=world.other, role=Role.CLERK, group=world.other.group)
    _document, dispatch = issue(world.zzb, world.department, main=[world.other])
    services.dispatch_notify(dispatch_id=dispatch.pk)
    # Every member of the unit's group: its signer (a member, as operational roles make one) too.
    assert set(Notification.objects.values_list("user__username", flat=True)) == {
        "other_clerk",
        "other_leader",
        "member_of_other",
    }


def test_notify_runs_the_same_queries_per_chunk_for_any_number_of_recipients(world, settings, count_queries):
    settings.ROUTING_CHUNK_SIZE = 50
    units = _units(world, 150, clerks=True)
    _d, small = issue(world.zzb, world.department, main=units[:50])
    _d, large = issue(world.zzb, world.department, main=units)

    small_count, _ = count_queries(services.dispatch_notify, dispatch_id=small.pk)
    large_count, _ = count_queries(services.dispatch_notify, dispatch_id=large.pk)

    assert Notification.objects.count() == 200
    # Each chunk: its deliveries, their clerks, the notification insert (in a savepoint) = 5; the
    # load, the attempt count, the empty chunk that ends the loop, marking the dispatch notified and
    # its audit event (in a savepoint) = 9. The emails are the outbox's, with their own count
    # (tests/workflow/test_emails.py).
    assert small_count - 1 * 5 == large_count - 3 * 5 == 9


def test_the_sweep_re_enqueues_stale_unfinished_work_only(world, django_capture_on_commit_callbacks):
    _d, lost = issue(world.zzb, world.department, main=[world.education], route=False)
    _d, fresh = issue(world.zzb, world.department, main=[world.other], route=False)
    _d, unnotified = issue(world.zzb, world.department, main=[world.other])
    long_ago = timezone.now() - timedelta(hours=1)
    Dispatch.objects.filter(pk__in=[lost.pk]).update(route_enqueued_at=long_ago)
    Dispatch.objects.filter(pk__in=[unnotified.pk]).update(notify_enqueued_at=long_ago)

    with django_capture_on_commit_callbacks() as callbacks:
        counts = services.dispatch_sweep()

    assert counts == {"route": 1, "notify": 1, "gave_up": 0}
    assert len(callbacks) == 2
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.route_enqueued_at > long_ago
    assert fresh.routed_at is None


def test_the_sweep_gives_up_on_a_poison_dispatch(world, django_capture_on_commit_callbacks):
    _d, poison = issue(world.zzb, world.department, main=[world.education], route=False)
    Dispatch.objects.filter(pk=poison.pk).update(
        route_enqueued_at=timezone.now() - timedelta(hours=1), route_attempts=10
    )
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.dispatch_sweep() == {"route": 0, "notify": 0, "gave_up": 1}
    assert callbacks == []


@pytest.mark.parametrize(
    "queue_urgency", [("特提", "urgent"), ("特急", "urgent"), ("加急", "routine"), ("普通", "routine")]
)
def test_the_queue_follows_the_urgency(world, queue_urgency):
    urgency, queue = queue_urgency
    _d, dispatch = issue(world.zzb, world.department, main=[world.education], urgency=urgency, route=False)
    assert dispatch.queue == queue


def test_a_dispatch_started_too_often_is_not_routed_again(world, settings, nothing_written):
    # A pool child that dies on this dispatch every time is requeued by the broker itself
    # (task_reject_on_worker_lost): the count in the database is what ends that loop.
    _d, poison = issue(world.zzb, world.department, main=[world.education], route=False)
    Dispatch.objects.filter(pk=poison.pk).update(route_attempts=settings.DISPATCH_MAX_ATTEMPTS)
    with nothing_written():
        assert services.dispatch_route(dispatch_id=poison.pk) is False
    assert Dispatch.objects.get(pk=poison.pk).route_attempts == settings.DISPATCH_MAX_ATTEMPTS


def test_notification_emails_carry_a_message_id_fixed_per_notification(world):
    _document, dispatch = issue(world.zzb, world.department, main=[world.education])
    services.dispatch_notify(dispatch_id=dispatch.pk)
    services.notification_email_send()
    notification = Notification.objects.get(delivery__dispatch=dispatch)
    assert [message.extra_headers["Message-ID"] for message in mail.outbox] == [
        f"<notification-{notification.pk}@127.0.0.1>"
    ]


def test_the_sweep_runs_the_same_queries_for_one_or_many_stale_dispatches(world, count_queries):
    long_ago = timezone.now() - timedelta(hours=1)
    _d, _first = issue(world.zzb, world.department, main=[world.education], route=False)
    Dispatch.objects.update(route_enqueued_at=long_ago)
    one, _ = count_queries(services.dispatch_sweep)
    for _ in range(20):
        issue(world.zzb, world.department, main=[world.education], route=False)
    Dispatch.objects.update(route_enqueued_at=long_ago)
    many, counts = count_queries(services.dispatch_sweep)
    assert counts["route"] == 21
    assert one == many == 5  # savepoint, due routing (locked), stamp, due notification (locked), release
