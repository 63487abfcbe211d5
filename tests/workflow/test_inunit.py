"""Inside a recipient unit (issue 14): 收文登记, 拟办, 批办, 承办, 传阅, 答复 and the unit's 办结, each
with its rules, its refusals (nothing written) and its audit event. Deputies: test_inunit_deputies.py;
who sees what: test_inunit_access.py; 承办催办: test_inunit_deadlines.py."""

import datetime
import io

import pytest
from django.utils import timezone

from tests.factories import build_inner_unit, person, received
from units.errors import Conflict, InvalidInput, NotAllowed, NotFound
from units.models import Role, Unit
from workflow import services
from workflow.models import (
    Assignment,
    AssignmentReportFile,
    AuditEvent,
    AuditVerb,
    Delivery,
    HandlingRecord,
    Notification,
    ReadingSlip,
)
from workflow.services import handling_actions

PDF = b"%PDF-1.4 report\n"


@pytest.fixture
def inner(world):
    return build_inner_unit(world)


@pytest.fixture
def delivery(world, inner):
    return received(world)


@pytest.fixture
def record(inner, delivery):
    return services.delivery_register(inner.office_clerk, delivery.pk)


def _last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-seq").first()


def _instruct(inner, record, **overrides):
    arguments = {
        "text": "同意。请组织部抓好落实。",
        "lead_department_ids": [inner.organization.pk],
        "assist_department_ids": [inner.publicity.pk],
        "reader_ids": [inner.reader_a.pk, inner.reader_b.pk],
    }
    arguments.update(overrides)
    return services.handling_instruct(inner.secretary, record.pk, **arguments)


# --- departments ----------------------------------------------------------------------------------


def test_a_clerk_creates_a_department_named_after_the_unit(world, inner):
    department = services.department_create(world.imu, world.university.pk, name="纪委办公室")
    assert (department.name, department.short_name, department.kind, department.parent_id) == (
        "内蒙古大学党委纪委办公室",
        "纪委办公室",
        "inner_department",
        world.university.pk,
    )
    assert department.path == f"{world.university.path}{department.pk}/"
    event = _last_event()
    assert (event.verb, event.actor_id, event.unit_id, event.payload["kind"]) == (
        "UNIT_CREATED",
        world.imu.pk,
        department.pk,
        "inner_department",
    )


@pytest.mark.parametrize(
    ("who", "unit", "name", "error", "message"),
    [
        ("imu_signer", "university", "组织部二", NotAllowed, "您不是内蒙古大学党委的收发员，不能设立内设机构。"),
        ("jygw", "university", "组织部二", NotAllowed, "您不是内蒙古大学党委的收发员，不能设立内设机构。"),
        ("imu", "university", "组织部", InvalidInput, "单位“内蒙古大学党委组织部”已经存在。"),
        ("imu", "university", "  ", InvalidInput, "请填写内设机构名称。"),
        ("imu", "missing", "组织部二", NotFound, "单位不存在或已停用。"),
    ],
)
def test_department_create_refusals_write_nothing(world, inner, nothing_written, who, unit, name, error, message):
    unit_id = world.university.pk if unit == "university" else 10**9
    units = Unit.objects.count()
    with nothing_written(), pytest.raises(error) as refused:
        services.department_create(getattr(world, who), unit_id, name=name)
    assert refused.value.message == message
    assert Unit.objects.count() == units


def test_roles_inside_a_unit_go_where_they_belong(world, inner, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput) as refused:
        person(world.university, Role.HANDLER)
    assert refused.value.message == "承办人只能是内设机构的角色，内蒙古大学党委不是内设机构。"
    with nothing_written(), pytest.raises(InvalidInput) as refused:
        services.role_grant(actor=None, unit=inner.organization, role=Role.LEADER, user=world.imu)
    assert refused.value.message == "领导是单位的角色，不能授予内设机构内蒙古大学党委组织部。"


