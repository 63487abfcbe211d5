import datetime
import io
import json
import logging
import sys
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from documents.digest import document_content_digest
from documents.models import Document
from units.models import RecipientGroup, Unit, UnitUserObjectPermission
from workflow import services
from workflow.audit import audit_verify
from workflow.demo import DRILL_TITLE, LOGINS, TELEGRAM_TITLE
from workflow.demo.simulate import demo_clerks_sign
from workflow.models import AuditEvent, Delivery, Notification, Receipt
from workflow.selectors import chain_for_document, chain_levels, inbox_for_user

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


@pytest.fixture(scope="module")
def _demo_loaded(django_db_setup, django_db_blocker):
    """The demo, loaded once for this module (it replays a week of history) in a transaction that is
    rolled back at the module's end. Each test runs in a savepoint inside it (the `db` fixture), so
    what one test writes is gone before the next."""
    fast_hashing = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast_hashing:  # as conftest's, which is per test
        outer = transaction.atomic()
        outer.__enter__()
        out = io.StringIO()
        call_command("demo", stdout=out)
    yield out.getvalue()
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def demo(_demo_loaded, db):
    return _demo_loaded


def _chain(capsys, number="内组电明字〔2022〕11号"):
    call_command("chain", number, "--json")
    return json.loads(capsys.readouterr().out)


def test_the_demo_refuses_to_load_without_time_machine_and_says_what_to_install(db, monkeypatch):
    # First in this module, so that the module's demo (`_demo_loaded`) is not loaded yet.
    assert Unit.objects.count() == 0
    monkeypatch.setitem(sys.modules, "time_machine", None)  # as in an environment without it
    with pytest.raises(CommandError) as refused:
        call_command("demo")
    assert str(refused.value) == (
        "演示数据需要 time-machine 才能按原日期（2022年10月）重放历史，但当前环境没有安装。"
        "请先运行 make run（它会安装 requirements-dev.txt），或运行 .venv/bin/pip install -r requirements-dev.txt。"
    )
    assert (Unit.objects.count(), get_user_model().objects.count(), AuditEvent.objects.count()) == (0, 0, 0)


def test_demo_prints_every_login_and_the_password(demo):
    assert "demo-password" in demo
    assert [login.username for login in LOGINS] == [
        "zzb",
        "zzb-leader",
        "jygw",
        "jygw-leader",
        "imu",
        "imu-office",
        "imu-leader",
        "imu-zzb",
        "imu-xcb",
        "imu-reader1",
        "imu-reader2",
        "auditor",
        "admin",
    ]
    for login in LOGINS:
        assert f"  {login.username} " in demo
    assert "  admin        /admin/（管理员：办理时限、节假日与调休、单位和人员；不代任何单位办文）" in demo


def test_the_demo_admin_logs_in_to_the_admin_site_and_acts_for_no_unit(demo, client):
    admin = get_user_model().objects.get(username="admin")
    assert (admin.is_staff, admin.is_superuser, admin.check_password("demo-password")) == (True, True, True)
    assert not UnitUserObjectPermission.objects.filter(user=admin).exists()
    answer = client.post("/accounts/login/", {"username": "admin", "password": "demo-password"})
    assert (answer.status_code, answer.url) == (302, "/")
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "办理时限" in page.content.decode()


