"""The pages inside a recipient unit (issue 14): 待办 / 已办, the 办理单 on the delivery page with the
forms its reader may use, the printable 办理单, the chain's handling states, and 代理.

Every form: its success through the one service, and a refusal that shows the service's message
(never a 500) and writes nothing."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.factories import person
from tests.web.conftest import sign_in
from tests.web.inunit import assignment_of, build_inside, instructed, received_by, slip_of
from units.models import Role
from workflow import services
from workflow.models import (
    Assignment,
    AuditEvent,
    AuditVerb,
    Delegation,
    HandlingRecord,
    Instruction,
    Proposal,
    ReadingSlip,
    Reply,
)


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).strip()


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


@pytest.fixture
def inside(world):
    return build_inside(world.university, world.imu, prefix="imu_")


@pytest.fixture
def delivery(world, inside):
    return received_by(world, world.university, world.imu, title="关于进一步加强基层党组织建设的通知")


def _post(client, name, args, data=None, **kwargs):
    return client.post(reverse(name, args=args), data or {}, follow=True, **kwargs)


# --- 登记 -------------------------------------------------------------------------------------------


def test_the_clerk_registers_from_the_delivery_page_and_gets_the_units_next_number(client, world, inside, delivery):
    sign_in(client, world.imu)
    page = client.get(reverse("delivery", args=[delivery.pk])).content.decode()
    assert reverse("delivery-register", args=[delivery.pk]) in page
    assert reverse("handling-instruct", args=[delivery.pk]) not in page

    response = _post(client, "delivery-register", [delivery.pk], {"copies": 2, "remark": "原件存档"})

    record = HandlingRecord.objects.get(delivery=delivery)
    year = timezone.localdate().year
    assert (record.serial, record.year, record.copies, record.remark) == (1, year, 2, "原件存档")
    assert record.registered_by == world.imu
    assert _messages(response) == [f"已登记，收文编号收〔{year}〕1号。"]
    text = _text(response)
    assert f"收文编号 收〔{year}〕1号" in text
    assert "2 份" in text
    assert reverse("delivery-register", args=[delivery.pk]) not in response.content.decode()


def test_a_leader_may_not_register_and_nothing_is_written(client, world, inside, delivery, nothing_written):
    sign_in(client, inside.secretary)
    assert (
        reverse("delivery-register", args=[delivery.pk])
        not in client.get(reverse("delivery", args=[delivery.pk])).content.decode()
    )
    with nothing_written():
        response = _post(client, "delivery-register", [delivery.pk], {"copies": 1})
    assert response.status_code == 200
    assert _messages(response) == [f"您不是{world.university.name}的收发员，不能收文登记。"]


def test_registering_zero_copies_is_refused_by_the_form_and_nothing_is_written(
    client, world, inside, delivery, nothing_written
):
    sign_in(client, world.imu)
    with nothing_written():
        response = _post(client, "delivery-register", [delivery.pk], {"copies": 0})
    assert _messages(response) == ["确保该值大于或等于1。"]


# --- 拟办, 批办 --------------------------------------------------------------------------------------


def test_the_clerk_proposes_with_departments_and_the_leader_instructs(client, world, inside, delivery):
    services.delivery_register(actor=world.imu, delivery_id=delivery.pk)
    sign_in(client, world.imu)
    page = client.get(reverse("delivery", args=[delivery.pk])).content.decode()
    assert f'value="{inside.organisation.pk}"' in page  # the departments to suggest
    response = _post(
        client,
        "handling-propose",
        [delivery.pk],
        {"text": "请组织部牵头落实，宣传部配合。", "departments": [inside.organisation.pk, inside.publicity.pk]},
    )
    proposal = Proposal.objects.get(record__delivery=delivery)
    assert proposal.text == "请组织部牵头落实，宣传部配合。"
    assert set(proposal.departments.all()) == {inside.organisation, inside.publicity}
    assert _messages(response) == ["拟办意见已提交。"]
    assert "请组织部牵头落实，宣传部配合。" in _text(response)
    assert reverse("handling-instruct", args=[delivery.pk]) not in response.content.decode()

    sign_in(client, inside.secretary)
    deadline = timezone.localdate() + datetime.timedelta(days=3)
    response = _post(
        client,
        "handling-instruct",
        [delivery.pk],
        {
            "text": "同意。请组织部抓好落实。",
            "lead_departments": [inside.organisation.pk],
            "assist_departments": [inside.publicity.pk],
            # The order posted is the order of 依次传阅: reader_b first.
            "readers": [inside.reader_b.pk, inside.reader_a.pk],
            "reading_mode": "sequential",
            "deadline": deadline.isoformat(),
        },
    )
    assert _messages(response) == ["批示已提交，已交办承办部门和传阅人。"]
    instruction = Instruction.objects.get(record__delivery=delivery)
    assert instruction.text == "同意。请组织部抓好落实。"
    assert instruction.instructed_by == inside.secretary
    assert instruction.readers_may_pass_on is False
    assert timezone.localtime(instruction.deadline).date() == deadline + datetime.timedelta(days=1)  # 24时
    assert sorted(Assignment.objects.filter(record__delivery=delivery).values_list("department_id", "part")) == sorted(
        [(inside.organisation.pk, "lead"), (inside.publicity.pk, "assist")]
    )
    assert list(
        ReadingSlip.objects.filter(record__delivery=delivery).order_by("position").values_list("reader_id", "state")
    ) == [(inside.reader_b.pk, "open"), (inside.reader_a.pk, "waiting")]
    text = _text(response)
    assert "同意。请组织部抓好落实。" in text
    assert "承办中 0/2" in text


def test_a_handler_without_the_clerk_role_cannot_propose_and_nothing_is_written(
    client, world, inside, delivery, nothing_written
):
    record = instructed(inside, delivery)
    sign_in(client, inside.org_handler)
    with nothing_written():
        response = _post(client, "handling-propose", [delivery.pk], {"text": "冒名拟办"})
    assert response.status_code == 200
    assert _messages(response) == [f"您不是{world.university.name}的收发员，不能拟办。"]
    assert record.proposals.count() == 1


def test_the_clerk_may_not_instruct_and_nothing_is_written(client, world, inside, delivery, nothing_written):
    services.delivery_register(actor=world.imu, delivery_id=delivery.pk)
    sign_in(client, world.imu)
    with nothing_written():
        response = _post(
            client,
            "handling-instruct",
            [delivery.pk],
            {"text": "冒名批示", "lead_departments": [inside.organisation.pk], "reading_mode": "sequential"},
        )
    assert _messages(response) == [f"您不是{world.university.name}的领导，不能批办。"]


def test_an_instruction_without_text_is_refused_by_the_form_and_nothing_is_written(
    client, world, inside, delivery, nothing_written
):
    services.delivery_register(actor=world.imu, delivery_id=delivery.pk)
    sign_in(client, inside.secretary)
    with nothing_written():
        response = _post(client, "handling-instruct", [delivery.pk], {"text": "", "reading_mode": "sequential"})
    assert _messages(response) == ["这个字段是必填项。"]


def test_an_instruction_deadline_after_the_one_received_is_refused_and_nothing_is_written(
    client, world, inside, delivery, nothing_written
):
    services.delivery_register(actor=world.imu, delivery_id=delivery.pk)
    late = timezone.localtime(delivery.deadline_complete).date() + datetime.timedelta(days=30)
    sign_in(client, inside.secretary)
    with nothing_written():
        response = _post(
            client,
            "handling-instruct",
            [delivery.pk],
            {
                "text": "同意。",
                "lead_departments": [inside.organisation.pk],
                "reading_mode": "sequential",
                "deadline": late.isoformat(),
            },
        )
    [message] = _messages(response)
    assert "办理时限" in message


# --- 承办 -------------------------------------------------------------------------------------------


def test_the_lead_department_accepts_reports_with_a_file_and_finishes(
    client, world, inside, delivery, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    record = instructed(inside, delivery)
    assignment = assignment_of(record, inside.organisation)
    sign_in(client, inside.org_handler)
    page = client.get(reverse("delivery", args=[delivery.pk])).content.decode()
    assert reverse("assignment-accept", args=[delivery.pk, assignment.pk]) in page
    other = assignment_of(record, inside.publicity)
    assert reverse("assignment-accept", args=[delivery.pk, other.pk]) not in page
    crumbs = page.split('<p class="crumbs">', 1)[1].split("</p>", 1)[0]
    assert f'<a href="{reverse("todo")}">待办</a>' in crumbs  # the way back of a department's people

    response = _post(client, "assignment-accept", [delivery.pk, assignment.pk])
    assert _messages(response) == [f"{inside.organisation.name}已接办。"]
    assignment.refresh_from_db()
    assert (assignment.state, assignment.accepted_by) == ("accepted", inside.org_handler)

    response = _post(
        client,
        "assignment-report",
        [delivery.pk, assignment.pk],
        {
            "text": "已召开专题会议部署落实。",
            "files": [SimpleUploadedFile("会议纪要.txt", "纪要".encode())],
            "finish": "on",
        },
    )
    assert _messages(response) == ["承办情况已报送，本部门已办毕。"]
    assignment.refresh_from_db()
    assert (assignment.state, assignment.finished_by) == ("finished", inside.org_handler)
    report = assignment.reports.get()
    assert report.text == "已召开专题会议部署落实。"
    assert [file.name for file in report.files.all()] == ["会议纪要.txt"]
    text = _text(response)
    assert "已召开专题会议部署落实。" in text
    assert "会议纪要.txt" in text
    assert "承办中 1/2" in text


def test_the_assisting_department_may_not_accept_the_leads_part_and_nothing_is_written(
    client, world, inside, delivery, nothing_written
):
    record = instructed(inside, delivery)
    lead = assignment_of(record, inside.organisation)
    sign_in(client, inside.pub_handler)
    with nothing_written():
        response = _post(client, "assignment-accept", [delivery.pk, lead.pk])
    assert response.status_code == 200
    assert _messages(response) == [f"您不是{inside.organisation.name}的承办人，不能承办。"]
    with nothing_written():
        response = _post(client, "assignment-report", [delivery.pk, lead.pk], {"text": "冒名报送", "finish": "on"})
    assert _messages(response) == [f"您不是{inside.organisation.name}的承办人，不能报送承办情况。"]


def test_a_report_without_text_is_refused_by_the_form_and_nothing_is_written(
    client, world, inside, delivery, nothing_written
):
    record = instructed(inside, delivery)
    sign_in(client, inside.org_handler)
    with nothing_written():
        response = _post(client, "assignment-report", [delivery.pk, assignment_of(record, inside.organisation).pk])
    assert _messages(response) == ["这个字段是必填项。"]


# --- 传阅 -------------------------------------------------------------------------------------------


def test_readers_read_in_turn_with_their_remarks(client, world, inside, delivery):
    record = instructed(inside, delivery)
    sign_in(client, inside.reader_b)
    page = client.get(reverse("delivery", args=[delivery.pk])).content.decode()
    assert reverse("reading-done", args=[delivery.pk, slip_of(record, inside.reader_b).pk]) not in page  # not yet

    sign_in(client, inside.reader_a)
    page = client.get(reverse("delivery", args=[delivery.pk])).content.decode()
    crumbs = page.split('<p class="crumbs">', 1)[1].split("</p>", 1)[0]
    assert f'<a href="{reverse("todo")}">待办</a>' in crumbs  # a reader is no member: back to 待办
    slip = slip_of(record, inside.reader_a)
    response = _post(client, "reading-done", [delivery.pk, slip.pk], {"remark": ""})
    assert _messages(response) == ["已阅。"]
    slip.refresh_from_db()
    assert (slip.state, slip.remark) == ("read", "已阅")
    assert slip_of(record, inside.reader_b).state == "open"

    sign_in(client, inside.reader_b)
    response = _post(client, "reading-done", [delivery.pk, slip_of(record, inside.reader_b).pk], {"remark": "请抓紧。"})
    assert _messages(response) == ["已阅。"]
    assert "请抓紧。" in _text(response)


def test_a_reader_whose_turn_has_not_come_may_not_read_and_nothing_is_written(
    client, world, inside, delivery, nothing_written
):
    record = instructed(inside, delivery)
    sign_in(client, inside.reader_b)
    with nothing_written():
        response = client.post(
            reverse("reading-done", args=[delivery.pk, slip_of(record, inside.reader_b).pk]), {"remark": "抢先"}
        )
    assert response.status_code == 404  # a reader who is no member sees it once their turn comes
    # A reader who is also a member of the unit (a leader) sees it, and is refused by the rules.
    services.role_grant(actor=None, unit=world.university, role=Role.LEADER, user=inside.reader_b)
    with nothing_written():
        response = _post(client, "reading-done", [delivery.pk, slip_of(record, inside.reader_b).pk], {"remark": "抢先"})
    [message] = _messages(response)
    assert "未到" in message


def test_a_reader_passes_it_on_only_where_the_leader_allowed_it(client, world, inside, delivery, nothing_written):
    extra = person(world.university, Role.READER, username="imu_reader_c")
    record = instructed(inside, delivery)
    sign_in(client, inside.reader_a)
    slip = slip_of(record, inside.reader_a)
    assert (
        reverse("reading-pass-on", args=[delivery.pk, slip.pk])
        not in client.get(reverse("delivery", args=[delivery.pk])).content.decode()
    )
    with nothing_written():
        response = _post(client, "reading-pass-on", [delivery.pk, slip.pk], {"readers": [extra.pk]})
    assert _messages(response) == [f"批办时没有允许阅文人转阅{delivery.document.number}。"]

    allowed = received_by(world, world.university, world.imu, title="关于可转阅的通知")
    record = instructed(inside, allowed, may_pass_on=True)
    slip = slip_of(record, inside.reader_a)
    response = _post(client, "reading-pass-on", [allowed.pk, slip.pk], {"readers": [extra.pk]})
    assert _messages(response) == ["已转阅给imu_reader_c。"]
    passed = slip_of(record, extra)
    assert passed.passed_by == inside.reader_a


# --- 答复 -------------------------------------------------------------------------------------------


def test_the_clerk_drafts_a_reply_from_the_delivery_page(client, world, inside, delivery):
    instructed(inside, delivery)
    sign_in(client, world.imu)
    response = client.post(
        reverse("reply-draft", args=[delivery.pk]), {"title": "关于落实情况的报告", "body": "已按要求落实。"}
    )
    reply = Reply.objects.get(delivery=delivery)
    assert response.status_code == 302
    assert response["Location"] == reverse("document", args=[reply.document_id])
    assert reply.document.title == "关于落实情况的报告"
    assert reply.document.issuing_unit == world.university
    page = _text(client.get(reverse("delivery", args=[delivery.pk])))
    assert "答复： 关于落实情况的报告 （草稿）" in page


def test_a_leader_may_not_draft_a_reply_and_nothing_is_written(client, world, inside, delivery, nothing_written):
    instructed(inside, delivery)
    sign_in(client, inside.secretary)
    with nothing_written():
        response = _post(client, "reply-draft", [delivery.pk], {"title": "冒名答复", "body": "正文"})
    [message] = _messages(response)
    assert "不能答复" in message


# --- 待办 / 已办 ------------------------------------------------------------------------------------


def test_each_persons_todo_lists_their_own_kind_of_work(client, world, inside, delivery):
    other = received_by(world, world.university, world.imu, title="关于待登记的通知")
    record = instructed(inside, delivery)
    services.assignment_accept(actor=inside.pub_handler, assignment_id=assignment_of(record, inside.publicity).pk)

    def todo(user) -> str:
        sign_in(client, user)
        return _text(client.get(reverse("todo")))

    assert re.search(r"待登记 1 .*关于待登记的通知", todo(world.imu))
    assert "关于进一步加强基层党组织建设的通知" not in todo(world.imu)  # proposed already
    assert re.search(r"待承办 1 主办", todo(inside.org_handler))
    assert re.search(r"待承办 1 协办 .* 办理中", todo(inside.pub_handler))
    assert "待阅 1" in todo(inside.reader_a)
    assert "没有待办事项。" in todo(inside.reader_b)  # not their turn yet
    assert "没有待办事项。" in todo(inside.idle_handler)
    assert other.document.title not in todo(inside.secretary)  # not registered: not theirs yet

    sign_in(client, world.imu)
    done = _text(client.get(reverse("todo"), {"tab": "done"}))
    assert re.search(r"拟办 关于进一步加强基层党组织建设的通知 .* 请组织部牵头落实，宣传部配合。", done)
    assert "收文登记" in done


def test_the_navigation_links_the_todo_page_and_the_delegations(client, world):
    sign_in(client, world.auditor)
    page = client.get(reverse("chains")).content.decode()
    assert f'href="{reverse("todo")}"' in page
    assert f'href="{reverse("delegations")}"' in page


# --- the printable 办理单, the chain ----------------------------------------------------------------


def test_the_printable_handling_sheet_has_the_customary_rows(client, world, inside, delivery):
    record = instructed(inside, delivery)
    sign_in(client, world.imu)
    response = client.get(reverse("handling-sheet", args=[delivery.pk]))
    assert response.status_code == 200
    text = _text(response)
    for label in (
        "来文单位",
        "文号",
        "收文编号",
        "收文日期",
        "标题",
        "拟办意见",
        "领导批示",
        "承办情况",
        "传阅情况",
        "办理结果",
    ):
        assert label in text, label
    assert f"{world.university.name} 收文办理单" in text
    assert str(record) in text
    assert "同意。请组织部抓好落实。" in text


def test_the_chain_page_shows_each_units_handling_state(client, world, inside, delivery):
    record = instructed(inside, delivery)
    services.assignment_report(
        actor=inside.org_handler, assignment_id=assignment_of(record, inside.organisation).pk, text="办毕", finish=True
    )
    registered_only = received_by(world, world.university, world.imu, title="关于只登记的通知")
    services.delivery_register(actor=world.imu, delivery_id=registered_only.pk)
    sign_in(client, world.jygw)
    assert "承办中 1/2" in _text(client.get(reverse("chain", args=[delivery.document_id])))
    assert "已登记" in _text(client.get(reverse("chain", args=[registered_only.document_id])))


# --- 代理 -------------------------------------------------------------------------------------------


def test_a_clerk_names_a_deputy_who_registers_for_them_and_then_withdraws_it(client, world, inside, delivery):
    deputy = person(world.university, Role.DRAFTER, username="imu_deputy")
    sign_in(client, world.imu)
    now = timezone.localtime()
    response = client.post(
        reverse("delegations"),
        {
            "unit": world.university.pk,
            "deputy": deputy.pk,
            "starts_at": (now - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        },
        follow=True,
    )
    delegation = Delegation.objects.get()
    assert (delegation.principal, delegation.deputy, delegation.unit) == (world.imu, deputy, world.university)
    assert _messages(response) == ["已委托imu_deputy代理。"]
    assert "生效中" in _text(response)

    sign_in(client, deputy)
    assert re.search(r"待登记 1 .*关于进一步加强基层党组织建设的通知", _text(client.get(reverse("todo"))))
    page = client.get(reverse("delivery", args=[delivery.pk]))
    assert "您正在代理imu办理" in _text(page)
    response = _post(client, "delivery-register", [delivery.pk], {"copies": 1})
    record = HandlingRecord.objects.get(delivery=delivery)
    assert (record.registered_by, record.on_behalf_of) == (deputy, world.imu)
    assert "imu_deputy（代imu）" in _text(response)

    sign_in(client, world.imu)
    response = _post(client, "delegation-withdraw", [delegation.pk])
    assert _messages(response) == ["代理已收回。"]
    delegation.refresh_from_db()
    assert delegation.withdrawn_by == world.imu
    assert "没有代理。" in _text(response)


def test_a_delegation_that_ends_before_it_starts_is_refused_and_nothing_is_written(
    client, world, inside, nothing_written
):
    deputy = person(world.university, Role.DRAFTER, username="imu_deputy")
    sign_in(client, world.imu)
    now = timezone.localtime()
    with nothing_written():
        response = client.post(
            reverse("delegations"),
            {
                "unit": world.university.pk,
                "deputy": deputy.pk,
                "starts_at": (now + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
                "ends_at": now.strftime("%Y-%m-%dT%H:%M"),
            },
        )
    assert response.status_code == 400
    assert "结束时间" in _text(response)


def test_only_the_principal_withdraws_a_delegation_and_nothing_is_written(client, world, inside, nothing_written):
    deputy = person(world.university, Role.DRAFTER, username="imu_deputy")
    now = timezone.now()
    delegation = services.delegation_grant(
        actor=world.imu,
        unit_id=world.university.pk,
        principal_id=world.imu.pk,
        deputy_id=deputy.pk,
        starts_at=now,
        ends_at=now + datetime.timedelta(days=1),
    )
    sign_in(client, inside.reader_a)
    with nothing_written():
        response = client.post(reverse("delegation-withdraw", args=[delegation.pk]))
    assert response.status_code in (302, 404)
    assert AuditEvent.objects.filter(verb=AuditVerb.DELEGATION_WITHDRAWN).count() == 0


def test_the_pages_are_in_english_too(client, world, inside, delivery):
    instructed(inside, delivery)
    sign_in(client, inside.secretary)
    client.cookies["django_language"] = "en"
    text = _text(client.get(reverse("delivery", args=[delivery.pk])))
    assert "Handling record" in text
    assert "Instruction" in text
    text = _text(client.get(reverse("todo")))
    assert "To do" in text


def test_a_department_handler_lands_on_their_todo_and_a_unit_clerk_on_the_inbox(client, world, inside):
    sign_in(client, inside.org_handler)
    response = client.get(reverse("inbox"))
    assert (response.status_code, response["Location"]) == (302, reverse("todo"))
    client.logout()
    sign_in(client, world.imu)
    assert client.get(reverse("inbox")).status_code == 200