def test_departments_are_never_recipients(world, inner, nothing_written):
    from tests.factories import content
    from units.selectors import recipient_list_from_names, unit_list_addressable, unit_list_directory

    assert not unit_list_addressable().filter(kind=Unit.Kind.INNER_DEPARTMENT).exists()
    assert not unit_list_directory("组织部").filter(parent=world.university).exists()
    with pytest.raises(InvalidInput) as unknown:
        recipient_list_from_names(world.university, ["内蒙古大学党委组织部"])
    assert unknown.value.message == "未知的收文单位或收文对象组：内蒙古大学党委组织部。"
    with nothing_written(), pytest.raises(InvalidInput) as refused:
        services.document_draft(
            actor=world.imu, unit=world.university, content=content(), main_recipients=[inner.organization]
        )
    assert refused.value.message == "内设机构不能作为收文单位：内蒙古大学党委组织部。"
    with nothing_written(), pytest.raises(InvalidInput) as grouped:
        services.recipient_group_save(
            actor=None, owner=world.university, name="各部门", members=[world.college, inner.publicity]
        )
    assert grouped.value.message == "内设机构不能作为收文单位：内蒙古大学党委宣传部。"


# --- 收文登记 -------------------------------------------------------------------------------------


def test_register_gives_the_units_next_number_of_the_year(world, inner, delivery):
    record = services.delivery_register(inner.office_clerk, delivery.pk, copies=3, remark="原件存档")
    second = services.delivery_register(world.imu, received(world).pk)
    year = timezone.localdate().year
    assert (str(record), record.serial, second.serial, record.copies, record.remark) == (
        f"收〔{year}〕1号",
        1,
        2,
        3,
        "原件存档",
    )
    assert (record.unit_id, record.registered_by_id, record.on_behalf_of_id) == (
        world.university.pk,
        inner.office_clerk.pk,
        None,
    )
    event = AuditEvent.objects.get(verb=AuditVerb.DELIVERY_LOGGED, object_id=str(record.pk))
    assert (event.actor_id, event.unit_id, event.document_id, event.object_type) == (
        inner.office_clerk.pk,
        world.university.pk,
        delivery.document_id,
        "HandlingRecord",
    )
    assert event.payload == {
        "delivery_id": delivery.pk,
        "number": f"收〔{year}〕1号",
        "year": year,
        "serial": 1,
        "copies": 3,
        "remark": "原件存档",
    }


def test_register_twice_names_the_number_already_given(inner, delivery, record, nothing_written):
    with nothing_written(), pytest.raises(Conflict) as refused:
        services.delivery_register(inner.office_clerk, delivery.pk)
    assert refused.value.message == f"内教工委函〔2022〕1号已经由内蒙古大学党委登记，收文编号为{record}。"


def test_register_refusals_write_nothing(world, inner, nothing_written):
    from tests.factories import delivery_of, issue

    document, _dispatch = issue(world.jygw, world.education, main=[world.university])
    pending = delivery_of(document, world.university)
    cases = [
        (inner.secretary, pending.pk, {}, NotAllowed, "您不是内蒙古大学党委的收发员，不能收文登记。"),
        (inner.org_handler, pending.pk, {}, NotAllowed, "您不是内蒙古大学党委的收发员，不能收文登记。"),
        (world.jygw, pending.pk, {}, NotAllowed, "您不是内蒙古大学党委的收发员，不能收文登记。"),
        (
            world.imu,
            pending.pk,
            {},
            Conflict,
            "送给内蒙古大学党委的内教工委函〔2022〕1号状态为待签收，不能收文登记。签收后才能收文登记。",
        ),
        (world.imu, pending.pk, {"copies": 0}, InvalidInput, "份数须为 1 到 999 之间的整数。"),
        (world.imu, 10**9, {}, NotFound, "送达记录不存在或无权查看。"),
    ]
    for actor, delivery_id, options, error, message in cases:
        with nothing_written(), pytest.raises(error) as refused:
            services.delivery_register(actor, delivery_id, **options)
        assert refused.value.message == message


