"""Inside a recipient unit: the handling record (办理单) of a signed-for delivery, and deputies (代理).

条例 第二十四条 lists the 收文 steps after 签收: 登记, 初审, 承办, 传阅, 催办, 答复. Each step here is one
service, one transaction, with its audit event; a refusal is a DomainError naming the problem and
writes nothing. Who may take a step, and when, is written once in workflow.services.rules
(`require_step`, `handling_record_refusal`, `assignment_refusal`, `reading_refusal`), which the
pages read through `handling_actions`. Every act on a record locks its delivery's row first, so
the steps of one record (and the unit's 办结) never interleave, and locks are taken in one order.

The rules:

- Departments (内设机构, `department_create`) are units of kind INNER_DEPARTMENT whose parent is the
  recipient unit. A clerk of the unit (or an administrator) creates them. Their full name is the
  unit's followed by theirs (中共内蒙古大学委员会组织部), since a unit's name is unique in the
  directory; their short name is the name given (组织部). A department is never a recipient (no
  document is addressed to it, no recipient group holds it). Roles: 承办人 (handler) on a
  department only; 领导 (leader) and 阅文人 (reader) on the unit only (role_grant enforces it).
- 收文登记 (`delivery_register`): a clerk of the delivery's unit, or their deputy; the delivery is
  held by the unit (signed for or completed; not returned or recalled); once per delivery (again:
  Conflict naming the 收文编号 given). The 收文编号 is the next serial of the unit's register for
  the year of the moment in Asia/Shanghai (RegistrationSeries, created at 0 if new, then locked
  with SELECT … FOR UPDATE): gapless and unique when clerks register at once.
- 拟办 (`handling_propose`): a clerk of the unit, or their deputy; the delivery is registered; the
  suggested departments are active departments of the unit. A later proposal adds to the record.
- 批办 (`handling_instruct`): a leader of the unit, or their deputy. At least one 主办 department or
  one reader; 协办 only beside a 主办; 主办 and 协办 disjoint, all active departments of the unit, none
  already assigned on the record. Readers hold 领导 or 阅文人 on the unit (the people the unit names
  to read its documents; decided so that 传阅 follows the roles, as everything else does), and have
  no reading slip on the record yet. The deadline, when given, lies in the future and no later
  than the delivery's 办结时限. Assignments start 待承办 with the instruction's deadline; slips open
  in turn (依次传阅: the first opens, the others wait) or all at once (同时传阅). The departments'
  handlers and the readers whose slip opens are notified (in-app, then email).
- 承办 (`assignment_accept`, `assignment_report`): a handler of the department, or their deputy.
  The state moves forward only, 待承办 → 办理中 → 已办毕 (workflow.transitions.assignment_move). A
  report on an assignment still 待承办 accepts it first (reporting work is taking it up; both
  events are written); `finish=True` makes the report the final one. Files pass
  documents.attachments.check_attachment and are stored by content, like 办结 attachments.
- 传阅 (`reading_done`, `reading_pass_on`): the slip's reader, in person (reading is not
  delegated). 已阅 only on an open slip; a remark left empty is stored as 已阅. In 依次传阅, the
  next waiting slip of the instruction then opens and its reader is notified. A reader passes it
  on only where the instruction allowed it, from an open or read slip, to people who may read
  (as above) and are not on the record yet; the new slips are appended (同时传阅: open at once;
  依次传阅: after the others, opening at once when nobody else is reading).
- 答复 (`reply_draft`): a clerk or drafter of the unit (not a deputy: drafting is not delegated),
  on a registered delivery: a draft document of the unit addressed (主送) to the issuing unit — a
  报告 when the issuer is above the unit in the directory, a 函 otherwise — through
  document_draft; it is signed off and issued like any draft. A Reply row links it.
- 代理 (`delegation_grant`, `delegation_withdraw`): a person lets a deputy act for them on a unit
  (the recipient unit or a department) for a window. Granted by the principal themself or by a
  clerk of the recipient unit for a colleague; the principal holds a role on that unit; the
  deputy is an active member of the recipient unit or of one of its departments; the window ends
  after it starts and not in the past; windows may overlap. While it runs the deputy may sign for
  the unit (代理签收, with a clerk's delegation) and take the record's steps the principal's roles
  allow (登记, 拟办, 批办, 承办); never 签发, 印发, 转发, 退文, 办结, 答复 or 传阅. Every act under it
  records the principal in `on_behalf_of` where the row has one, and in its audit payload
  (`"deputy_for": {"id", "name"}`). Withdrawn (by the principal, whoever granted it, or a clerk of
  the unit) or over, it allows nothing more.
- The unit's 办结 (delivery_complete) waits until every 主办 department has finished
  (workflow.services.rules).
- 催办 inside the unit (`assignment_remind_overdue`, the beat's): an assignment past its deadline
  and not finished, on a delivery its unit still holds, is urged at most once a working day, in
  office hours: its department's handlers are notified and the reminder counted; at the second
  reminder the leader who gave the instruction (the principal, when a deputy gave it) is told, once.
"""

import datetime
from collections.abc import Iterable, Sequence
from typing import BinaryIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction
from django.db.models import Case, F, Max, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from documents.attachments import check_attachment
from documents.content import DocumentContent
from documents.models import Kind, Urgency
from documents.numbering import format_number
from units.display import display_list
from units.errors import Conflict, InvalidInput, NotAllowed, NotFound
from units.models import Role, Unit
from units.selectors import user_list_with_role_in_units, user_roles_in_units
from workflow.audit import audit_record, audit_record_many
from workflow.deadlines import CALENDAR_ZONE, is_office_hours, is_working_day, local_text
from workflow.enqueue import enqueue_notification_emails, queue_for
from workflow.models import (
    Assignment,
    AssignmentReport,
    AssignmentReportFile,
    AuditVerb,
    Delegation,
    Delivery,
    HandlingRecord,
    Instruction,
    Notification,
    Proposal,
    ReadingMode,
    ReadingSlip,
    RegistrationSeries,
    Reply,
)
from workflow.services.directory import unit_insert
from workflow.services.documents import document_draft
from workflow.services.notifications import notice_language
from workflow.services.rules import (
    HANDLING_STEP_NAMES,
    READING_ROLES,
    REPLY_ROLES,
    HandlingStep,
    assignment_refusal,
    deputy_payload,
    handling_record_refusal,
    person_name,
    reading_refusal,
    require_role,
    require_step,
)
from workflow.transitions import assignment_move, reading_move

