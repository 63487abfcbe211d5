import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from documents.digest import document_content_digest
from documents.models import Document
from units.models import RecipientGroup
from workflow import services
from workflow.audit import audit_verify
from workflow.demo import DRILL_TITLE, TELEGRAM_TITLE
from workflow.demo.simulate import demo_clerks_sign
from workflow.models import AuditEvent, Delivery, Receipt
from workflow.selectors import inbox_for_user


@pytest.fixture
def demo(db, capsys):
    call_command("demo")
    return capsys.readouterr().out


def _chain(capsys, number="内组电明字〔2022〕11号"):
    call_command("chain", number, "--json")
    return json.loads(capsys.readouterr().out)


def test_demo_prints_the_logins_and_the_password(demo):
    assert "demo-password" in demo
    for login in ("zzb", "jygw", "imu", "auditor"):
        assert f"  {login} " in demo


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
    assert len(tree["deliveries"]) == 15  # 12 盟市委组织部 + 3 直属党（工）委
    education = next(d for d in tree["deliveries"] if d["unit"] == "中共内蒙古自治区教育工作委员会")
    assert (education["state"], education["receipt_digest"]) == ("signed", tree["digest"])
    (cover,) = education["forwards"]
    assert cover["number"] == "内教工委函〔2022〕90号"
    assert cover["encloses"] == [{"number": "内组电明字〔2022〕11号", "digest": tree["digest"]}]
    assert len(cover["deliveries"]) == 53
    signed = [d for d in cover["deliveries"] if d["state"] == "signed"]
    assert len(signed) == 5
    assert all(d["receipt_digest"] == cover["digest"] for d in signed)
    imu = next(d for d in cover["deliveries"] if d["unit"] == "中共内蒙古大学委员会")
    (imu_cover,) = imu["forwards"]
    assert imu_cover["encloses"] == [{"number": "内教工委函〔2022〕90号", "digest": cover["digest"]}]
    assert [d["state"] for d in imu_cover["deliveries"]] == ["signed", "pending", "pending"]
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
            "digest",
            "encloses",
            "deliveries",
        }
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
            }
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
    assert capsys.readouterr().out.strip() == f"ok {AuditEvent.objects.count()} events"


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
    assert "  │   内教工委函〔2022〕90号 【特提】" in out
    assert "  │     │   内大党发〔2022〕1号 【特提】" in out
    signed = Receipt.objects.select_related("unit").get(unit__name="中共内蒙古自治区教育工作委员会")
    assert f"中共内蒙古自治区教育工作委员会 [signed] 签收 {timezone.localtime(signed.signed_at):%Y-%m-%d %H:%M}" in out


def test_a_drill_telegram_waits_on_top_of_jygws_inbox(demo):
    jygw = get_user_model().objects.get(username="jygw")
    top = inbox_for_user(jygw).first()
    assert (top.document.title, top.document.urgency, top.state) == (DRILL_TITLE, "特提", "pending")
    assert top.document.number == f"内组电明字〔{timezone.localdate().year}〕1号"


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