def test_a_recalled_delivery_cannot_be_registered(world, inner, delivery, nothing_written):
    services.delivery_recall(actor=world.jygw, delivery_id=delivery.pk, reason="发错了")
    with nothing_written(), pytest.raises(Conflict) as refused:
        services.delivery_register(world.imu, delivery.pk)
    assert refused.value.message.startswith("送给内蒙古大学党委的内教工委函〔2022〕1号状态为签收后撤回，不能收文登记。")


# --- 拟办 and 批办 --------------------------------------------------------------------------------


def test_propose_suggests_departments_of_the_unit(inner, delivery, record):
    proposal = services.handling_propose(
        inner.office_clerk,
        record.pk,
        text="请组织部牵头落实，宣传部配合",
        department_ids=[inner.organization.pk, inner.publicity.pk],
    )
    assert sorted(proposal.departments.values_list("short_name", flat=True)) == ["宣传部", "组织部"]
    event = _last_event()
    assert (event.verb, event.object_type, event.object_id, event.actor_id) == (
        "HANDLING_PROPOSED",
        "Proposal",
        str(proposal.pk),
        inner.office_clerk.pk,
    )
    assert event.payload == {
        "record_id": record.pk,
        "text": "请组织部牵头落实，宣传部配合",
        "departments": [
            {"id": inner.organization.pk, "name": "组织部"},
            {"id": inner.publicity.pk, "name": "宣传部"},
        ],
    }


def test_propose_refusals_write_nothing(world, inner, record, nothing_written):
    other = services.department_create(world.univ_b_clerk, world.university_b.pk, name="组织部")
    cases = [
        (inner.secretary, {"text": "拟办"}, NotAllowed, "您不是内蒙古大学党委的收发员，不能拟办。"),
        (inner.office_clerk, {"text": " "}, InvalidInput, "请填写拟办意见。"),
        (
            inner.office_clerk,
            {"text": "拟办", "department_ids": [other.pk, world.college.pk]},
            InvalidInput,
            "内蒙古工业大学党委组织部、计算机学院党委不是内蒙古大学党委的内设机构。",
        ),
    ]
    for actor, arguments, error, message in cases:
        with nothing_written(), pytest.raises(error) as refused:
            services.handling_propose(actor, record.pk, **arguments)
        assert refused.value.message == message
    with nothing_written(), pytest.raises(NotFound):
        services.handling_propose(inner.office_clerk, 10**9, text="拟办")


def test_instruct_assigns_departments_opens_the_first_slip_and_notifies(inner, delivery, record):
    deadline = timezone.now() + datetime.timedelta(days=2)
    instruction = _instruct(inner, record, deadline=deadline, readers_may_pass_on=True)
    assert list(
        Assignment.objects.filter(record=record)
        .order_by("id")
        .values_list("department__short_name", "part", "state", "deadline")
    ) == [("组织部", "lead", "assigned", deadline), ("宣传部", "assist", "assigned", deadline)]
    assert list(ReadingSlip.objects.filter(record=record).values_list("reader__username", "position", "state")) == [
        ("reader_a", 1, "open"),
        ("reader_b", 2, "waiting"),
    ]
    assert sorted(
        Notification.objects.filter(delivery=delivery, kind__in=["assigned", "reading"]).values_list(
            "user__username", "kind", "round"
        )
    ) == [("org_handler", "assigned", 1), ("pub_handler", "assigned", 1), ("reader_a", "reading", 0)]
    assert Notification.objects.get(user=inner.org_handler).text.startswith(
        "请主办内教工委函〔2022〕1号《关于做好测试工作的通知》。批示：同意。请组织部抓好落实。（办理时限："
    )
    instructed, opened = AuditEvent.objects.order_by("-seq")[1], _last_event()
    assert (instructed.verb, instructed.object_id, opened.verb) == (
        "HANDLING_INSTRUCTED",
        str(instruction.pk),
        "READING_OPENED",
    )
    assert instructed.payload == {
        "record_id": record.pk,
        "text": "同意。请组织部抓好落实。",
        "deadline": deadline.isoformat(),
        "lead": [{"id": inner.organization.pk, "name": "组织部"}],
        "assist": [{"id": inner.publicity.pk, "name": "宣传部"}],
        "readers": [{"id": inner.reader_a.pk, "name": "reader_a"}, {"id": inner.reader_b.pk, "name": "reader_b"}],
        "reading_mode": "sequential",
        "readers_may_pass_on": True,
    }