MAX_TEXT = 2000
MAX_REMARK = 500
MAX_COPIES = 999
READ_WITHOUT_REMARK = "已阅"  # what a reader's 已阅 says when they wrote nothing
CONTROL_QUEUE = "control"


# --- helpers --------------------------------------------------------------------------------------


def _text(text: str, what: str, *, limit: int = MAX_TEXT, required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise InvalidInput(_("请填写%(what)s。") % {"what": what})
    if len(text) > limit:
        raise InvalidInput(
            _("%(what)s过长（%(length)d 字，上限 %(limit)d 字）。")
            % {"what": what, "length": len(text), "limit": limit}
        )
    return text


def _ids(values: Iterable[int], what: str) -> list[int]:
    """Ids as given, each once, in order; InvalidInput naming a value that is not an id."""
    ids = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InvalidInput(_("%(what)s“%(value)s”不是有效的编号。") % {"what": what, "value": value})
        ids.append(value)
    return list(dict.fromkeys(ids))


def _locked_delivery(**lookup) -> Delivery | None:
    """The delivery (with its unit and document) locked for the act: every act on a record takes
    this lock first, so the record's steps and the unit's 办结 never interleave."""
    return (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("unit", "document__issuing_unit")
        .filter(**lookup)
        .first()
    )


def _departments(unit: Unit, ids: list[int]) -> list[Unit]:
    """The active departments of `unit` with these ids, in the order given; InvalidInput naming any
    id that is not one."""
    if not ids:
        return []
    found = Unit.objects.filter(pk__in=ids).in_bulk()
    wrong = [
        found[pk].name if pk in found else str(pk)
        for pk in ids
        if pk not in found
        or found[pk].parent_id != unit.pk
        or found[pk].kind != Unit.Kind.INNER_DEPARTMENT
        or not found[pk].is_active
    ]
    if wrong:
        raise InvalidInput(_("%(names)s不是%(unit)s的内设机构。") % {"names": display_list(wrong), "unit": unit.name})
    return [found[pk] for pk in ids]


def _readers(unit: Unit, ids: list[int]) -> list[AbstractBaseUser]:
    """The active people with these ids who may read the unit's documents (领导 or 阅文人 of it), in
    the order given; InvalidInput naming anyone else. Two queries."""
    if not ids:
        return []
    found = get_user_model().objects.filter(pk__in=ids, is_active=True).in_bulk()
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        raise InvalidInput(_("阅文人 %(ids)s 不存在或已停用。") % {"ids": display_list(missing)})
    roles = user_roles_in_units(ids, [unit.pk])
    refused = [
        person_name(found[pk]) for pk in ids if not any(role in roles.get((pk, unit.pk), ()) for role in READING_ROLES)
    ]
    if refused:
        raise InvalidInput(
            _("%(names)s不是%(unit)s的领导或阅文人，不能传阅。") % {"names": display_list(refused), "unit": unit.name}
        )
    return [found[pk] for pk in ids]


def _people(users: Iterable[AbstractBaseUser]) -> list[dict]:
    return [{"id": user.pk, "name": person_name(user)} for user in users]


def _notify(user_ids: Iterable[int], delivery: Delivery, *, kind: str, text: str, round: int, now) -> None:
    """One notification each (unique per person, delivery, kind and round: a repeat adds nothing),
    emailed after commit from the outbox."""
    rows = [
        Notification(user_id=user_id, delivery_id=delivery.pk, kind=kind, round=round, text=text[:500], created_at=now)
        for user_id in dict.fromkeys(user_ids)
    ]
    if rows:
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        enqueue_notification_emails(queue_for(delivery.document.urgency))


def _handlers(department_ids: list[int]) -> list[tuple[int, int]]:
    """(user id, department id) of the active handlers of these departments: one query."""
    if not department_ids:
        return []
    return list(user_list_with_role_in_units(Unit.objects.filter(pk__in=department_ids), Role.HANDLER))


def _subject(delivery: Delivery) -> str:
    document = delivery.document
    return f"{document.number}《{document.title}》"


def _open_slips_notice(slips: list[ReadingSlip], delivery: Delivery, now) -> None:
    with notice_language():
        text = _("请阅%(subject)s（传阅）。") % {"subject": _subject(delivery)}
    _notify([slip.reader_id for slip in slips], delivery, kind=Notification.Kind.READING, text=text, round=0, now=now)


def _opened_events(actor, slips: list[ReadingSlip], delivery: Delivery) -> list[dict]:
    return [
        {
            "actor": actor,
            "verb": AuditVerb.READING_OPENED,
            "object_type": "ReadingSlip",
            "object_id": slip.pk,
            "unit": delivery.unit_id,
            "document": delivery.document_id,
            "payload": {"record_id": slip.record_id, "reader": {"id": slip.reader_id}, "position": slip.position},
        }
        for slip in slips
    ]


# --- departments ----------------------------------------------------------------------------------


def department_create(actor, unit_id: int, *, name: str, short_name: str = "") -> Unit:
    """Create a department (内设机构) of a unit: 党委办公室, 组织部, …

    Preconditions: the unit is active and not itself a department; the actor is a clerk of it, or
    an administrator (or None: the system itself, a management command such as `demo`). The
    department's full name is the unit's followed by `name` (unless `name` starts with it already);
    its short name is `short_name`, else `name`.
    Errors: NotFound (no such unit), NotAllowed, InvalidInput (an empty or taken name).
    """
    unit = Unit.objects.filter(pk=unit_id, is_active=True).first() if isinstance(unit_id, int) else None
    if unit is None:
        raise NotFound(_("单位不存在或已停用。"))
    if actor is not None and not (actor.is_active and actor.is_superuser):
        require_role(actor, unit, Role.CLERK, action=pgettext("refused action", "设立内设机构"))
    if unit.kind == Unit.Kind.INNER_DEPARTMENT:
        raise InvalidInput(_("%(name)s是内设机构，不能再设内设机构。") % {"name": unit.name})
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_("请填写内设机构名称。"))
    full_name = name if name.startswith(unit.name) else f"{unit.name}{name}"
    return unit_insert(
        actor=actor,
        name=full_name,
        short_name=(short_name or "").strip() or name,
        kind=Unit.Kind.INNER_DEPARTMENT,
        parent=unit,
    )


