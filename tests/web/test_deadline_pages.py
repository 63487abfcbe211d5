"""The pages of the deadlines work: what each shows and does, through the real services, on a frozen clock."""

import io
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from documents.models import Document
from tests.factories import delivery_of, forward, issue
from tests.web.conftest import sign_in
from tests.workflow.test_deadlines import at
from workflow import services
from workflow.models import (
    AuditEvent,
    AuditVerb,
    Completion,
    Delivery,
    DeliveryReturn,
    Dispatch,
    Notification,
    ReturnReason,
)


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _titles(response) -> list[str]:
    return re.findall(r'<a href="/deliveries/\d+/">([^<]+)</a>', response.content.decode())


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def telegram(world):
    """特提 to education and other, issued 2022-10-13 09:00: sign for by 09:30, complete by 10-14 24时."""
    with time_machine.travel(at("2022-10-13 09:00"), tick=False):
        document, _dispatch = issue(
            world.zzb, world.department, main=[world.education, world.other], urgency="特提", title="关于特提事项的通知"
        )
    return document


# --- 收文 ----------------------------------------------------------------------------------------


def test_the_inbox_shows_the_sign_for_deadline_then_the_completion_deadline_and_marks_the_overdue(
    client, world, telegram
):
    sign_in(client, world.jygw)
    with time_machine.travel(at("2022-10-13 09:20"), tick=False):
        page = client.get(reverse("inbox"))
    assert "签收 2022-10-13 09:30" in _text(page)
    assert "overdue" not in page.content.decode().split("<tbody>")[1]

    with time_machine.travel(at("2022-10-13 10:00"), tick=False):
        page = client.get(reverse("inbox"))
        assert "签收逾期 30分钟" in _text(page)
        assert 'class="unread urgent overdue"' in page.content.decode()
        services.delivery_sign_for(actor=world.jygw, delivery_id=delivery_of(telegram, world.education).pk)
        page = client.get(reverse("inbox"), {"tab": "signed"})
    assert "办结 2022-10-14 24:00" in _text(page)
    assert "逾期" not in _text(page).split("办理时限")[-1]

    with time_machine.travel(at("2022-10-15 08:00"), tick=False):
        assert "办结逾期 8小时" in _text(client.get(reverse("inbox"), {"tab": "signed"}))


def test_overdue_rows_come_first_within_an_urgency_and_the_flash_telegram_stays_on_top(client, world):
    with time_machine.travel(at("2022-10-13 09:00"), tick=False):
        issue(world.zzb, world.department, main=[world.education], urgency="加急", title="早发的加急通知")
    with time_machine.travel(at("2022-10-13 14:00"), tick=False):
        issue(world.zzb, world.department, main=[world.education], urgency="加急", title="晚发的加急通知")
        issue(world.zzb, world.department, main=[world.education], urgency="特提", title="刚到的特提电报")
    sign_in(client, world.jygw)
    with time_machine.travel(at("2022-10-13 14:05"), tick=False):
        # 早发的 is past its 4-hour sign-for deadline (13:00); 晚发的 is newer but on time.
        assert _titles(client.get(reverse("inbox"))) == ["刚到的特提电报", "早发的加急通知", "晚发的加急通知"]


def test_a_recalled_unsigned_delivery_leaves_the_pending_tab_and_its_page_is_the_stub(client, world, telegram):
    delivery = delivery_of(telegram, world.other)
    services.delivery_recall(actor=world.zzb, delivery_id=delivery.pk, reason="主送单位有误")
    sign_in(client, world.other_clerk)
    assert _titles(client.get(reverse("inbox"))) == []
    assert _titles(client.get(reverse("inbox"), {"tab": "recalled"})) == ["关于特提事项的通知"]
    page = client.get(reverse("delivery", args=[delivery.pk]))
    assert page.status_code == 410
    text = _text(page)
    assert "已撤回" in text
    assert "撤回原因 主送单位有误" in text
    assert telegram.body not in text
    assert reverse("delivery-sign", args=[delivery.pk]) not in page.content.decode()