def test_parallel_reading_opens_every_slip(inner, record):
    _instruct(inner, record, lead_department_ids=[], assist_department_ids=[], reading_mode="parallel")
    assert list(ReadingSlip.objects.values_list("state", flat=True)) == ["open", "open"]
    assert AuditEvent.objects.filter(verb=AuditVerb.READING_OPENED).count() == 2


def test_instruct_refusals_write_nothing(world, inner, delivery, record, nothing_written):
    later = delivery.deadline_complete + datetime.timedelta(hours=1)
    cases = [
        (inner.office_clerk, {}, NotAllowed, "您不是内蒙古大学党委的领导，不能批办。"),
        (
            inner.secretary,
            {"lead_department_ids": [], "assist_department_ids": [], "reader_ids": []},
            InvalidInput,
            "请至少指定一个主办部门或一位阅文人。",
        ),
        (
            inner.secretary,
            {"lead_department_ids": [], "reader_ids": [inner.reader_a.pk]},
            InvalidInput,
            "指定协办部门时，须同时指定主办部门。",
        ),
        (
            inner.secretary,
            {"assist_department_ids": [inner.organization.pk]},
            InvalidInput,
            "内蒙古大学党委组织部不能既主办又协办。",
        ),
        (
            inner.secretary,
            {"reader_ids": [inner.org_handler.pk, world.imu.pk]},
            InvalidInput,
            "org_handler、imu不是内蒙古大学党委的领导或阅文人，不能传阅。",
        ),
        (
            inner.secretary,
            {"deadline": timezone.now() - datetime.timedelta(minutes=1)},
            InvalidInput,
            None,
        ),
        (
            inner.secretary,
            {"reading_mode": "circular"},
            InvalidInput,
            "传阅方式“circular”不存在，可选：sequential、parallel。",
        ),
        (inner.secretary, {"text": ""}, InvalidInput, "请填写批示。"),
    ]
    for actor, overrides, error, message in cases:
        arguments = {
            "text": "同意。",
            "lead_department_ids": [inner.organization.pk],
            "assist_department_ids": [inner.publicity.pk],
            "reader_ids": [inner.reader_a.pk],
            **overrides,
        }
        with nothing_written(), pytest.raises(error) as refused:
            services.handling_instruct(actor, record.pk, **arguments)
        if message is not None:
            assert refused.value.message == message
    with nothing_written(), pytest.raises(InvalidInput) as too_late:
        _instruct(inner, record, deadline=later)
    from workflow.deadlines import local_text

    assert too_late.value.message == (
        f"办理时限{local_text(later)}不能晚于本单位收到的办结时限{local_text(delivery.deadline_complete)}。"
    )


def test_a_second_instruction_may_not_assign_a_department_or_reader_twice(inner, record, nothing_written):
    _instruct(inner, record)
    with nothing_written(), pytest.raises(Conflict) as assigned:
        _instruct(inner, record, assist_department_ids=[], reader_ids=[])
    assert assigned.value.message == "内蒙古大学党委组织部已经承办这份公文。"
    with nothing_written(), pytest.raises(Conflict) as reading:
        _instruct(inner, record, lead_department_ids=[], assist_department_ids=[], reader_ids=[inner.reader_b.pk])
    assert reading.value.message == "reader_b已在这份公文的传阅名单上。"


# --- 承办 -----------------------------------------------------------------------------------------