def test_demo_replays_the_seed_chain_over_three_levels_with_consistent_digests(demo, capsys):
    tree = _chain(capsys)
    assert (tree["number"], tree["title"], tree["kind"], tree["urgency"], tree["page_count"]) == (
        "内组电明字〔2022〕11号",
        TELEGRAM_TITLE,
        "明传电报",
        "特提",
        4,
    )
    assert tree["issuer"] == "中共内蒙古自治区委员会组织部"
    # What the seed prints at the foot and the head of the telegram; its cover letter shows no date.
    assert (tree["date"], tree["signature_organ"], tree["main_recipients_text"]) == (
        "2022-10-13",
        "内蒙古自治区党委组织部",
        "各盟市委组织部、自治区各直属党（工）委：",
    )
    assert len(tree["deliveries"]) == 15  # 12 盟市委组织部 + 3 直属党（工）委
    education = next(d for d in tree["deliveries"] if d["unit"] == "中共内蒙古自治区教育工作委员会")
    assert (education["state"], education["receipt_digest"]) == ("completed", tree["digest"])
    # History is closed: who signed also completed (办结); who never signed was withdrawn.
    assert sorted(d["state"] for d in tree["deliveries"]) == ["completed"] * 14 + ["recalled"]
    (cover,) = education["forwards"]
    assert cover["number"] == "内教工委函〔2022〕90号"
    assert (cover["date"], cover["main_recipients_text"]) == (None, "各高等学校党委：")
    assert cover["encloses"] == [{"number": "内组电明字〔2022〕11号", "digest": tree["digest"]}]
    assert len(cover["deliveries"]) == 53
    signed = [d for d in cover["deliveries"] if d["signed_at"] is not None]
    assert len(signed) == 48
    assert {d["state"] for d in signed} == {"completed"}
    assert all(d["receipt_digest"] == cover["digest"] for d in signed)
    assert sorted(d["state"] for d in cover["deliveries"] if d["signed_at"] is None) == ["recalled"] * 5
    imu = next(d for d in cover["deliveries"] if d["unit"] == "中共内蒙古大学委员会")
    (imu_cover,) = imu["forwards"]
    assert imu_cover["encloses"] == [{"number": "内教工委函〔2022〕90号", "digest": cover["digest"]}]
    assert [d["state"] for d in imu_cover["deliveries"]] == ["completed", "recalled", "completed"]
    for document in Document.objects.filter(state="issued"):
        assert document.digest == document_content_digest(document)


def test_demo_chain_matches_the_contract_shape(demo, capsys):
    states = {"pending", "signed", "returned", "recalled", "completed"}

    def check(node):
        assert set(node) == {
            "number",
            "title",
            "issuer",
            "kind",
            "urgency",
            "page_count",
            "date",
            "signature_organ",
            "main_recipients_text",
            "digest",
            "encloses",
            "deliveries",
            # issue 17: when it was issued, and where (None: here; a peer's name in its report).
            "issued_at",
            "installation",
        }
        assert node["installation"] is None
        assert len(node["digest"]) == 64
        assert int(node["digest"], 16) >= 0
        for delivery in node["deliveries"]:
            assert set(delivery) == {
                "unit",
                "role",
                "state",
                "read_at",
                "signed_at",
                "receipt_digest",
                "forwards",
                # issue 4: the deadlines fixed at issue and the 催办 count.
                "deadline_sign_for",
                "deadline_complete",
                "reminders",
                # issue 17: the installation that hosts the unit (None for this one's), and when it
                # was completed (a peer's report says so of its units).
                "installation",
                "completed_at",
            }
            assert delivery["installation"] is None
            assert isinstance(delivery["reminders"], int)
            assert delivery["role"] in ("主送", "抄送")
            assert delivery["state"] in states
            for child in delivery["forwards"]:
                check(child)

    check(_chain(capsys))


def test_demo_twice_duplicates_nothing(demo, capsys):
    counts = (Document.objects.count(), Delivery.objects.count(), Receipt.objects.count(), AuditEvent.objects.count())
    call_command("demo")
    assert "already loaded" in capsys.readouterr().out
    assert counts == (
        Document.objects.count(),
        Delivery.objects.count(),
        Receipt.objects.count(),
        AuditEvent.objects.count(),
    )
    assert not Delivery.objects.values("dispatch", "unit").annotate(n=Count("id")).filter(n__gt=1).exists()