# --- 收文登记 and 拟办 --------------------------------------------------------------------------------


def _next_serial(unit: Unit, year: int) -> int:
    """The next 收文编号 of the unit's register for the year, under the series' row lock (held until
    the transaction ends): gapless (a rolled-back registration gives its number back) and unique."""
    RegistrationSeries.objects.bulk_create([RegistrationSeries(unit=unit, year=year)], ignore_conflicts=True)
    series = RegistrationSeries.objects.select_for_update().get(unit=unit, year=year)
    series.last_serial += 1
    series.save(update_fields=["last_serial"])
    return series.last_serial


def delivery_register(actor, delivery_id: int, *, copies: int = 1, remark: str = "") -> HandlingRecord:
    """收文登记: enter a signed-for delivery in its unit's register, which makes its handling record.

    Preconditions: the actor is a clerk of the delivery's unit or their deputy; the delivery is
    signed for (or completed), not returned or recalled, and not registered yet; 1 ≤ copies ≤ 999.
    The 收文编号 is the next of the unit's register for this year (Asia/Shanghai).
    Errors: NotFound, NotAllowed, Conflict (not signed for, withdrawn, already registered: the
    message names its 收文编号), InvalidInput. Nothing is written on error.
    """
    if isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= MAX_COPIES:
        raise InvalidInput(_("份数须为 1 到 %(limit)d 之间的整数。") % {"limit": MAX_COPIES})
    remark = _text(remark, _("备注"), limit=MAX_REMARK, required=False)
    with transaction.atomic():
        delivery = _locked_delivery(pk=delivery_id) if isinstance(delivery_id, int) else None
        if delivery is None:
            raise NotFound(_("送达记录不存在或无权查看。"))
        principal = require_step(actor, HandlingStep.REGISTER, delivery.unit)
        existing = HandlingRecord.objects.filter(delivery=delivery).first()
        refusal = handling_record_refusal(HandlingStep.REGISTER, delivery, existing)
        if refusal is not None:
            raise refusal
        now = timezone.now()
        year = now.astimezone(CALENDAR_ZONE).year
        record = HandlingRecord.objects.create(
            delivery=delivery,
            unit=delivery.unit,
            year=year,
            serial=_next_serial(delivery.unit, year),
            copies=copies,
            remark=remark,
            registered_by=actor,
            on_behalf_of=principal,
            registered_at=now,
        )
        audit_record(
            actor=actor,
            verb=AuditVerb.DELIVERY_LOGGED,
            object_type="HandlingRecord",
            object_id=record.pk,
            unit=delivery.unit_id,
            document=delivery.document_id,
            payload={
                "delivery_id": delivery.pk,
                "number": str(record),
                "year": year,
                "serial": record.serial,
                "copies": copies,
                "remark": remark,
                **deputy_payload(principal),
            },
        )
    return record


def _locked_record(record_id: int) -> tuple[Delivery, HandlingRecord]:
    delivery = _locked_delivery(handling_record=record_id) if isinstance(record_id, int) else None
    if delivery is None:
        raise NotFound(_("办理单不存在或无权查看。"))
    return delivery, HandlingRecord.objects.get(pk=record_id)


def handling_propose(actor, record_id: int, *, text: str, department_ids: Sequence[int] = ()) -> Proposal:
    """拟办: the office proposes how to handle a registered delivery, suggesting departments.

    Preconditions: the actor is a clerk of the record's unit or their deputy; the delivery is still
    held; the text is not empty; the departments are active departments of the unit.
    Errors: NotFound, NotAllowed, Conflict, InvalidInput (naming the department). Nothing is
    written on error.
    """
    text = _text(text, _("拟办意见"))
    ids = _ids(department_ids, _("部门"))
    with transaction.atomic():
        delivery, record = _locked_record(record_id)
        principal = require_step(actor, HandlingStep.PROPOSE, delivery.unit)
        refusal = handling_record_refusal(HandlingStep.PROPOSE, delivery, record)
        if refusal is not None:
            raise refusal
        departments = _departments(delivery.unit, ids)
        proposal = Proposal.objects.create(
            record=record, text=text, proposed_by=actor, on_behalf_of=principal, proposed_at=timezone.now()
        )
        proposal.departments.set(departments)
        audit_record(
            actor=actor,
            verb=AuditVerb.HANDLING_PROPOSED,
            object_type="Proposal",
            object_id=proposal.pk,
            unit=delivery.unit_id,
            document=delivery.document_id,
            payload={
                "record_id": record.pk,
                "text": text,
                "departments": [{"id": unit.pk, "name": unit.short_name} for unit in departments],
                **deputy_payload(principal),
            },
        )
    return proposal


# --- 批办 -----------------------------------------------------------------------------------------


def _check_deadline(deadline: datetime.datetime | None, delivery: Delivery, now: datetime.datetime) -> None:
    if deadline is None:
        return
    if timezone.is_naive(deadline):
        raise InvalidInput(_("办理时限须注明时区。"))
    if deadline <= now:
        raise InvalidInput(_("办理时限%(deadline)s已经过去。") % {"deadline": local_text(deadline)})
    if delivery.deadline_complete is not None and deadline > delivery.deadline_complete:
        raise InvalidInput(
            _("办理时限%(asked)s不能晚于本单位收到的办结时限%(received)s。")
            % {"asked": local_text(deadline), "received": local_text(delivery.deadline_complete)}
        )