def test_accept_report_and_finish_move_forward_only(inner, delivery, record, nothing_written):
    _instruct(inner, record)
    lead = Assignment.objects.get(department=inner.organization)
    accepted = services.assignment_accept(inner.org_handler, lead.pk)
    assert (accepted.state, accepted.accepted_by_id) == ("accepted", inner.org_handler.pk)
    event = _last_event()
    assert (event.verb, event.unit_id, event.payload) == (
        "ASSIGNMENT_ACCEPTED",
        inner.organization.pk,
        {"record_id": record.pk, "department": {"id": inner.organization.pk, "name": "组织部"}, "part": "lead"},
    )
    with nothing_written(), pytest.raises(Conflict) as twice:
        services.assignment_accept(inner.org_handler, lead.pk)
    assert twice.value.message == "内蒙古大学党委组织部对内教工委函〔2022〕1号的主办状态为办理中，不能承办。"
    first = services.assignment_report(inner.org_handler, lead.pk, text="已召开部务会部署。")
    final = services.assignment_report(
        inner.org_handler, lead.pk, text="已落实。", files=[("落实情况.pdf", io.BytesIO(PDF))], finish=True
    )
    lead.refresh_from_db()
    assert (lead.state, lead.finished_by_id, first.assignment_id, final.text) == (
        "finished",
        inner.org_handler.pk,
        lead.pk,
        "已落实。",
    )
    (stored,) = AssignmentReportFile.objects.filter(report=final)
    assert (stored.name, stored.size, stored.content_type, stored.file.read()) == (
        "落实情况.pdf",
        len(PDF),
        "application/pdf",
        PDF,
    )
    reported, finished = AuditEvent.objects.order_by("-seq")[1], _last_event()
    assert (reported.verb, finished.verb, reported.payload["files"][0]["name"], reported.payload["finish"]) == (
        "ASSIGNMENT_REPORTED",
        "ASSIGNMENT_FINISHED",
        "落实情况.pdf",
        True,
    )
    with nothing_written(), pytest.raises(Conflict):
        services.assignment_report(inner.org_handler, lead.pk, text="再报。")


def test_a_report_on_an_assignment_not_yet_accepted_accepts_it_first(inner, record):
    _instruct(inner, record)
    assist = Assignment.objects.get(department=inner.publicity)
    services.assignment_report(inner.pub_handler, assist.pk, text="已在校园网刊发。", finish=True)
    assist.refresh_from_db()
    assert (assist.state, assist.accepted_by_id) == ("finished", inner.pub_handler.pk)
    verbs = list(AuditEvent.objects.order_by("-seq").values_list("verb", flat=True)[:3])
    assert verbs == ["ASSIGNMENT_FINISHED", "ASSIGNMENT_REPORTED", "ASSIGNMENT_ACCEPTED"]
    assert AuditEvent.objects.filter(verb="ASSIGNMENT_ACCEPTED").get().payload["by_report"] is True


def test_handling_refusals_write_nothing(world, inner, record, nothing_written):
    _instruct(inner, record)
    lead = Assignment.objects.get(department=inner.organization)
    cases = [
        (inner.pub_handler, NotAllowed, "您不是内蒙古大学党委组织部的承办人，不能承办。"),
        (world.imu, NotAllowed, "您不是内蒙古大学党委组织部的承办人，不能承办。"),
        (inner.secretary, NotAllowed, "您不是内蒙古大学党委组织部的承办人，不能承办。"),
    ]
    for actor, error, message in cases:
        with nothing_written(), pytest.raises(error) as refused:
            services.assignment_accept(actor, lead.pk)
        assert refused.value.message == message
    with nothing_written(), pytest.raises(InvalidInput) as bad_file:
        services.assignment_report(inner.org_handler, lead.pk, text="见附件", files=[("x.exe", io.BytesIO(b"MZ"))])
    assert bad_file.value.message.startswith("附件“x.exe”的类型不允许")
    with nothing_written(), pytest.raises(InvalidInput) as empty:
        services.assignment_report(inner.org_handler, lead.pk, text="")
    assert empty.value.message == "请填写承办情况。"
    with nothing_written(), pytest.raises(NotFound):
        services.assignment_accept(inner.org_handler, 10**9)


# --- 传阅 -----------------------------------------------------------------------------------------