def test_demo_audit_chain_verifies(demo, capsys):
    assert audit_verify().is_intact
    call_command("verify_audit")
    # The history's receipts, signed at their own dates, agree with their events too.
    assert capsys.readouterr().out.strip().splitlines() == [
        f"ok {Receipt.objects.count()} receipts",
        f"ok {AuditEvent.objects.count()} events, 0 checkpoints",
    ]


def test_chain_command_names_a_malformed_or_unknown_number(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="格式不正确"):
        call_command("chain", "内组电明字2022-11", "--json")
    with pytest.raises(CommandError, match="没有发文字号为 内组电明字〔2022〕99号"):
        call_command("chain", "内组电明字[2022]99号", "--json")


def test_the_readable_chain_shows_local_times_and_every_level(demo, capsys):
    call_command("chain", "内组电明字〔2022〕11号")
    out = capsys.readouterr().out
    assert out.startswith("内组电明字〔2022〕11号 【特提】关于进一步发挥基层党组织")
    assert "  │   内教工委函〔2022〕90号 【特急】" in out
    assert "  │     │   内大党发〔2022〕1号 【特急】" in out
    signed = Receipt.objects.select_related("unit").get(unit__name="中共内蒙古自治区教育工作委员会")
    assert f"{timezone.localtime(signed.signed_at):%Y-%m-%d %H:%M}" == "2022-10-13 09:33"
    assert "  ├ 主送 中共内蒙古自治区教育工作委员会 [completed] 签收 2022-10-13 09:33\n" in out


def test_a_drill_telegram_waits_on_top_of_jygws_inbox(demo):
    jygw = get_user_model().objects.get(username="jygw")
    top = inbox_for_user(jygw).first()
    assert (top.document.title, top.document.urgency, top.state) == (DRILL_TITLE, "特提", "pending")
    assert top.document.number == f"内组电明字〔{timezone.localdate().year}〕1号"


def _local(moment):
    return timezone.localtime(moment)


def test_the_seed_is_replayed_at_its_own_dates(demo):
    documents = {
        document.number: document
        for document in Document.objects.filter(number_year=2022).select_related("issuing_unit")
    }
    assert {
        number: (_local(document.issued_at).isoformat(), document.written_on and document.written_on.isoformat())
        for number, document in documents.items()
    } == {
        "内组电明字〔2022〕11号": ("2022-10-13T09:25:00+08:00", "2022-10-13"),
        # The seed's cover letter shows no date: the demo invents none (issue 13).
        "内教工委函〔2022〕90号": ("2022-10-14T09:05:00+08:00", None),
        "内大党发〔2022〕1号": ("2022-10-14T14:30:00+08:00", "2022-10-14"),
    }
    seed = Delivery.objects.filter(document__in=documents.values())
    # Every sign-for, 办结 and withdrawal of the seed's chain happened in October 2022, after its issue.
    moments = [
        moment
        for row in seed.values_list("created_at", "read_at", "signed_at", "completed_at", "last_reminded_at")
        for moment in row
        if moment is not None
    ]
    assert len(moments) > 200
    assert {(_local(m).year, _local(m).month) for m in moments} == {(2022, 10)}
    assert min(moments) == datetime.datetime(2022, 10, 13, 9, 25, 3, tzinfo=SHANGHAI)
    assert max(moments) < datetime.datetime(2022, 10, 17, 18, 0, tzinfo=SHANGHAI)
    # The deadlines fixed at issue fall in 2022 too: 特提, 30 minutes to sign for it, one working day
    # to complete it; the forwards cap their units' completion at their own (the end of 2022-10-14).
    assert set(seed.values_list("document__number_serial", "deadline_sign_for", "deadline_complete")) == {
        (11, datetime.datetime(2022, 10, 13, 9, 55, tzinfo=SHANGHAI), datetime.datetime(2022, 10, 15, tzinfo=SHANGHAI)),
        (90, datetime.datetime(2022, 10, 14, 9, 35, tzinfo=SHANGHAI), datetime.datetime(2022, 10, 15, tzinfo=SHANGHAI)),
        (1, datetime.datetime(2022, 10, 14, 15, 0, tzinfo=SHANGHAI), datetime.datetime(2022, 10, 15, tzinfo=SHANGHAI)),
    }
    chain_events = AuditEvent.objects.filter(document__in=documents.values())
    assert {_local(event.occurred_at).date().isoformat()[:7] for event in chain_events} == {"2022-10"}