def _already_read_by(record: HandlingRecord, readers: list[AbstractBaseUser]) -> None:
    on_record = set(ReadingSlip.objects.filter(record=record, reader__in=readers).values_list("reader_id", flat=True))
    if on_record:
        raise Conflict(
            _("%(names)s已在这份公文的传阅名单上。")
            % {"names": display_list(person_name(user) for user in readers if user.pk in on_record)}
        )


def _new_slips(
    record: HandlingRecord, instruction: Instruction, readers: list, *, passed_by, open_first: bool, now
) -> tuple[list[ReadingSlip], list[ReadingSlip]]:
    """Append a slip for each reader after the record's last position: (all, those opened).

    同时传阅: all open. 依次传阅: they wait, and the first opens when `open_first`."""
    last = ReadingSlip.objects.filter(record=record).aggregate(last=Max("position"))["last"] or 0
    parallel = instruction.reading_mode == ReadingMode.PARALLEL
    slips = []
    for index, reader in enumerate(readers):
        is_open = parallel or (open_first and index == 0)
        slips.append(
            ReadingSlip(
                record=record,
                instruction=instruction,
                reader=reader,
                position=last + index + 1,
                state=ReadingSlip.State.OPEN if is_open else ReadingSlip.State.WAITING,
                passed_by=passed_by,
                created_at=now,
                opened_at=now if is_open else None,
            )
        )
    ReadingSlip.objects.bulk_create(slips)
    return slips, [slip for slip in slips if slip.state == ReadingSlip.State.OPEN]


def handling_instruct(
    actor,
    record_id: int,
    *,
    text: str,
    lead_department_ids: Sequence[int] = (),
    assist_department_ids: Sequence[int] = (),
    reader_ids: Sequence[int] = (),
    reading_mode: str = ReadingMode.SEQUENTIAL,
    readers_may_pass_on: bool = False,
    deadline: datetime.datetime | None = None,
) -> Instruction:
    """批办: a leader instructs: 主办 and 协办 departments (承办), readers (传阅), a deadline.

    Preconditions: see the module's rules (a leader of the unit or their deputy; a 主办 or a
    reader; departments of the unit, disjoint, not assigned yet; readers who may read and are not
    on the record; a future deadline no later than the delivery's 办结时限).
    Side effects: assignments 待承办, reading slips (the first, or all, open); the departments'
    handlers and the readers of the open slips are notified.
    Errors: NotFound, NotAllowed, Conflict, InvalidInput. Nothing is written on error.
    """
    text = _text(text, _("批示"))
    if reading_mode not in ReadingMode.values:
        raise InvalidInput(
            _("传阅方式“%(mode)s”不存在，可选：%(modes)s。")
            % {"mode": reading_mode, "modes": display_list(ReadingMode.values)}
        )
    leads, assists = _ids(lead_department_ids, _("主办部门")), _ids(assist_department_ids, _("协办部门"))
    reader_ids = _ids(reader_ids, _("阅文人"))
    if not leads and not reader_ids:
        raise InvalidInput(_("请至少指定一个主办部门或一位阅文人。"))
    if assists and not leads:
        raise InvalidInput(_("指定协办部门时，须同时指定主办部门。"))
    with transaction.atomic():
        delivery, record = _locked_record(record_id)
        unit = delivery.unit
        principal = require_step(actor, HandlingStep.INSTRUCT, unit)
        refusal = handling_record_refusal(HandlingStep.INSTRUCT, delivery, record)
        if refusal is not None:
            raise refusal
        now = timezone.now()
        _check_deadline(deadline, delivery, now)
        lead_units, assist_units = _departments(unit, leads), _departments(unit, assists)
        both = [department.name for department in lead_units if department.pk in set(assists)]
        if both:
            raise InvalidInput(_("%(names)s不能既主办又协办。") % {"names": display_list(both)})
        assigned = list(
            Assignment.objects.filter(record=record, department__in=[*leads, *assists]).values_list(
                "department__name", flat=True
            )
        )
        if assigned:
            raise Conflict(_("%(names)s已经承办这份公文。") % {"names": display_list(assigned)})
        readers = _readers(unit, reader_ids)
        _already_read_by(record, readers)
        instruction = Instruction.objects.create(
            record=record,
            text=text,
            instructed_by=actor,
            on_behalf_of=principal,
            instructed_at=now,
            deadline=deadline,
            reading_mode=reading_mode,
            readers_may_pass_on=bool(readers_may_pass_on),
        )
        Assignment.objects.bulk_create(
            Assignment(
                record=record,
                instruction=instruction,
                department=department,
                part=part,
                deadline=deadline,
                assigned_at=now,
            )
            for part, departments in ((Assignment.Part.LEAD, lead_units), (Assignment.Part.ASSIST, assist_units))
            for department in departments
        )
        _slips, opened = _new_slips(record, instruction, readers, passed_by=actor, open_first=True, now=now)
        rank = Instruction.objects.filter(record=record).count()
        with notice_language():
            for part, departments in ((Assignment.Part.LEAD, lead_units), (Assignment.Part.ASSIST, assist_units)):
                ids = {department.pk for department in departments}
                handlers = [user_id for user_id, department_id in _handlers(list(ids)) if department_id in ids]
                notice = _("请%(part)s%(subject)s。批示：%(text)s%(deadline)s") % {
                    "part": Assignment.Part(part).label,
                    "subject": _subject(delivery),
                    "text": text,
                    "deadline": _("（办理时限：%(deadline)s）") % {"deadline": local_text(deadline)}
                    if deadline
                    else "",
                }
                _notify(handlers, delivery, kind=Notification.Kind.ASSIGNED, text=notice, round=rank, now=now)
            _open_slips_notice(opened, delivery, now)
        instructed = {
            "actor": actor,
            "verb": AuditVerb.HANDLING_INSTRUCTED,
            "object_type": "Instruction",
            "object_id": instruction.pk,
            "unit": unit.pk,
            "document": delivery.document_id,
            "payload": {
                "record_id": record.pk,
                "text": text,
                "deadline": deadline.isoformat() if deadline else None,
                "lead": [{"id": department.pk, "name": department.short_name} for department in lead_units],
                "assist": [{"id": department.pk, "name": department.short_name} for department in assist_units],
                "readers": _people(readers),
                "reading_mode": reading_mode,
                "readers_may_pass_on": bool(readers_may_pass_on),
                **deputy_payload(principal),
            },
        }
        audit_record_many([instructed, *_opened_events(actor, opened, delivery)])
    return instruction


