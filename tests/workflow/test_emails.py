"""One outbox for every email: Notification rows, sent by notification_email_send alone, each kind
rendered from templates/email/ in the office's language, with a link to the delivery's page."""

import ast
import json
import re
import smtplib
from pathlib import Path

import pytest
import redis
import time_machine
from django.conf import settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from tests.bulk import bulk_units
from tests.factories import delivery_of, issue, person
from tests.workflow.test_deadlines import at
from units.models import Role
from workflow import services
from workflow.models import DeliveryReturn, Dispatch, Notification, ReturnReason
from workflow.services.notifications import EMAIL_BATCH

ROOT = Path(__file__).resolve().parent.parent.parent
SITE = "http://127.0.0.1:8000"
FOOTER = "（本邮件由公文流转系统自动发送，请勿直接回复。）\n"


def _sent(kind: str) -> list[mail.EmailMessage]:
    ids = {
        f"<notification-{pk}@127.0.0.1>" for pk in Notification.objects.filter(kind=kind).values_list("pk", flat=True)
    }
    return [message for message in mail.outbox if message.extra_headers["Message-ID"] in ids]


def test_every_kind_is_rendered_from_its_templates_in_chinese_whatever_the_actors_language(world, settings):
    settings.REMINDER_ESCALATE_AFTER = 1
    person(world.region, Role.CLERK, username="region_clerk")
    with time_machine.travel(at("2022-10-13 09:00"), tick=False):
        root, dispatch = issue(world.zzb, world.department, main=[world.education, world.other], urgency="特提")
        education, other = delivery_of(root, world.education), delivery_of(root, world.other)
        with translation.override("en"):  # every actor reads pages in English
            services.dispatch_notify(dispatch_id=dispatch.pk)
            services.delivery_remind(actor=world.zzb, delivery_id=other.pk)
            services.delivery_return(
                actor=world.other_clerk, delivery_id=other.pk, reason=ReturnReason.OTHER, text="请补充附件。"
            )
            services.delivery_sign_for(actor=world.jygw, delivery_id=education.pk)
            services.delivery_complete(actor=world.jygw, delivery_id=education.pk, feedback="已传达。")
            services.dispatch_recall(actor=world.zzb, dispatch_id=dispatch.pk, reason="内容需要修改")
            assert services.notification_email_send() == 7

    number, title = root.number, "关于做好测试工作的通知"
    returned = DeliveryReturn.objects.get(delivery=other)
    # Sorted by address: one notice's clerks are written in no particular order.
    # The kinds of the notices between units (those inside a unit: tests/workflow/test_inunit_deadlines.py).
    kinds = ("delivered", "reminder", "escalation", "returned", "completed", "recalled")
    by_kind = {kind: sorted((m.to, m.subject, m.body) for m in _sent(kind)) for kind in kinds}
    assert by_kind == {
        "delivered": [
            (
                [f"{clerk}@example.org"],
                f"【特提】来文待签收：{number}《{title}》",
                f"{unit}：\n\n"
                f"收到自治区党委组织部来文《{title}》（{number}），紧急程度：特提。签收时限：2022年10月13日9时30分。\n\n"
                f"请登录公文流转系统签收：\n{SITE}/deliveries/{delivery.pk}/\n\n{FOOTER}",
            )
            for clerk, unit, delivery in (
                ("jygw", "自治区教育工委", education),
                ("other_clerk", "自治区直属机关工委", other),
            )
        ],
        "reminder": [
            (
                ["other_clerk@example.org"],
                f"【催办】{number}《{title}》（第1次催办）",
                f"自治区直属机关工委：\n\n"
                f"{number}《{title}》签收时限为2022年10月13日9时30分，请尽快办理（第1次催办）。\n\n"
                f"请登录公文流转系统办理：\n{SITE}/deliveries/{other.pk}/\n\n{FOOTER}",
            )
        ],
        "escalation": [
            (
                ["region_clerk@example.org"],
                f"【催办升级】自治区直属机关工委：{number}《{title}》（已催办1次）",
                f"自治区党委：\n\n"
                f"自治区直属机关工委：{number}《{title}》签收时限为2022年10月13日9时30分，已催办1次，请督促办理。\n\n"
                # No link: the delivery is not the parent unit's to open (only the unit's and the issuer's).
                f"{FOOTER}",
            )
        ],
        "returned": [
            (
                ["zzb@example.org"],
                f"【退文】自治区直属机关工委退回了{number}《{title}》",
                f"自治区党委组织部：\n\n"
                f"自治区直属机关工委退回了{number}《{title}》，理由：其他。请补充附件。\n\n"
                f"请登录公文流转系统查看：\n{SITE}/deliveries/{other.pk}/\n\n"
                f"退文告知单：\n{SITE}/returns/{returned.pk}/notice/\n\n{FOOTER}",
            )
        ],
        "completed": [
            (
                ["zzb@example.org"],
                f"【办结】自治区教育工委已办结{number}《{title}》",
                f"自治区党委组织部：\n\n"
                f"自治区教育工委已办结{number}《{title}》。落实情况：已传达。\n\n"
                f"请登录公文流转系统查看：\n{SITE}/deliveries/{education.pk}/\n\n{FOOTER}",
            )
        ],
        "recalled": [
            (
                ["jygw@example.org"],
                f"【撤回】自治区党委组织部撤回了{number}《{title}》",
                f"自治区教育工委：\n\n"
                f"自治区党委组织部已撤回{number}《{title}》。撤回原因：内容需要修改\n\n"
                f"请登录公文流转系统查看：\n{SITE}/deliveries/{education.pk}/\n\n{FOOTER}",
            )
        ],
    }