# --- the delivery page: 退文 and 办结 -----------------------------------------------------------------


def test_a_clerk_returns_a_delivery_with_a_reason_and_the_issuer_is_told(client, world, telegram):
    delivery = delivery_of(telegram, world.education)
    sign_in(client, world.jygw)
    page = client.get(reverse("delivery", args=[delivery.pk])).content.decode()
    for label in ReturnReason.labels:
        assert str(label) in page

    response = client.post(
        reverse("delivery-return", args=[delivery.pk]),
        {"reason": ReturnReason.WRONG_FORMAT, "text": "应为通知，不是电报。"},
        follow=True,
    )

    returned = DeliveryReturn.objects.get(delivery=delivery)
    assert (returned.reason, returned.text) == ("wrong_format", "应为通知，不是电报。")
    assert returned.returned_by_id == world.jygw.pk
    assert "已退文" in _text(response)
    assert reverse("return_notice", args=[returned.pk]) in response.content.decode()
    assert Notification.objects.get(user=world.zzb, kind="returned").delivery_id == delivery.pk


def test_a_return_for_another_reason_needs_a_text_and_writes_nothing_without_one(
    client, world, telegram, nothing_written
):
    delivery = delivery_of(telegram, world.education)
    sign_in(client, world.jygw)
    with nothing_written():
        response = client.post(reverse("delivery-return", args=[delivery.pk]), {"reason": "other", "text": " "})
    assert response.status_code == 400
    assert "退文理由为“其他”时，请写明具体理由。" in response.content.decode()
    # The form at the top of the page, open, its errors first (issue 11).
    assert '<section class="panel form-retry" id="return"' in response.content.decode()