def test_sequential_reading_opens_the_next_slip_and_notifies_its_reader(inner, delivery, record, nothing_written):
    _instruct(inner, record)
    first, second = ReadingSlip.objects.order_by("position")
    with nothing_written(), pytest.raises(Conflict) as early:
        services.reading_done(inner.reader_b, second.pk)
    assert early.value.message == "内教工委函〔2022〕1号的传阅单状态为未到，不能阅文。"
    with nothing_written(), pytest.raises(NotAllowed) as other:
        services.reading_done(inner.reader_b, first.pk)
    assert other.value.message == "这份传阅单是给reader_a的，只能由本人阅。"
    done = services.reading_done(inner.reader_a, first.pk)
    assert (done.state, done.remark) == ("read", "已阅")
    assert list(ReadingSlip.objects.order_by("position").values_list("state", flat=True)) == ["read", "open"]
    assert Notification.objects.filter(user=inner.reader_b, kind="reading", delivery=delivery).count() == 1
    assert list(AuditEvent.objects.order_by("-seq").values_list("verb", "object_id")[:2]) == [
        ("READING_OPENED", str(second.pk)),
        ("READING_DONE", str(first.pk)),
    ]
    services.reading_done(inner.reader_b, second.pk, remark="同意，请抓好落实。")
    assert ReadingSlip.objects.get(pk=second.pk).remark == "同意，请抓好落实。"
    with nothing_written(), pytest.raises(Conflict):
        services.reading_done(inner.reader_b, second.pk)


def test_pass_on_only_where_the_leader_allowed_it(world, inner, record, nothing_written):
    third = person(world.university, Role.READER, username="reader_c")
    _instruct(inner, record, reader_ids=[inner.reader_a.pk])
    (slip,) = ReadingSlip.objects.all()
    with nothing_written(), pytest.raises(Conflict) as refused:
        services.reading_pass_on(inner.reader_a, slip.pk, reader_ids=[third.pk])
    assert refused.value.message == "批办时没有允许阅文人转阅内教工委函〔2022〕1号。"


def test_pass_on_appends_slips_after_the_others(world, inner, record, nothing_written):
    third = person(world.university, Role.READER, username="reader_c")
    _instruct(inner, record, readers_may_pass_on=True)
    first, _second = ReadingSlip.objects.order_by("position")
    services.reading_done(inner.reader_a, first.pk)
    (passed,) = services.reading_pass_on(inner.reader_a, first.pk, reader_ids=[third.pk])
    assert (passed.position, passed.state, passed.passed_by_id) == (3, "waiting", inner.reader_a.pk)
    event = _last_event()
    assert (event.verb, event.payload) == (
        "READING_PASSED_ON",
        {"record_id": record.pk, "readers": [{"id": third.pk, "name": "reader_c"}]},
    )
    with nothing_written(), pytest.raises(Conflict) as twice:
        services.reading_pass_on(inner.reader_a, first.pk, reader_ids=[third.pk])
    assert twice.value.message == "reader_c已在这份公文的传阅名单上。"
    with nothing_written(), pytest.raises(InvalidInput) as not_a_reader:
        services.reading_pass_on(inner.reader_a, first.pk, reader_ids=[inner.org_handler.pk])
    assert not_a_reader.value.message == "org_handler不是内蒙古大学党委的领导或阅文人，不能传阅。"
    services.reading_done(inner.reader_b, _second.pk)
    assert ReadingSlip.objects.get(pk=passed.pk).state == "open"


def test_a_pass_on_after_everyone_read_opens_at_once(world, inner, record):
    third = person(world.university, Role.READER, username="reader_c")
    _instruct(inner, record, reader_ids=[inner.reader_a.pk], readers_may_pass_on=True)
    (slip,) = ReadingSlip.objects.all()
    services.reading_done(inner.reader_a, slip.pk)
    (passed,) = services.reading_pass_on(inner.reader_a, slip.pk, reader_ids=[third.pk])
    assert passed.state == "open"


# --- 答复 and the unit's 办结 ------------------------------------------------------------------------