def test_emails_are_plain_text_nothing_is_html_escaped(world):
    _document, dispatch = issue(world.zzb, world.department, main=[world.education], title="关于<b>A&B</b>的'通知'")
    services.dispatch_notify(dispatch_id=dispatch.pk)
    services.notification_email_send()
    (message,) = mail.outbox
    assert message.subject.endswith("《关于<b>A&B</b>的'通知'》")
    assert "来文《关于<b>A&B</b>的'通知'》" in message.body


def test_notifying_a_dispatch_writes_the_notifications_and_leaves_the_emails_to_the_outbox(
    world, django_capture_on_commit_callbacks
):
    _document, dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.dispatch_notify(dispatch_id=dispatch.pk) is True
    assert mail.outbox == []
    assert len(callbacks) == 1  # the outbox, for this dispatch
    assert Notification.objects.filter(kind="delivered", emailed_at__isnull=True).count() == 2
    assert Dispatch.objects.get(pk=dispatch.pk).notified_at is not None

    # Lost or not, the message only starts a run: the rows are the outbox, and any run sends them.
    assert services.notification_email_send(limit=1000) == 2
    assert services.notification_email_send() == 0
    assert sorted(message.to[0] for message in mail.outbox) == ["jygw@example.org", "other_clerk@example.org"]
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_a_delivered_email_is_not_sent_twice_when_the_task_runs_twice(world):
    _document, dispatch = issue(world.zzb, world.department, main=[world.education])
    services.dispatch_notify(dispatch_id=dispatch.pk)
    services.dispatch_notify(dispatch_id=dispatch.pk)
    assert services.notification_email_send(dispatch_id=dispatch.pk) == 1
    assert services.notification_email_send(dispatch_id=dispatch.pk) == 0
    assert services.notification_email_send() == 0
    notification = Notification.objects.get(kind="delivered")
    assert [message.extra_headers["Message-ID"] for message in mail.outbox] == [
        f"<notification-{notification.pk}@127.0.0.1>"
    ]


def test_no_email_for_a_person_without_an_address_or_deactivated(world):
    person(world.education, Role.CLERK, username="no_address", email="")
    gone = person(world.education, Role.CLERK, username="gone")
    _document, dispatch = issue(world.zzb, world.department, main=[world.education])
    services.dispatch_notify(dispatch_id=dispatch.pk)
    gone.is_active = False  # left the office after the notice, before its email
    gone.save(update_fields=["is_active"])

    assert services.notification_email_send() == 1
    assert [message.to for message in mail.outbox] == [["jygw@example.org"]]
    # Both keep the in-app notice; their rows leave the outbox, so no later run walks over them again.
    notified = Notification.objects.filter(kind="delivered").order_by("user__username")
    assert [(n.user.username, n.emailed_at is not None) for n in notified] == [
        ("gone", True),
        ("jygw", True),
        ("no_address", True),
    ]


def test_a_run_for_one_dispatch_sends_that_dispatchs_emails_only(world):
    _d, routine = issue(world.zzb, world.department, main=[world.other])
    _d, telegram = issue(world.zzb, world.department, main=[world.education], urgency="特提")
    services.dispatch_notify(dispatch_id=routine.pk)
    services.dispatch_notify(dispatch_id=telegram.pk)

    assert services.notification_email_send(dispatch_id=telegram.pk) == 1
    assert [message.to for message in mail.outbox] == [["jygw@example.org"]]
    assert list(Notification.objects.filter(emailed_at__isnull=True).values_list("user__username", flat=True)) == [
        "other_clerk"
    ]


def test_the_beats_run_stops_at_its_limit(world):
    units = bulk_units(5, parent=world.region, label="limit", group_owner=world.department)
    _document, dispatch = issue(world.zzb, world.department, main=[units.group])
    services.dispatch_notify(dispatch_id=dispatch.pk)
    assert services.notification_email_send(limit=3) == 3
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 2
    assert services.notification_email_send(limit=3) == 2


@pytest.mark.django_db(transaction=True)
def test_the_notify_message_goes_to_the_dispatchs_own_queue(committed_world):
    world = committed_world
    _document, dispatch = issue(world.zzb, world.department, main=[world.education], urgency="特提")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"]
    keys = [f"{prefix}{name}" for name in ("urgent", "routine", "control")]
    client.delete(*keys)  # this run's own keys only (its own prefix)
    try:
        services.dispatch_notify(dispatch_id=dispatch.pk)
        messages = [json.loads(raw)["headers"] for raw in client.lrange(f"{prefix}urgent", 0, -1)]
        assert [(m["task"], ast.literal_eval(m["kwargsrepr"])) for m in messages] == [
            ("workflow.email_notifications", {"dispatch_id": dispatch.pk})
        ]
        assert (client.llen(f"{prefix}routine"), client.llen(f"{prefix}control")) == (0, 0)
    finally:
        client.delete(*keys)
        client.close()