# --- 承办 -----------------------------------------------------------------------------------------


def _locked_assignment(assignment_id: int) -> tuple[Delivery, Assignment]:
    delivery = _locked_delivery(handling_record__assignments=assignment_id) if isinstance(assignment_id, int) else None
    if delivery is None:
        raise NotFound(_("承办记录不存在或无权查看。"))
    assignment = (
        Assignment.objects.select_for_update(of=("self",)).select_related("department", "record").get(pk=assignment_id)
    )
    return delivery, assignment


def _assignment_event(actor, verb: AuditVerb, assignment: Assignment, delivery: Delivery, payload: dict) -> dict:
    return {
        "actor": actor,
        "verb": verb,
        "object_type": "Assignment",
        "object_id": assignment.pk,
        "unit": assignment.department_id,
        "document": delivery.document_id,
        "payload": {
            "record_id": assignment.record_id,
            "department": {"id": assignment.department_id, "name": assignment.department.short_name},
            "part": assignment.part,
            **payload,
        },
    }


def _move_assignment(assignment: Assignment, target: str, **fields) -> None:
    moved = assignment_move(Assignment.objects.filter(pk=assignment.pk), target, **fields)
    if moved != 1:  # the rule admitted it under the lock: anything else is a bug
        raise RuntimeError(f"assignment {assignment.pk}: {assignment.state} → {target} refused by the transition table")
    assignment.state = target
    for name, value in fields.items():
        setattr(assignment, name, value)


def assignment_accept(actor, assignment_id: int) -> Assignment:
    """承办: a handler of the department takes up its assignment (待承办 → 办理中).

    Preconditions: the actor is a handler of the department or their deputy; the assignment is
    待承办; the delivery is still held by its unit.
    Errors: NotFound, NotAllowed, Conflict. Nothing is written on error.
    """
    with transaction.atomic():
        delivery, assignment = _locked_assignment(assignment_id)
        principal = require_step(actor, HandlingStep.ACCEPT, assignment.department)
        refusal = assignment_refusal(HandlingStep.ACCEPT, assignment, delivery)
        if refusal is not None:
            raise refusal
        _move_assignment(assignment, Assignment.State.ACCEPTED, accepted_by=actor, accepted_at=timezone.now())
        audit_record_many(
            [_assignment_event(actor, AuditVerb.ASSIGNMENT_ACCEPTED, assignment, delivery, deputy_payload(principal))]
        )
    return assignment


def assignment_report(
    actor,
    assignment_id: int,
    *,
    text: str,
    files: Sequence[tuple[str, BinaryIO]] = (),
    finish: bool = False,
) -> AssignmentReport:
    """承办情况: a handler of the department reports what was done, with files; `finish=True` makes it
    the final report (办理中 → 已办毕).

    Preconditions: the actor is a handler of the department or their deputy; the assignment is not
    finished (one still 待承办 is accepted first, by this report); the delivery is still held; the
    text is not empty; each file (name, stream) passes check_attachment.
    Errors: NotFound, NotAllowed, Conflict, InvalidInput. Nothing is written on error.
    """
    text = _text(text, _("承办情况"))
    checked = [(check_attachment(name, stream), stream) for name, stream in files]
    with transaction.atomic():
        delivery, assignment = _locked_assignment(assignment_id)
        principal = require_step(actor, HandlingStep.REPORT, assignment.department)
        refusal = assignment_refusal(HandlingStep.REPORT, assignment, delivery)
        if refusal is not None:
            raise refusal
        now = timezone.now()
        deputy = deputy_payload(principal)
        events = []
        if assignment.state == Assignment.State.ASSIGNED:
            _move_assignment(assignment, Assignment.State.ACCEPTED, accepted_by=actor, accepted_at=now)
            events.append(
                _assignment_event(
                    actor, AuditVerb.ASSIGNMENT_ACCEPTED, assignment, delivery, {"by_report": True, **deputy}
                )
            )
        report = AssignmentReport.objects.create(
            assignment=assignment, text=text, reported_by=actor, on_behalf_of=principal, reported_at=now
        )
        for position, (file, stream) in enumerate(checked, start=1):
            stored = AssignmentReportFile(
                report=report,
                position=position,
                name=file.name,
                content_type=file.content_type,
                size=file.size,
                sha256=file.sha256,
            )
            stored.file.save(file.sha256, File(stream), save=False)
            stored.save()
        events.append(
            _assignment_event(
                actor,
                AuditVerb.ASSIGNMENT_REPORTED,
                assignment,
                delivery,
                {
                    "report_id": report.pk,
                    "text": text,
                    "files": [{"name": file.name, "size": file.size, "sha256": file.sha256} for file, _s in checked],
                    "finish": bool(finish),
                    **deputy,
                },
            )
        )
        if finish:
            _move_assignment(assignment, Assignment.State.FINISHED, finished_by=actor, finished_at=now)
            events.append(
                _assignment_event(
                    actor, AuditVerb.ASSIGNMENT_FINISHED, assignment, delivery, {"report_id": report.pk, **deputy}
                )
            )
        audit_record_many(events)
    return report


# --- 传阅 -----------------------------------------------------------------------------------------


