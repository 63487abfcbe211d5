"""What each page shows and does, through the real services."""

import datetime
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import delivery_of, forward, issue
from tests.web.conftest import issue_with_attachments, sign_in
from workflow import services
from workflow.models import AuditEvent, AuditVerb, Delivery, Forward, Notification
from workflow.selectors import chain_for_document


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_inbox_puts_the_flash_telegram_at_the_top_and_marks_unread_rows(client, world):
    issue(world.zzb, world.department, main=[world.education], urgency="普通", title="关于普通事项的通知")
    issue(world.zzb, world.department, main=[world.education], urgency="特提", title="关于特提事项的通知")
    issue(world.zzb, world.department, main=[world.education], urgency="加急", title="关于加急事项的通知")
    sign_in(client, world.jygw)

    response = client.get(reverse("inbox"))

    titles = re.findall(r'<a href="/deliveries/\d+/">([^<]+)</a>', response.content.decode())
    assert titles == ["关于特提事项的通知", "关于加急事项的通知", "关于普通事项的通知"]
    assert response.content.decode().count('class="unread urgent"') == 1
    assert response.content.decode().count('class="unread"') == 2
    assert "待签收 3" in _text(response)


def test_inbox_search_by_number_words_issuer_urgency_and_date(client, world):
    first, _ = issue(world.zzb, world.department, main=[world.education], title="关于开展学习的通知", urgency="特急")
    issue(world.zzb, world.department, main=[world.education], title="关于防汛工作的通知")
    sign_in(client, world.jygw)
    today = timezone.localdate().isoformat()
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()

    def found(**query):
        html = client.get(reverse("inbox"), {"tab": "all", **query}).content.decode()
        return re.findall(r'<a href="/deliveries/\d+/">([^<]+)</a>', html)

    assert found(number=first.number) == ["关于开展学习的通知"]
    assert found(number=str(first.number_serial)) == ["关于开展学习的通知"]
    assert found(words="防汛 通知") == ["关于防汛工作的通知"]
    assert found(issuer="组织部") == ["关于防汛工作的通知", "关于开展学习的通知"]
    assert found(issuer="教育") == []
    assert found(urgency="特急") == ["关于开展学习的通知"]
    assert found(date_from=today, date_to=today) == ["关于防汛工作的通知", "关于开展学习的通知"]
    assert found(date_from=tomorrow) == []


def test_opening_a_delivery_records_the_read_time_once_and_reads_its_notifications(client, world):
    document = issue_with_attachments(world, attachments=2)
    services.dispatch_notify(dispatch_id=document.dispatches.get().pk)
    received = delivery_of(document, world.education)
    assert Notification.objects.get(user=world.jygw).read_at is None
    sign_in(client, world.jygw)

    response = client.get(reverse("delivery", args=[received.pk]))
    client.get(reverse("delivery", args=[received.pk]))

    assert response.status_code == 200
    received.refresh_from_db()
    assert received.read_at is not None
    assert received.read_by_id == world.jygw.pk
    assert AuditEvent.objects.filter(verb=AuditVerb.DELIVERY_READ, object_id=str(received.pk)).count() == 1
    assert Notification.objects.get(user=world.jygw).read_at is not None
    text = _text(response)
    assert "附件1.txt" in text
    assert "附件2.txt" in text
    assert document.attachments.first().sha256 in response.content.decode()
    assert "签收" in text
    assert "发往" in text
    assert "共 4 页" in text


def test_the_issuer_opening_a_delivery_records_nothing(client, world):
    document = issue_with_attachments(world)
    received = delivery_of(document, world.education)
    sign_in(client, world.zzb)
    assert client.get(reverse("delivery", args=[received.pk])).status_code == 200
    received.refresh_from_db()
    assert received.read_at is None


def test_sign_for_shows_the_receipt_with_the_digest_signed_for(client, world):
    document = issue_with_attachments(world)
    received = delivery_of(document, world.education)
    sign_in(client, world.jygw)

    response = client.post(reverse("delivery-sign", args=[received.pk]), follow=True)

    received.refresh_from_db()
    assert received.state == Delivery.State.SIGNED
    assert received.receipt.content_digest == document.digest
    html = response.content.decode()
    assert 'id="receipt"' in html
    assert document.digest in html
    assert "与公文摘要一致" in html
    assert reverse("delivery-forward", args=[received.pk]) in html