def _outbox_queries(world, clerks: int, label: str) -> list[str]:
    units = bulk_units(clerks, parent=world.region, label=label, group_owner=world.department)
    _document, dispatch = issue(world.zzb, world.department, main=[units.group])
    services.dispatch_notify(dispatch_id=dispatch.pk)
    with CaptureQueriesContext(connection) as queries:
        assert services.notification_email_send() == clerks
    return [query["sql"] for query in queries]


def test_sending_n_emails_runs_the_same_queries_per_batch_and_holds_one_batch_at_a_time(world):
    small = _outbox_queries(world, 10, "small")
    large = _outbox_queries(world, 5 * EMAIL_BATCH + 10, "large")
    # Each batch: a savepoint, its rows (locked, with everything the templates show), the mark,
    # the release = 4, whatever the number of emails; a short batch ends the run.
    assert (len(small), len(large)) == (1 * 4, 6 * 4)
    reads = [sql for sql in large if sql.startswith("SELECT")]
    # Memory stays one batch: every read of the outbox takes at most EMAIL_BATCH rows.
    assert len(reads) == 6
    assert all(sql.endswith(f'LIMIT {EMAIL_BATCH} FOR UPDATE OF "workflow_notification" SKIP LOCKED') for sql in reads)


def test_a_dispatchs_emails_run_the_same_queries_per_chunk_for_any_number_of_recipients(world, settings, count_queries):
    settings.ROUTING_CHUNK_SIZE = 50
    small_units = bulk_units(50, parent=world.region, label="small", group_owner=world.department)
    large_units = bulk_units(150, parent=world.region, label="large", group_owner=world.department)
    _d, small = issue(world.zzb, world.department, main=[small_units.group])
    _d, large = issue(world.zzb, world.department, main=[large_units.group])
    services.dispatch_notify(dispatch_id=small.pk)
    services.dispatch_notify(dispatch_id=large.pk)

    small_count, sent_small = count_queries(services.notification_email_send, dispatch_id=small.pk)
    large_count, sent_large = count_queries(services.notification_email_send, dispatch_id=large.pk)

    assert (sent_small, sent_large) == (50, 150)
    # Each chunk of 50 deliveries: its ids (1) and its 50 emails in batches of EMAIL_BATCH = 20,
    # each a savepoint, its rows, the mark, the release (3 x 4) = 13; the empty chunk that ends it = 1.
    assert small_count - 1 * 13 == large_count - 3 * 13 == 1


class RefusingBackend(EmailBackend):
    """Django's test backend, refusing one domain as an SMTP server refuses an address for good."""

    def send_messages(self, messages):
        for message in messages:
            if message.to[0].endswith("@refused.example.org"):
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"no such user")})
        return super().send_messages(messages)


def test_an_address_the_server_refuses_does_not_hold_up_the_outbox(world, settings):
    settings.EMAIL_BACKEND = "tests.workflow.test_emails.RefusingBackend"
    person(world.education, Role.CLERK, username="refused", email="refused@refused.example.org")
    _document, dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
    services.dispatch_notify(dispatch_id=dispatch.pk)

    assert services.notification_email_send() == 2
    assert sorted(message.to[0] for message in mail.outbox) == ["jygw@example.org", "other_clerk@example.org"]
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


MAIL_SENDING = re.compile(
    r"\b(send_messages|send_mail|send_mass_mail|mail_admins|mail_managers|EmailMessage|EmailMultiAlternatives"
    r"|smtplib\.SMTP\b|django\.core\.mail|from django\.core import mail)"
)


def test_exactly_one_place_in_the_code_sends_mail():
    sources = [
        path
        for path in ROOT.rglob("*.py")
        if not {".venv", "var", "tests", "node_modules", ".git"} & set(path.relative_to(ROOT).parts)
    ]
    assert len(sources) > 100  # the walk did read the project
    mentions = {
        (str(path.relative_to(ROOT)), match.group(1))
        for path in sources
        for match in MAIL_SENDING.finditer(path.read_text(encoding="utf-8"))
    }
    # Only the outbox touches Django's mail: it builds EmailMessages and sends them in one call. The
    # one other sender is not a notice to a person: a signed audit checkpoint's copy to the addresses
    # an operator configured to keep it outside the database (workflow.checkpoints, issue 15).
    assert {file for file, _name in mentions} == {"workflow/services/notifications.py", "workflow/checkpoints.py"}
    assert {name for file, name in mentions if file == "workflow/checkpoints.py"} == {"django.core.mail", "send_mail"}
    outbox = (ROOT / "workflow/services/notifications.py").read_text(encoding="utf-8")
    assert len(re.findall(r"\.send_messages\(", outbox)) == 1
    assert re.findall(r"\.send\(|send_mail\(|send_mass_mail\(", outbox) == []