def _locked_slip(actor, slip_id: int) -> tuple[Delivery, ReadingSlip]:
    delivery = _locked_delivery(handling_record__reading_slips=slip_id) if isinstance(slip_id, int) else None
    if delivery is None:
        raise NotFound(_("传阅记录不存在或无权查看。"))
    slip = (
        ReadingSlip.objects.select_for_update(of=("self",))
        .select_related("instruction", "record", "reader")
        .get(pk=slip_id)
    )
    if actor is None or not actor.is_authenticated or slip.reader_id != actor.pk:
        raise NotAllowed(_("这份传阅单是给%(reader)s的，只能由本人阅。") % {"reader": person_name(slip.reader)})
    return delivery, slip


def _open_next(instruction: Instruction, now) -> list[ReadingSlip]:
    """依次传阅: when nobody of the instruction is reading, open its next waiting slip."""
    if instruction.reading_mode != ReadingMode.SEQUENTIAL:
        return []
    slips = ReadingSlip.objects.filter(instruction=instruction)
    if slips.filter(state=ReadingSlip.State.OPEN).exists():
        return []
    following = slips.filter(state=ReadingSlip.State.WAITING).order_by("position").first()
    if following is None:
        return []
    if reading_move(ReadingSlip.objects.filter(pk=following.pk), ReadingSlip.State.OPEN, opened_at=now) != 1:
        raise RuntimeError(f"reading slip {following.pk}: waiting → open refused by the transition table")
    following.state, following.opened_at = ReadingSlip.State.OPEN, now
    return [following]


def reading_done(actor, slip_id: int, *, remark: str = "") -> ReadingSlip:
    """已阅: the reader has read it, with a remark (empty: stored as 已阅).

    Preconditions: the actor is the slip's reader; the slip is open; the delivery is still held.
    Side effects: 依次传阅 opens the next reader's slip and notifies them.
    Errors: NotFound, NotAllowed, Conflict, InvalidInput. Nothing is written on error.
    """
    remark = _text(remark, _("阅文意见"), limit=MAX_REMARK, required=False) or READ_WITHOUT_REMARK
    with transaction.atomic():
        delivery, slip = _locked_slip(actor, slip_id)
        refusal = reading_refusal(HandlingStep.READ, slip, delivery)
        if refusal is not None:
            raise refusal
        now = timezone.now()
        if (
            reading_move(ReadingSlip.objects.filter(pk=slip.pk), ReadingSlip.State.READ, read_at=now, remark=remark)
            != 1
        ):
            raise RuntimeError(f"reading slip {slip.pk}: open → read refused by the transition table")
        slip.state, slip.read_at, slip.remark = ReadingSlip.State.READ, now, remark
        opened = _open_next(slip.instruction, now)
        _open_slips_notice(opened, delivery, now)
        done = {
            "actor": actor,
            "verb": AuditVerb.READING_DONE,
            "object_type": "ReadingSlip",
            "object_id": slip.pk,
            "unit": delivery.unit_id,
            "document": delivery.document_id,
            "payload": {"record_id": slip.record_id, "remark": remark},
        }
        audit_record_many([done, *_opened_events(actor, opened, delivery)])
    return slip


def reading_pass_on(actor, slip_id: int, *, reader_ids: Sequence[int]) -> list[ReadingSlip]:
    """转阅: a reader hands the document on to more readers, where the instruction allowed it.

    Preconditions: the actor is the slip's reader; the slip is open or read; the instruction
    allows passing on; the readers may read (领导 or 阅文人 of the unit) and are not on the record.
    Side effects: their slips are appended (see the module's rules) and those opened notified.
    Errors: NotFound, NotAllowed, Conflict, InvalidInput. Nothing is written on error.
    """
    ids = _ids(reader_ids, _("阅文人"))
    if not ids:
        raise InvalidInput(_("请至少指定一位阅文人。"))
    with transaction.atomic():
        delivery, slip = _locked_slip(actor, slip_id)
        refusal = reading_refusal(HandlingStep.PASS_ON, slip, delivery)
        if refusal is not None:
            raise refusal
        readers = _readers(delivery.unit, ids)
        _already_read_by(slip.record, readers)
        now = timezone.now()
        instruction = slip.instruction
        nobody_reading = not ReadingSlip.objects.filter(instruction=instruction, state=ReadingSlip.State.OPEN).exists()
        slips, opened = _new_slips(
            slip.record, instruction, readers, passed_by=actor, open_first=nobody_reading, now=now
        )
        _open_slips_notice(opened, delivery, now)
        passed = {
            "actor": actor,
            "verb": AuditVerb.READING_PASSED_ON,
            "object_type": "ReadingSlip",
            "object_id": slip.pk,
            "unit": delivery.unit_id,
            "document": delivery.document_id,
            "payload": {"record_id": slip.record_id, "readers": _people(readers)},
        }
        audit_record_many([passed, *_opened_events(actor, opened, delivery)])
    return slips


# --- 答复 -----------------------------------------------------------------------------------------


def reply_draft(actor, delivery_id: int, *, title: str, body: str) -> Reply:
    """答复: draft a reply document of the unit to the delivery's issuer, linked to the delivery.

    Preconditions: the actor is a clerk or drafter of the delivery's unit; the delivery is
    registered and still held; the title and body are valid elements of a document. The draft is
    addressed (主送) to the issuing unit: a 报告 when the issuer is above the unit, else a 函; it is
    signed off and issued with the usual services.
    Errors: NotFound, NotAllowed, Conflict, InvalidInput. Nothing is written on error.
    """
    with transaction.atomic():
        delivery = _locked_delivery(pk=delivery_id) if isinstance(delivery_id, int) else None
        if delivery is None:
            raise NotFound(_("送达记录不存在或无权查看。"))
        require_role(actor, delivery.unit, *REPLY_ROLES, action=HANDLING_STEP_NAMES[HandlingStep.REPLY])
        record = HandlingRecord.objects.filter(delivery=delivery).first()
        refusal = handling_record_refusal(HandlingStep.REPLY, delivery, record)
        if refusal is not None:
            raise refusal
        issuer = delivery.document.issuing_unit
        is_superior = delivery.unit.path.startswith(issuer.path)
        document = document_draft(
            actor=actor,
            unit=delivery.unit,
            content=DocumentContent(
                kind=Kind.REPORT if is_superior else Kind.LETTER, title=title, body=body, urgency=Urgency.ROUTINE
            ),
            main_recipients=[issuer],
        )
        reply = Reply.objects.create(delivery=delivery, document=document, drafted_by=actor, drafted_at=timezone.now())
        audit_record(
            actor=actor,
            verb=AuditVerb.REPLY_DRAFTED,
            object_type="Reply",
            object_id=reply.pk,
            unit=delivery.unit_id,
            document=delivery.document_id,
            payload={
                "delivery_id": delivery.pk,
                "record_id": record.pk,
                "reply_document_id": document.pk,
                "title": document.title,
                "kind": document.kind,
            },
        )
    return reply