def test_forward_page_prefills_the_cover_text_and_lists_groups_and_child_units(client, world):
    document = issue_with_attachments(world)
    received = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=received.pk)
    sign_in(client, world.jygw)

    response = client.get(reverse("delivery-forward", args=[received.pk]))

    text = _text(response)
    assert f"现将《{document.title}》（{document.number}）转发给你们，请认真组织学习并抓好贯彻落实。" in text
    assert "各高等学校党委（2 个单位）" in text
    assert "内蒙古大学党委" in text
    assert "内蒙古工业大学党委" in text
    # the preview's title, in its printed lines (broken between words), then its body
    assert "自治区教育工委转发关于 做好测试工作的紧急通知 现将" in text


def test_forward_preview_shows_the_chosen_recipients_and_writes_nothing(client, world, nothing_written):
    document = issue_with_attachments(world)
    received = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=received.pk)
    sign_in(client, world.jygw)
    with nothing_written():
        response = client.post(
            reverse("delivery-forward-preview", args=[received.pk]),
            {"units": [world.university.pk], "urgency": "特急", "body": "请各校认真学习。"},
            headers={"HX-Request": "true"},
        )
    assert response.status_code == 200
    text = _text(response)
    assert "内蒙古大学党委：" in text
    assert "请各校认真学习。" in text
    assert "特急" in text


@pytest.mark.parametrize(("number_prefix", "is_letter"), [("内教工委函", True), ("别人的函", False)])
def test_forward_preview_takes_the_format_of_the_chosen_number_series(client, world, number_prefix, is_letter):
    # 内教工委函 is a 函 series: its cover letter prints as a letter. A prefix that is not the unit's
    # is ignored by the preview (and refused by the form).
    document = issue_with_attachments(world)
    received = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=received.pk)
    sign_in(client, world.jygw)
    response = client.post(
        reverse("delivery-forward-preview", args=[received.pk]),
        {"units": [world.university.pk], "urgency": "特急", "body": "请各校认真学习。", "number_prefix": number_prefix},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert ('class="official-document letter"' in response.content.decode()) is is_letter


def test_forward_then_sign_off_then_issue_from_the_pages(client, world):
    document = issue_with_attachments(world)
    received = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=received.pk)
    sign_in(client, world.jygw)

    response = client.post(
        reverse("delivery-forward", args=[received.pk]),
        {
            "groups": [world.groups["各高校党委"].pk],
            "urgency": "特急",
            "number_prefix": "内教工委函",
            "body": "请各高校党委认真组织学习。",
        },
    )
    cover = Forward.objects.get(source_delivery=received).cover
    assert response.status_code == 302
    assert response["Location"] == reverse("document", args=[cover.pk])
    assert cover.body == "请各高校党委认真组织学习。"
    assert cover.main_recipients_text == "各高等学校党委："
    page = client.get(reverse("document", args=[cover.pk])).content.decode()
    # jygw drafted it: another signer of the unit signs it off (核稿 and 签发 by two people).
    assert reverse("document-sign-off", args=[cover.pk]) not in page
    sign_in(client, world.jygw_leader)
    assert (
        reverse("document-sign-off", args=[cover.pk])
        in client.get(reverse("document", args=[cover.pk])).content.decode()
    )
    client.post(reverse("document-sign-off", args=[cover.pk]))
    sign_in(client, world.jygw)
    page = client.get(reverse("document", args=[cover.pk])).content.decode()
    assert reverse("document-issue", args=[cover.pk]) in page
    response = client.post(reverse("document-issue", args=[cover.pk]))

    cover.refresh_from_db()
    assert cover.state == "issued"
    assert cover.number == f"内教工委函〔{timezone.localdate().year}〕1号"
    assert response["Location"] == reverse("outbox") + f"?unit={world.education.pk}"
    outbox = _text(client.get(response["Location"]))
    assert "正在分发：已送达 0 / 2" in outbox  # the worker has not routed it yet


def test_forward_form_refuses_no_recipients_and_writes_nothing(client, world, nothing_written):
    document = issue_with_attachments(world)
    received = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=received.pk)
    sign_in(client, world.jygw)
    with nothing_written():
        response = client.post(
            reverse("delivery-forward", args=[received.pk]),
            {"urgency": "特提", "number_prefix": "内教工委函", "body": "请学习。"},
        )
    assert response.status_code == 200
    assert "请至少选择一个收文对象组或下级单位。" in response.content.decode()


def test_outbox_shows_progress_units_not_signed_and_forwards_below(client, world):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education, world.other], urgency="特提")
    forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    sign_in(client, world.zzb)

    text = _text(client.get(reverse("outbox")))

    assert "已签收 1 / 2" in text
    assert "未签收： 自治区直属机关工委" in text
    assert "下级转发 1 件" in text
    assert f"自治区教育工委 → 内教工委函〔{timezone.localdate().year}〕1号 已签收 0 / 2" in text