def test_a_clerk_completes_with_feedback_and_a_file_the_issuer_can_download(client, world, telegram):
    delivery = delivery_of(telegram, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    sign_in(client, world.jygw)
    response = client.post(
        reverse("delivery-complete", args=[delivery.pk]),
        {
            "feedback": "已传达到各高校。",
            "attachments": [SimpleUploadedFile("落实情况.txt", "第一条。".encode(), content_type="text/plain")],
        },
        follow=True,
    )
    completion = Completion.objects.get(delivery=delivery)
    assert completion.feedback == "已传达到各高校。"
    (file,) = completion.attachments.all()
    assert "已传达到各高校。" in _text(response)
    assert "落实情况.txt" in _text(response)

    sign_in(client, world.zzb)
    download = client.get(reverse("completion-attachment", args=[file.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).decode() == "第一条。"


def test_completion_names_every_bad_file_and_writes_nothing(client, world, telegram, nothing_written):
    delivery = delivery_of(telegram, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    sign_in(client, world.jygw)
    with nothing_written():
        response = client.post(
            reverse("delivery-complete", args=[delivery.pk]),
            {
                "feedback": "已办。",
                "attachments": [
                    SimpleUploadedFile("病毒.exe", b"MZ"),
                    SimpleUploadedFile("空.txt", b""),
                    SimpleUploadedFile("假.pdf", b"not a pdf"),
                ],
            },
        )
    assert response.status_code == 400
    text = _text(response)
    assert "附件“病毒.exe”的类型不允许" in text
    assert "附件“空.txt”是空文件" in text
    assert "附件“假.pdf”的内容与扩展名 .pdf 不符" in text


def test_the_delivery_page_offers_each_side_only_its_own_actions(client, world, telegram):
    delivery = delivery_of(telegram, world.education)
    forms = {
        "sign": reverse("delivery-sign", args=[delivery.pk]),
        "return": reverse("delivery-return", args=[delivery.pk]),
        "complete": reverse("delivery-complete", args=[delivery.pk]),
        "remind": reverse("delivery-remind", args=[delivery.pk]),
        "recall": reverse("delivery-recall", args=[delivery.pk]),
    }

    def offered(user) -> set[str]:
        sign_in(client, user)
        html = client.get(reverse("delivery", args=[delivery.pk])).content.decode()
        return {name for name, url in forms.items() if f'action="{url}"' in html}

    assert offered(world.jygw) == {"sign", "return"}
    assert offered(world.zzb) == {"remind", "recall"}
    assert offered(world.auditor) == set()
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    assert offered(world.jygw) == {"return", "complete"}
    services.delivery_complete(actor=world.jygw, delivery_id=delivery.pk, feedback="已办。")
    assert offered(world.jygw) == set()
    assert offered(world.zzb) == {"recall"}  # a completed delivery may still be recalled (its unit is told)


def test_the_delivery_page_shows_the_deadlines_and_the_reminders_received(client, world, telegram):
    delivery = delivery_of(telegram, world.education)
    with time_machine.travel(at("2022-10-13 09:31"), tick=False):
        services.delivery_remind_overdue()
    with time_machine.travel(at("2022-10-13 09:40"), tick=False):
        services.delivery_remind(actor=world.zzb, delivery_id=delivery.pk)
        sign_in(client, world.jygw)
        text = _text(client.get(reverse("delivery", args=[delivery.pk])))
    assert "签收时限 2022-10-13 09:30 已逾期 10分钟" in text
    assert "办结时限 2022-10-14 24:00" in text
    assert "已催办 2 次 最近一次 2022-10-13 09:40" in text
    assert "催办 系统 第1次，催签收" in text
    assert "催办 zzb 第2次，催签收" in text


# --- 发文: overdue, 催办, 撤回, returns ---------------------------------------------------------------


def test_the_outbox_lists_the_overdue_units_and_a_remind_press_reminds_once(client, world, telegram):
    sign_in(client, world.zzb)
    with time_machine.travel(at("2022-10-13 09:20"), tick=False):
        assert "逾期未办" not in _text(client.get(reverse("outbox")))
    with time_machine.travel(at("2022-10-13 10:00"), tick=False):
        services.delivery_sign_for(actor=world.jygw, delivery_id=delivery_of(telegram, world.education).pk)
        page = client.get(reverse("outbox"))
        text = _text(page)
        assert "逾期未办 1" in text
        assert "自治区直属机关工委" in text.split("逾期未办")[1].split("撤回全部分发")[0]
        assert "自治区直属机关工委 未签收 逾期 30分钟 时限 2022-10-13 09:30" in text
        other = delivery_of(telegram, world.other)
        response = client.post(reverse("delivery-remind", args=[other.pk]), {"next": reverse("outbox")}, follow=True)
        assert "已向自治区直属机关工委催办（第1次）。" in _text(response)
        again = client.post(reverse("delivery-remind", args=[other.pk]), follow=True)
        assert "刚刚已经催办过，请稍后再催办。" in _text(again)
    other.refresh_from_db()
    assert other.reminder_count == 1
    assert Notification.objects.filter(kind="reminder", delivery=other).count() == 1


def test_recalling_a_whole_dispatch_from_the_outbox(client, world, telegram):
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery_of(telegram, world.education).pk)
    sign_in(client, world.zzb)
    dispatch = telegram.dispatches.get()
    assert reverse("dispatch-recall", args=[dispatch.pk]) in client.get(reverse("outbox")).content.decode()

    response = client.post(reverse("dispatch-recall", args=[dispatch.pk]), {"reason": "文字有误"}, follow=True)

    assert (
        "已撤回内组电明字〔2022〕1号。未签收的 1 件已从对方收文中撤回。已签收的 1 件已撤回，对方不能再查看。"
        in _text(response)
    )
    assert Dispatch.objects.get(pk=dispatch.pk).recall.reason == "文字有误"
    assert delivery_of(telegram, world.other).state == Delivery.State.RECALLED
    assert reverse("dispatch-recall", args=[dispatch.pk]) not in response.content.decode()
    assert "已撤回" in _text(response)


def test_the_outbox_lists_returns_with_their_notice_and_a_corrected_document_answers_one(client, world, telegram):
    returned = services.delivery_return(
        actor=world.jygw,
        delivery_id=delivery_of(telegram, world.education).pk,
        reason=ReturnReason.NOT_CONSULTED,
        text="请先会签。",
    )
    sign_in(client, world.zzb)
    page = client.get(reverse("outbox"))
    text = _text(page)
    assert "收到的退文 1" in text
    assert "未协商会签" in text
    new_url = f"{reverse('document-new')}?unit={world.department.pk}&amp;answers={returned.pk}"
    assert reverse("return_notice", args=[returned.pk]) in page.content.decode()
    assert new_url in page.content.decode()

    # The draft form starts from the returned document, addressed to the unit that returned it.
    form = client.get(new_url.replace("&amp;", "&")).content.decode()
    assert "关于特提事项的通知" in form
    assert f'name="main_units" value="{world.education.pk}"' in form

    draft = services.document_draft(
        actor=world.zzb,
        unit=world.department,
        content=telegram_content(),
        main_recipients=[world.education],
    )
    services.document_sign_off(actor=world.zzb_leader, document=draft)
    page = client.get(reverse("document", args=[draft.pk]), {"answers": returned.pk}).content.decode()
    assert f'<option value="{returned.pk}" selected>' in page
    response = client.post(reverse("document-issue", args=[draft.pk]), {"answers_return": returned.pk})
    assert response.status_code == 302
    assert Dispatch.objects.get(document=draft).answers_return_id == returned.pk
    assert "已更正重发" in _text(client.get(reverse("outbox")))


def telegram_content():
    from tests.factories import content

    return content(title="关于特提事项的通知（更正）", urgency="特提")


def test_issuing_with_an_earlier_completion_deadline(client, world):
    draft = services.document_draft(
        actor=world.zzb, unit=world.department, content=telegram_content(), main_recipients=[world.education]
    )
    services.document_sign_off(actor=world.zzb_leader, document=draft)
    sign_in(client, world.zzb)
    with time_machine.travel(at("2022-10-13 09:00"), tick=False):
        late = client.post(reverse("document-issue", args=[draft.pk]), {"complete_by": "2022-10-20"}, follow=True)
        assert "只能提前，不能推后" in _text(late)
        assert Document.objects.get(pk=draft.pk).state == Document.State.SIGNED_OFF
        client.post(reverse("document-issue", args=[draft.pk]), {"complete_by": "2022-10-13"})
    assert Dispatch.objects.get(document=draft).deadline_complete == at("2022-10-14 00:00")


def test_the_return_notice_uses_the_site_layout_and_login_and_no_inline_style(client, world, telegram):
    returned = services.delivery_return(
        actor=world.jygw,
        delivery_id=delivery_of(telegram, world.education).pk,
        reason=ReturnReason.OTHER,
        text="份数不对。",
    )
    url = reverse("return_notice", args=[returned.pk])
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"{reverse('login')}?next={url}"

    sign_in(client, world.zzb)
    response = client.get(url)
    html = response.content.decode()
    assert 'class="topbar"' in html  # the site's base template
    assert "<style" not in html
    assert " style=" not in html
    assert "onclick" not in html
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    text = _text(response)
    for expected in ("退文告知单", "自治区党委组织部：", telegram.number, "其他", "份数不对。", "自治区教育工委"):
        assert expected in text


# --- chain -----------------------------------------------------------------------------------------


def test_the_chain_page_shows_lateness_and_the_feedback_to_the_issuer_and_auditors(client, world, telegram):
    education = delivery_of(telegram, world.education)
    with time_machine.travel(at("2022-10-13 09:45"), tick=False):
        services.delivery_sign_for(actor=world.jygw, delivery_id=education.pk)
        services.delivery_complete(
            actor=world.jygw,
            delivery_id=education.pk,
            feedback="已部署到各高校。",
            attachments=[("部署情况.txt", io.BytesIO("一、二、三。".encode()))],
        )
    file = Completion.objects.get().attachments.get()
    for user in (world.zzb, world.auditor):
        sign_in(client, user)
        with time_machine.travel(at("2022-10-13 10:00"), tick=False):
            response = client.get(reverse("chain", args=[telegram.pk]))
        text = _text(response)
        assert "签收晚 15分钟" in text  # education signed at 09:45 for 09:30
        assert "签收逾期 30分钟" in text  # other has not signed
        assert "办结反馈（落实情况） 1" in text
        assert "已部署到各高校。" in text
        assert reverse("completion-attachment", args=[file.pk]) in response.content.decode()
        assert "时限 30分钟" in text  # the chart's deadline, from the deliveries
        assert client.get(reverse("completion-attachment", args=[file.pk])).status_code == 200
    # other_auditor may open this chain (it reached the unit they audit), so sees its feedback too.
    for outsider in (world.other_clerk, world.imu, world.college_clerk):
        sign_in(client, outsider)
        assert client.get(reverse("completion-attachment", args=[file.pk])).status_code == 404


def test_feedback_from_below_a_forward_reaches_the_root_issuer(client, world):
    root, _ = issue(world.zzb, world.department, main=[world.education])
    cover, _ = forward(world.jygw, delivery_of(root, world.education), main=[world.university])
    received = delivery_of(cover, world.university)
    services.delivery_sign_for(actor=world.imu, delivery_id=received.pk)
    services.delivery_complete(
        actor=world.imu,
        delivery_id=received.pk,
        feedback="已组织学习。",
        attachments=[("学习.txt", io.BytesIO("学习记录".encode()))],
    )
    file = Completion.objects.get().attachments.get()
    sign_in(client, world.zzb)
    assert "已组织学习。" in _text(client.get(reverse("chain", args=[root.pk])))
    assert client.get(reverse("completion-attachment", args=[file.pk])).status_code == 200


# --- notifications ------------------------------------------------------------------------------


def test_the_new_notification_kinds_read_well(client, world, telegram):
    services.delivery_return(
        actor=world.jygw, delivery_id=delivery_of(telegram, world.education).pk, reason=ReturnReason.NOT_COMPETENT
    )
    sign_in(client, world.zzb)
    response = client.get(reverse("notifications"))
    html = response.content.decode()
    assert '<span class="pill pill-red">退文</span>' in html
    assert "自治区教育工委退回了" in html
    assert reverse("return_notice", args=[DeliveryReturn.objects.get().pk]) in html


# --- 拟稿 ------------------------------------------------------------------------------------------


def test_a_drafter_drafts_with_groups_searched_units_copies_and_attachments(client, world):
    sign_in(client, world.zzb)
    form = client.get(reverse("document-new")).content.decode()
    assert "各直属党委（2 个单位）" in form
    found = client.get(reverse("unit-search"), {"role": "main", "q_main": "大学"}).content.decode()
    assert re.findall(r'value="(\d+)"', found) == [str(world.university.pk), str(world.university_b.pk)]
    response = client.post(
        f"{reverse('document-new')}?unit={world.department.pk}",
        {
            "kind": "通知",
            "urgency": "特急",
            "classification": "公开",
            "number_prefix": "内组字",
            "written_on": "2022-10-13",
            "title": "关于开展调研的通知",
            "body": "请各单位做好准备。\n具体安排另行通知。",
            "main_groups": [world.groups["各直属党委"].pk],
            "main_units": [world.university.pk],
            "cc_units": [world.region.pk],
            "attachments": [
                SimpleUploadedFile("名单.txt", "名单".encode()),
                SimpleUploadedFile("日程.txt", "日程".encode()),
            ],
        },
    )
    document = Document.objects.get(title="关于开展调研的通知")
    assert response.status_code == 302
    assert response["Location"] == reverse("document", args=[document.pk])
    assert (document.state, document.urgency, document.number_prefix) == ("draft", "特急", "内组字")
    assert document.main_recipients_text == "各直属党委、内蒙古大学党委："
    assert document.cc_text == "自治区党委"
    assert [a.name for a in document.attachments.order_by("position")] == ["名单.txt", "日程.txt"]
    assert AuditEvent.objects.filter(verb=AuditVerb.DOCUMENT_DRAFTED, document=document).count() == 1


def test_drafting_names_every_bad_file_and_every_missing_element_and_writes_nothing(client, world, nothing_written):
    sign_in(client, world.zzb)
    with nothing_written():
        response = client.post(
            reverse("document-new"),
            {
                "kind": "通知",
                "urgency": "普通",
                "classification": "公开",
                "number_prefix": "内组字",
                "written_on": "2022-10-13",
                "title": "",
                "body": "正文。",
                "attachments": [SimpleUploadedFile("宏.docm", b"PK\x03\x04"), SimpleUploadedFile("图.png", b"GIF89a")],
            },
        )
    assert response.status_code == 200
    text = _text(response)
    assert "附件“宏.docm”的类型不允许" in text
    assert "附件“图.png”的内容与扩展名 .png 不符" in text
    assert "请至少选择一个主送或抄送的收文对象组或单位。" in text
    assert "这个字段是必填项。" in text


def test_the_search_button_shows_matches_without_saving_or_complaining(client, world, nothing_written):
    sign_in(client, world.zzb)
    with nothing_written():
        response = client.post(
            reverse("document-new"),
            {"title": "", "search": "main", "q_main": "工业", "main_units": [world.university.pk]},
        )
    html = response.content.decode()
    assert f'id="main-unit-{world.university_b.pk}"' in html  # found
    assert f'value="{world.university.pk}" id="main-unit-{world.university.pk}" checked' in html  # kept
    assert "这个字段是必填项。" not in html


def test_only_drafters_and_clerks_draft_and_only_for_their_own_units(client, world, nothing_written):
    sign_in(client, world.imu_signer)  # a signer only
    assert client.get(reverse("document-new")).status_code == 404
    sign_in(client, world.jygw)
    with nothing_written():
        assert client.get(reverse("document-new"), {"unit": world.department.pk}).status_code == 404
        response = client.post(f"{reverse('document-new')}?unit={world.department.pk}", {"title": "x"})
    assert response.status_code == 404


def test_the_new_pages_read_in_english_when_chosen(client, world, telegram, settings):
    education = delivery_of(telegram, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=education.pk)
    returned = services.delivery_return(
        actor=world.other_clerk, delivery_id=delivery_of(telegram, world.other).pk, reason=ReturnReason.WRONG_FORMAT
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    sign_in(client, world.jygw)
    with time_machine.travel(at("2022-10-15 10:00"), tick=False):
        assert "complete by" in _text(client.get(reverse("inbox"), {"tab": "signed"}))
        page = _text(client.get(reverse("delivery", args=[education.pk])))
    for expected in (
        "Completion deadline",
        "Complete",
        "Return",
        "Feedback (what was done)",
        "Not consulted or co-signed",
    ):
        assert expected in page
    assert "Main recipients: groups" not in page
    sign_in(client, world.zzb)
    with time_machine.travel(at("2022-10-15 10:00"), tick=False):
        outbox = _text(client.get(reverse("outbox")))
    for expected in ("Overdue", "Returns received", "Return notice", "Draft a corrected document", "Urge"):
        assert expected in outbox
    draft = _text(client.get(reverse("document-new")))
    assert "Find a unit (any unit)" in draft
    # The notice itself stays in Chinese, a document of record.
    notice = _text(client.get(reverse("return_notice", args=[returned.pk])))
    assert "Print" in notice
    assert "文种格式不符" in notice