# --- 代理 -----------------------------------------------------------------------------------------


def _home(unit: Unit) -> Unit:
    """The recipient unit a unit belongs to: itself, or a department's parent."""
    return unit.parent if unit.kind == Unit.Kind.INNER_DEPARTMENT else unit


def _is_clerk_of(actor, unit: Unit) -> bool:
    return Role.CLERK in user_roles_in_units([actor.pk], [unit.pk]).get((actor.pk, unit.pk), frozenset())


def delegation_grant(
    actor, *, unit_id: int, principal_id: int, deputy_id: int, starts_at: datetime.datetime, ends_at: datetime.datetime
) -> Delegation:
    """代理: let a deputy act for a person on a unit for a window (代理签收 and the record's steps the
    person's roles there allow).

    Preconditions: see the module's rules (granted by the principal or a clerk of the recipient
    unit; the principal holds a role on the unit; the deputy is an active member of the recipient
    unit or of one of its departments, not the principal; the window ends after it starts and in
    the future).
    Errors: NotFound (no such unit or person), NotAllowed, InvalidInput. Nothing is written on error.
    """
    if not (actor is not None and actor.is_authenticated and actor.is_active):
        raise NotAllowed(_("请先登录。"))
    unit = (
        Unit.objects.select_related("parent").filter(pk=unit_id, is_active=True).first()
        if isinstance(unit_id, int)
        else None
    )
    if unit is None:
        raise NotFound(_("单位不存在或已停用。"))
    home = _home(unit)
    people = (
        get_user_model()
        .objects.filter(pk__in=[pk for pk in (principal_id, deputy_id) if isinstance(pk, int)])
        .in_bulk()
    )
    principal, deputy = people.get(principal_id), people.get(deputy_id)
    if principal is None or deputy is None:
        raise NotFound(_("被代理人或代理人不存在。"))
    if actor.pk != principal.pk and not _is_clerk_of(actor, home):
        raise NotAllowed(_("只有本人或%(unit)s的收发员可以设置代理。") % {"unit": home.name})
    if not principal.is_active or not user_roles_in_units([principal.pk], [unit.pk]):
        raise InvalidInput(
            _("%(person)s在%(unit)s没有可以代理的角色。") % {"person": person_name(principal), "unit": unit.name}
        )
    if deputy.pk == principal.pk:
        raise InvalidInput(_("不能由本人代理本人。"))
    is_member = (
        Unit.objects.filter(Q(pk=home.pk) | Q(parent=home, kind=Unit.Kind.INNER_DEPARTMENT), is_active=True)
        .filter(group__user=deputy)
        .exists()
    )
    if not deputy.is_active or not is_member:
        raise InvalidInput(
            _("代理人%(person)s不是%(unit)s或其内设机构的人员。") % {"person": person_name(deputy), "unit": home.name}
        )
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise InvalidInput(_("代理时间须注明时区。"))
    if ends_at <= starts_at:
        raise InvalidInput(
            _("代理结束时间%(ends)s须晚于开始时间%(starts)s。")
            % {"ends": local_text(ends_at), "starts": local_text(starts_at)}
        )
    now = timezone.now()
    if ends_at <= now:
        raise InvalidInput(_("代理结束时间%(ends)s已经过去。") % {"ends": local_text(ends_at)})
    with transaction.atomic():
        delegation = Delegation.objects.create(
            unit=unit,
            principal=principal,
            deputy=deputy,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=actor,
            created_at=now,
        )
        audit_record(
            actor=actor,
            verb=AuditVerb.DELEGATION_GRANTED,
            object_type="Delegation",
            object_id=delegation.pk,
            unit=unit,
            payload={
                "principal": {"id": principal.pk, "name": person_name(principal)},
                "deputy": {"id": deputy.pk, "name": person_name(deputy)},
                "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat(),
            },
        )
    return delegation


def delegation_withdraw(actor, delegation_id: int) -> Delegation:
    """Withdraw a delegation: from then on the deputy can do nothing more under it.

    Preconditions: the actor is the principal, whoever granted it, or a clerk of the recipient
    unit; the delegation is neither withdrawn nor over.
    Errors: NotFound, NotAllowed, Conflict. Nothing is written on error.
    """
    if not (actor is not None and actor.is_authenticated and actor.is_active):
        raise NotAllowed(_("请先登录。"))
    with transaction.atomic():
        delegation = (
            Delegation.objects.select_for_update(of=("self",))
            .select_related("unit__parent", "principal", "deputy")
            .filter(pk=delegation_id)
            .first()
            if isinstance(delegation_id, int)
            else None
        )
        if delegation is None:
            raise NotFound(_("代理记录不存在或无权查看。"))
        home = _home(delegation.unit)
        if actor.pk not in (delegation.principal_id, delegation.created_by_id) and not _is_clerk_of(actor, home):
            raise NotAllowed(_("只有本人、设置代理的人或%(unit)s的收发员可以收回代理。") % {"unit": home.name})
        now = timezone.now()
        if delegation.withdrawn_at is not None:
            raise Conflict(_("这项代理已于%(at)s收回。") % {"at": local_text(delegation.withdrawn_at)})
        if delegation.ends_at <= now:
            raise Conflict(_("这项代理已于%(at)s结束。") % {"at": local_text(delegation.ends_at)})
        Delegation.objects.filter(pk=delegation.pk).update(withdrawn_by=actor, withdrawn_at=now)
        delegation.withdrawn_by, delegation.withdrawn_at = actor, now
        audit_record(
            actor=actor,
            verb=AuditVerb.DELEGATION_WITHDRAWN,
            object_type="Delegation",
            object_id=delegation.pk,
            unit=delegation.unit_id,
            payload={
                "principal": {"id": delegation.principal_id, "name": person_name(delegation.principal)},
                "deputy": {"id": delegation.deputy_id, "name": person_name(delegation.deputy)},
            },
        )
    return delegation