def test_outbox_refreshes_itself_with_htmx(client, world):
    issue(world.zzb, world.department, main=[world.education])
    sign_in(client, world.zzb)
    page = client.get(reverse("outbox")).content.decode()
    assert 'hx-trigger="every 5s"' in page
    partial = client.get(reverse("outbox"), headers={"HX-Request": "true"}).content.decode()
    assert partial.startswith('\n<div id="outbox-list"') or partial.lstrip().startswith('<div id="outbox-list"')
    assert "<html" not in partial


def test_chain_json_export_equals_the_chain_selector(client, world):
    document, _ = issue(world.zzb, world.department, main=[world.education, world.other], urgency="特提")
    cover, _ = forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    services.delivery_sign_for(actor=world.imu, delivery_id=delivery_of(cover, world.university).pk)
    sign_in(client, world.auditor)

    response = client.get(reverse("chain-json", args=[document.pk]))

    assert response.status_code == 200
    assert json.loads(response.content) == chain_for_document(document).as_json()


def test_chain_csv_has_one_row_per_delivery_at_every_level(client, world):
    document, _ = issue(world.zzb, world.department, main=[world.education, world.other])
    forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    sign_in(client, world.zzb)

    response = client.get(reverse("chain-csv", args=[document.pk]))

    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("层级,发文字号,发文机关,收文单位")
    assert len(lines) == 1 + 2 + 2
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["1", "1", "2", "2"]


def test_chain_page_shows_both_levels_stalled_units_and_a_verified_audit_trail(client, world):
    document, _ = issue(world.zzb, world.department, main=[world.education, world.other], urgency="特提")
    cover, _ = forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    services.delivery_sign_for(actor=world.imu, delivery_id=delivery_of(cover, world.university).pk)
    sign_in(client, world.auditor)

    response = client.get(reverse("chain", args=[document.pk]))

    html = response.content.decode()
    text = _text(response)
    assert "第1级" in text
    assert "第2级" in text
    assert "未签收单位 2" in text  # 直属机关工委 at level 1, 工业大学 at level 2
    assert "自治区直属机关工委" in text
    assert "内蒙古工业大学党委" in text
    assert "哈希链校验通过" in text
    assert html.count("<svg") >= 2
    assert "<polyline" in html


@pytest.mark.parametrize(("language", "expected"), [("zh-hans", "收文"), ("en", "Inbox")])
def test_pages_are_chinese_unless_english_is_chosen(client, world, settings, language, expected):
    sign_in(client, world.jygw)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("inbox"), headers={"Accept-Language": "en-US,en"})
    assert f"<h1>{expected}</h1>" in response.content.decode()


def test_every_page_has_a_content_security_policy_without_inline_scripts(client, world):
    document, _ = issue(world.zzb, world.department, main=[world.education])
    sign_in(client, world.zzb)
    for url in (reverse("inbox"), reverse("outbox"), reverse("chain", args=[document.pk]), reverse("login")):
        response = client.get(url)
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy
        html = response.content.decode()
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
        assert " style=" not in html
        assert " on" + "click=" not in html


def test_five_wrong_passwords_lock_the_account_out(client, world, settings):
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(url, {"username": "jygw", "password": "wrong"}).status_code == 200
    locked = client.post(url, {"username": "jygw", "password": "wrong"})
    assert locked.status_code == 429
    assert "账号已暂时锁定" in locked.content.decode()


def test_chain_list_shows_top_documents_in_scope_only(client, world):
    document, _ = issue(world.zzb, world.department, main=[world.education], title="关于顶层公文的通知")
    forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    issue(world.other_clerk, world.other, main=[world.education], title="关于直属机关的通知")

    sign_in(client, world.other_auditor)
    assert _chain_titles(client) == ["关于直属机关的通知"]
    sign_in(client, world.auditor)
    assert _chain_titles(client) == ["关于直属机关的通知", "关于顶层公文的通知"]


def _chain_titles(client) -> list[str]:
    return re.findall(r'<a href="/documents/\d+/chain/">([^<]+)</a>', client.get(reverse("chains")).content.decode())


def test_every_audit_verb_has_a_label_in_both_languages():
    """The audit record of the chain page names each event; a verb without a label would show its
    code (READING_DONE) to a Chinese reader."""
    from django.utils import translation

    from web.templatetags.web_tags import VERB_LABELS
    from workflow.models import AuditVerb

    assert set(AuditVerb.values) - set(VERB_LABELS) == set()
    with translation.override("en"):
        untranslated = [
            verb for verb, label in VERB_LABELS.items() if any("\u4e00" <= c <= "\u9fff" for c in str(label))
        ]
    assert untranslated == []