def test_the_levels_sign_for_in_minutes_a_few_late_and_their_medians_differ(demo):
    telegram = Document.objects.get(number_prefix="内组电明字", number_year=2022, number_serial=11)
    levels = chain_levels(chain_for_document(telegram))
    assert [(level.total, level.signed, level.late_signs) for level in levels] == [(15, 14, 2), (53, 48, 7), (3, 2, 0)]
    medians = [level.median for level in levels]
    assert medians == [timedelta(minutes=7, seconds=30), timedelta(minutes=13), timedelta(minutes=21, seconds=30)]
    assert [level.slowest for level in levels] == [timedelta(minutes=77), timedelta(minutes=69), timedelta(minutes=23)]
    assert min(medians) > timedelta(0)
    assert len(set(medians)) == 3
    # History: nothing of 2022 is stalled or overdue today.
    assert [(len(level.stalled), level.completion_overdue, level.completed) for level in levels] == [
        (0, 0, 14),
        (0, 0, 48),
        (0, 0, 2),
    ]


def test_the_drill_is_dated_today_and_todays_sweep_urges_nothing_of_2022(demo):
    drill = Document.objects.get(title=DRILL_TITLE)
    today = timezone.localdate()
    assert (_local(drill.issued_at).date(), drill.written_on, drill.number_year) == (today, today, today.year)
    # The people trying the demo read their 2022 notifications then: jygw's bell shows the drill.
    unread = Notification.objects.filter(read_at__isnull=True, user__username__in=["zzb", "jygw", "imu"])
    assert list(unread.values_list("user__username", "kind", "delivery__document__title")) == [
        ("jygw", "delivered", DRILL_TITLE)
    ]
    # The beat of a demo started now finds nothing to urge; half an hour later, the drill only (特提:
    # 30 minutes to sign for it), never a delivery of 2022.
    assert services.delivery_remind_overdue(now=timezone.now()) == {"reminded": 0, "escalated": 0}
    later = timezone.now() + timedelta(minutes=31)
    assert services.delivery_remind_overdue(now=later) == {"reminded": 3, "escalated": 0}
    reminded = Delivery.objects.filter(last_reminded_at=later)
    assert set(reminded.values_list("document__title", flat=True)) == {DRILL_TITLE}


def test_a_login_writes_no_axes_info_lines_and_a_failed_one_still_warns(demo, client, caplog):
    with caplog.at_level(logging.INFO):
        client.post("/accounts/login/", {"username": "jygw", "password": "demo-password"})
        client.post("/accounts/logout/")
    assert [record.getMessage() for record in caplog.records if record.name.startswith("axes")] == []
    caplog.clear()
    with caplog.at_level(logging.INFO):
        client.post("/accounts/login/", {"username": "jygw", "password": "wrong"})
    assert [
        (record.levelname, record.getMessage()[:30]) for record in caplog.records if record.name.startswith("axes")
    ] == [("WARNING", "AXES: New login failure by {us")]