# --- 催办 inside the unit -------------------------------------------------------------------------

_DUE_FIELDS = (
    "id",
    "record_id",
    "department_id",
    "department__name",
    "part",
    "deadline",
    "reminders",
    "escalated_at",
    "instruction__instructed_by_id",
    "instruction__on_behalf_of_id",
    "record__delivery_id",
    "record__delivery__unit_id",
    "record__delivery__document_id",
    "record__delivery__document__number_prefix",
    "record__delivery__document__number_year",
    "record__delivery__document__number_serial",
    "record__delivery__document__title",
)


def assignment_remind_overdue(now: datetime.datetime | None = None) -> int:
    """承办催办 sweep (the beat's, as the system): remind the handlers of every assignment past its
    deadline and not finished, on a delivery its unit still holds, at most once a working day and
    only in office hours (REMINDER_OFFICE_HOURS, on the calendar's working days); at the second
    reminder, tell the leader who gave the instruction, once (escalated_at).

    Batch by batch (REMINDER_BATCH_SIZE), each locked (skipping rows another transaction holds) and
    handled in a fixed number of queries. Returns how many assignments were reminded.
    """
    now = now or timezone.now()
    local = now.astimezone(CALENDAR_ZONE)
    if not is_working_day(local.date()) or not is_office_hours(now):
        return 0
    start_of_day = datetime.datetime.combine(local.date(), datetime.time(), CALENDAR_ZONE)
    reminded = 0
    while True:
        with transaction.atomic():
            rows = list(
                Assignment.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(deadline__lte=now, record__delivery__state__in=Delivery.HELD_STATES)
                .exclude(state=Assignment.State.FINISHED)
                .filter(Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lt=start_of_day))
                .order_by("id")
                .values(*_DUE_FIELDS)[: settings.REMINDER_BATCH_SIZE]
            )
            if not rows:
                return reminded
            _remind_assignments(rows, now)
        reminded += len(rows)
        if len(rows) < settings.REMINDER_BATCH_SIZE:
            return reminded


def _remind_assignments(rows: list[dict], now: datetime.datetime) -> None:
    escalated = [row for row in rows if row["escalated_at"] is None and row["reminders"] + 1 >= 2]
    Assignment.objects.filter(pk__in=[row["id"] for row in rows]).update(
        reminders=F("reminders") + 1,
        last_reminded_at=now,
        escalated_at=Case(When(pk__in=[row["id"] for row in escalated], then=Value(now)), default=F("escalated_at")),
    )
    handlers: dict[int, list[int]] = {}
    for user_id, department_id in _handlers(list({row["department_id"] for row in rows})):
        handlers.setdefault(department_id, []).append(user_id)
    notifications = []
    with notice_language():
        for row in rows:
            number = format_number(
                row["record__delivery__document__number_prefix"],
                row["record__delivery__document__number_year"],
                row["record__delivery__document__number_serial"],
            )
            subject = f"{number}《{row['record__delivery__document__title']}》"
            values = {
                "department": row["department__name"],
                "subject": subject,
                "part": Assignment.Part(row["part"]).label,
                "deadline": local_text(row["deadline"]),
                "round": row["reminders"] + 1,
            }
            reminder = _(
                "%(department)s：%(subject)s的%(part)s已超过办理时限（%(deadline)s），请尽快办理（第%(round)d次催办）。"
            )
            for user_id in handlers.get(row["department_id"], []):
                notifications.append(
                    Notification(
                        user_id=user_id,
                        delivery_id=row["record__delivery_id"],
                        kind=Notification.Kind.ASSIGNMENT_REMINDER,
                        round=row["reminders"] + 1,
                        text=(reminder % values)[:500],
                        created_at=now,
                    )
                )
            if row in escalated:
                leader = row["instruction__on_behalf_of_id"] or row["instruction__instructed_by_id"]
                escalation = _(
                    "%(department)s%(part)s的%(subject)s已超过办理时限（%(deadline)s），已催办%(round)d次，请督促办理。"
                )
                notifications.append(
                    Notification(
                        user_id=leader,
                        delivery_id=row["record__delivery_id"],
                        kind=Notification.Kind.ASSIGNMENT_ESCALATION,
                        round=row["reminders"] + 1,
                        text=(escalation % values)[:500],
                        created_at=now,
                    )
                )
    Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    events = [
        {
            "actor": None,
            "verb": AuditVerb.ASSIGNMENT_REMINDED,
            "object_type": "Assignment",
            "object_id": row["id"],
            "unit": row["department_id"],
            "document": row["record__delivery__document_id"],
            "payload": {
                "record_id": row["record_id"],
                "round": row["reminders"] + 1,
                "deadline": row["deadline"].isoformat(),
            },
        }
        for row in rows
    ] + [
        {
            "actor": None,
            "verb": AuditVerb.ASSIGNMENT_ESCALATED,
            "object_type": "Assignment",
            "object_id": row["id"],
            "unit": row["record__delivery__unit_id"],
            "document": row["record__delivery__document_id"],
            "payload": {
                "record_id": row["record_id"],
                "round": row["reminders"] + 1,
                "leader_id": row["instruction__on_behalf_of_id"] or row["instruction__instructed_by_id"],
            },
        }
        for row in escalated
    ]
    audit_record_many(events)
    enqueue_notification_emails(CONTROL_QUEUE)