def test_reply_drafts_a_report_to_the_issuer_linked_to_the_delivery(world, inner, delivery, record):
    reply = services.reply_draft(world.imu, delivery.pk, title="关于落实情况的报告", body="现将落实情况报告如下。")
    document = reply.document
    assert (document.kind, document.title, document.state, document.issuing_unit_id, reply.delivery_id) == (
        "报告",
        "关于落实情况的报告",
        "draft",
        world.university.pk,
        delivery.pk,
    )
    assert list(document.recipients.values_list("role", "unit_id")) == [("主送", world.education.pk)]
    event = _last_event()
    assert (event.verb, event.document_id, event.payload["reply_document_id"]) == (
        "REPLY_DRAFTED",
        delivery.document_id,
        document.pk,
    )


def test_reply_refusals_write_nothing(world, inner, delivery, nothing_written):
    with nothing_written(), pytest.raises(Conflict) as unregistered:
        services.reply_draft(world.imu, delivery.pk, title="关于落实情况的报告", body="报告。")
    assert unregistered.value.message == "内教工委函〔2022〕1号尚未收文登记，不能答复。"
    services.delivery_register(world.imu, delivery.pk)
    with nothing_written(), pytest.raises(NotAllowed) as leader:
        services.reply_draft(inner.secretary, delivery.pk, title="关于落实情况的报告", body="报告。")
    assert leader.value.message == "您不是内蒙古大学党委的收发员或拟稿人，不能答复。"


def test_the_units_completion_waits_for_every_lead_department(world, inner, delivery, record, nothing_written):
    second_lead = services.department_create(world.imu, world.university.pk, name="统战部")
    handler = person(second_lead, Role.HANDLER)
    _instruct(inner, record, lead_department_ids=[inner.organization.pk, second_lead.pk])
    from workflow.services.rules import delivery_actions

    assert "complete" not in delivery_actions(world.imu, delivery)
    with nothing_written(), pytest.raises(Conflict) as refused:
        services.delivery_complete(actor=world.imu, delivery_id=delivery.pk, feedback="已落实。")
    assert refused.value.message == "主办部门组织部、统战部尚未办毕，内蒙古大学党委还不能办结内教工委函〔2022〕1号。"
    lead = Assignment.objects.get(department=inner.organization)
    services.assignment_report(inner.org_handler, lead.pk, text="已落实。", finish=True)
    services.assignment_report(handler, Assignment.objects.get(department=second_lead).pk, text="已落实。", finish=True)
    assert "complete" in delivery_actions(world.imu, delivery)  # 协办 (宣传部) still working does not hold it up
    services.delivery_complete(actor=world.imu, delivery_id=delivery.pk, feedback="已落实。")
    assert Delivery.objects.get(pk=delivery.pk).state == "completed"
    assert HandlingRecord.objects.get(pk=record.pk).delivery_id == delivery.pk


def test_after_the_units_completion_the_work_is_closed_but_reading_and_answering_go_on(
    world, inner, delivery, record, nothing_written
):
    _instruct(inner, record, lead_department_ids=[], assist_department_ids=[])
    services.delivery_complete(actor=world.imu, delivery_id=delivery.pk, feedback="已阅知。")
    delivery.refresh_from_db()
    assert handling_actions(world.imu, delivery).propose is False
    assert handling_actions(inner.secretary, delivery).instruct is False
    with nothing_written(), pytest.raises(Conflict) as refused:
        services.handling_propose(world.imu, record.pk, text="请组织部阅办。")
    assert refused.value.message == "内蒙古大学党委已办结内教工委函〔2022〕1号，不能再拟办。"
    with nothing_written(), pytest.raises(Conflict) as refused:
        services.handling_instruct(
            inner.secretary, record.pk, text="请组织部办理。", lead_department_ids=[inner.organization.pk]
        )
    assert refused.value.message == "内蒙古大学党委已办结内教工委函〔2022〕1号，不能再批办。"
    slip = ReadingSlip.objects.get(reader=inner.reader_a)
    assert handling_actions(inner.reader_a, delivery).read == slip.pk
    services.reading_done(inner.reader_a, slip.pk, remark="已阅。")
    assert ReadingSlip.objects.get(pk=slip.pk).state == ReadingSlip.State.READ
    assert handling_actions(world.imu, delivery).reply is True