def test_the_demo_clerks_sign_what_reaches_them_after_a_delay_and_some_stall(demo):
    since = timezone.now()
    jygw = get_user_model().objects.get(username="jygw")
    drill = inbox_for_user(jygw).first()
    services.delivery_sign_for(actor=jygw, delivery_id=drill.pk)
    cover = services.document_forward(
        actor=jygw, delivery=drill, main_recipients=list(RecipientGroup.objects.filter(name="各高等学校党委"))
    )
    services.document_sign_off(actor=get_user_model().objects.get(username="jygw-leader"), document=cover)
    dispatch = services.document_issue(actor=jygw, document=cover)
    services.dispatch_route(dispatch_id=dispatch.pk)
    seed_pending = set(Delivery.objects.filter(state="pending", created_at__lt=since).values_list("pk", flat=True))

    assert demo_clerks_sign(since=since, now=timezone.now()) == 0  # nobody signs at once

    signed = demo_clerks_sign(since=since, now=timezone.now() + timedelta(minutes=5))

    deliveries = Delivery.objects.filter(dispatch=dispatch).select_related("unit")
    expected = {d.unit.name for d in deliveries if d.unit_id % 3 and d.unit.name != "中共内蒙古大学委员会"}
    assert {d.unit.name for d in deliveries if d.state == "signed"} == expected
    assert signed == len(expected) > 20
    assert "中共内蒙古大学委员会" not in expected  # imu's own unit is left to the person trying it
    assert set(Delivery.objects.filter(state="pending", created_at__lt=since).values_list("pk", flat=True)) == (
        seed_pending
    )


def test_the_demo_shows_a_finished_handling_record_and_a_live_one(demo):
    """Issue 14: 内蒙古大学党委 handled the seed's forward inside the unit in 2022 (finished), and
    handles today's notice of the 自治区党委组织部 (live)."""
    from workflow.models import HandlingRecord
    from workflow.services import handling_actions

    user = get_user_model().objects.get
    for username in ("imu-office", "imu-leader", "imu-zzb", "imu-xcb", "imu-reader1", "imu-reader2"):
        assert user(username=username).check_password("demo-password"), username
    finished, live = HandlingRecord.objects.order_by("registered_at")
    assert (finished.delivery.document.number, str(finished), finished.registered_by.username) == (
        "内教工委函〔2022〕90号",
        "收〔2022〕1号",
        "imu-office",
    )
    assert finished.delivery.state == "completed"
    assert list(finished.proposals.values_list("text", flat=True)) == ["请组织部牵头落实，宣传部配合。"]
    (instruction,) = finished.instructions.all()
    assert (instruction.instructed_by.username, instruction.text) == ("imu-leader", "同意。请组织部抓好落实。")
    assert sorted(finished.assignments.values_list("department__short_name", "part", "state")) == [
        ("宣传部", "assist", "finished"),
        ("组织部", "lead", "finished"),
    ]
    assert list(finished.reading_slips.order_by("position").values_list("reader__username", "state", "remark")) == [
        ("imu-reader1", "read", "已阅"),
        ("imu-reader2", "read", "同意，请组织部抓好落实。"),
    ]
    assert {
        _local(event.occurred_at).date().isoformat()
        for event in AuditEvent.objects.filter(
            verb__in=["DELIVERY_LOGGED", "HANDLING_INSTRUCTED", "ASSIGNMENT_FINISHED", "READING_DONE"],
            document=finished.delivery.document,
        )
    } == {"2022-10-14"}
    year = timezone.localdate().year
    assert (str(live), live.delivery.state, live.delivery.document.issuing_unit.name) == (
        f"收〔{year}〕1号",
        "signed",
        "中共内蒙古自治区委员会组织部",
    )
    assert sorted(live.assignments.values_list("department__short_name", "state")) == [
        ("宣传部", "assigned"),
        ("组织部", "accepted"),
    ]
    assert list(live.reading_slips.order_by("position").values_list("reader__username", "state")) == [
        ("imu-reader1", "read"),
        ("imu-reader2", "open"),
    ]
    delivery = live.delivery
    assert handling_actions(user(username="imu-reader2"), delivery).read is not None
    assert handling_actions(user(username="imu-xcb"), delivery).accept == (
        live.assignments.get(department__short_name="宣传部").pk,
    )
    assert handling_actions(user(username="imu-zzb"), delivery).report == (
        live.assignments.get(department__short_name="组织部").pk,
    )
    # The unit's 办结 waits for its 主办 (组织部).
    assert "complete" not in services.rules.delivery_actions(user(username="imu"), delivery)
