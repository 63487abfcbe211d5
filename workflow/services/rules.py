"""Who may do what, and when: the preconditions of the services, written once.

Each service that acts on a delivery or a document checks its precondition here, under the row's
lock, before it writes; the pages ask the same functions which actions to offer
(`delivery_actions`, `document_actions`). A page and a service cannot disagree, because there is
one rule. A refusal is a DomainError naming the problem: NotAllowed when the person holds no role
for the action, Conflict when the object's state does not allow it.
"""

import datetime
import enum
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import CharField, IntegerField, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from documents.models import Document
from units.display import display_alternatives, display_list
from units.errors import Conflict, DomainError, NotAllowed
from units.models import Role, Unit
from units.selectors import unit_roles, user_roles_in_units
from workflow.models import (
    Assignment,
    AuditEvent,
    AuditVerb,
    Delegation,
    Delivery,
    Forward,
    HandlingRecord,
    ReadingSlip,
)
from workflow.transitions import may_move

User = AbstractBaseUser | AnonymousUser | None


# A role as a refusal names it: "您不是…的收发员" / "You are not a clerk of …".
_REFUSED_ROLE_NAMES = {
    Role.CLERK: pgettext_lazy("refused role", "收发员"),
    Role.DRAFTER: pgettext_lazy("refused role", "拟稿人"),
    Role.SIGNER: pgettext_lazy("refused role", "签发人"),
    Role.AUDITOR: pgettext_lazy("refused role", "审计"),
    Role.LEADER: pgettext_lazy("refused role", "领导"),
    Role.HANDLER: pgettext_lazy("refused role", "承办人"),
    Role.READER: pgettext_lazy("refused role", "阅文人"),
}


def _role_refusal(unit: Unit, held: frozenset[str], needed: tuple[Role, ...], action: str) -> NotAllowed | None:
    if any(role in held for role in needed):
        return None
    names = display_alternatives(_REFUSED_ROLE_NAMES[role] for role in needed)
    return NotAllowed(
        _("您不是%(unit)s的%(roles)s，不能%(action)s。") % {"unit": unit.name, "roles": names, "action": action}
    )


def require_role(actor: User, unit: Unit, *roles: Role, action: str) -> None:
    """Refuse (NotAllowed) unless the actor holds one of `roles` on the unit: one query."""
    refusal = _role_refusal(unit, unit_roles(actor, [unit.pk]).get(unit.pk, frozenset()), roles, action)
    if refusal is not None:
        raise refusal


_DRAFTING_ROLES = (Role.DRAFTER, Role.CLERK)
_RECIPIENT_ROLES = (Role.CLERK,)
_ISSUER_ROLES = (Role.CLERK, Role.SIGNER)


def unit_actions(actor: User, unit: Unit) -> frozenset[str]:
    """What the person may do for a unit as a whole (its outbox): "draft" (拟稿), and "remind" and
    "recall" (催办, 撤回 what it sent; each delivery's state decides the rest). One query."""
    held = unit_roles(actor, [unit.pk]).get(unit.pk, frozenset())
    actions = set()
    if any(role in held for role in _DRAFTING_ROLES):
        actions.add("draft")
    if any(role in held for role in _ISSUER_ROLES):
        actions.update({str(DeliveryAction.REMIND), str(DeliveryAction.RECALL)})
    return frozenset(actions)


# --- deliveries -----------------------------------------------------------------------------------


class DeliveryAction(enum.StrEnum):
    SIGN_FOR = "sign_for"
    FORWARD = "forward"
    RETURN = "return"
    COMPLETE = "complete"
    REMIND = "remind"
    RECALL = "recall"


_DELIVERY_ACTION_NAMES = {
    DeliveryAction.SIGN_FOR: pgettext_lazy("refused action", "签收"),
    DeliveryAction.FORWARD: pgettext_lazy("refused action", "转发"),
    DeliveryAction.RETURN: pgettext_lazy("refused action", "退文"),
    DeliveryAction.COMPLETE: pgettext_lazy("refused action", "办结"),
    DeliveryAction.REMIND: pgettext_lazy("refused action", "催办"),
    DeliveryAction.RECALL: pgettext_lazy("refused action", "撤回"),
}
# The recipient unit's clerk acts on what it received; the issuing unit's clerk or signer urges and
# recalls what it sent.
_RECIPIENT_ACTIONS = {
    DeliveryAction.SIGN_FOR,
    DeliveryAction.FORWARD,
    DeliveryAction.RETURN,
    DeliveryAction.COMPLETE,
}


@dataclass(frozen=True)
class Standing:
    """What a person is to one delivery: their roles on its unit and on its document's issuer."""

    recipient: frozenset[str] = frozenset()
    issuer: frozenset[str] = frozenset()


def delivery_standing(actor: User, delivery: Delivery) -> Standing:
    issuer_id = delivery.document.issuing_unit_id
    roles = unit_roles(actor, [delivery.unit_id, issuer_id])
    return Standing(roles.get(delivery.unit_id, frozenset()), roles.get(issuer_id, frozenset()))


def state_conflict(delivery: Delivery, action: str, hint: str = "") -> Conflict:
    """The refusal of an act the delivery's state does not allow: the unit, the number, the state."""
    return Conflict(
        _("送给%(unit)s的%(number)s状态为%(state)s，不能%(action)s。%(hint)s")
        % {
            "unit": delivery.unit.name,
            "number": delivery.document.number,
            "state": delivery.get_state_display(),
            "action": action,
            "hint": hint,
        }
    )


def _state_refusal(
    action: DeliveryAction, delivery: Delivery, *, is_forwarded: bool, unfinished_leads: tuple[str, ...] = ()
) -> Conflict | None:
    state, hint = delivery.state, ""
    if action == DeliveryAction.COMPLETE and unfinished_leads and may_move(state, Delivery.State.COMPLETED):
        # 办结 of the unit closes its handling record: every 主办 department has finished first.
        return Conflict(
            _("主办部门%(departments)s尚未办毕，%(unit)s还不能办结%(number)s。")
            % {
                "departments": display_list(unfinished_leads),
                "unit": delivery.unit.name,
                "number": delivery.document.number,
            }
        )
    if action == DeliveryAction.SIGN_FOR:
        allowed = may_move(state, Delivery.State.SIGNED)
    elif action == DeliveryAction.FORWARD:
        allowed = state in Delivery.HELD_STATES
        hint = _("签收后才能转发。") if state == Delivery.State.PENDING else ""
    elif action == DeliveryAction.RETURN:
        allowed = may_move(state, Delivery.State.RETURNED) and not is_forwarded
        hint = _("本单位已经转发了这份公文。") if is_forwarded else ""
    elif action == DeliveryAction.COMPLETE:
        allowed = may_move(state, Delivery.State.COMPLETED)
        hint = _("请先签收。") if state == Delivery.State.PENDING else ""
    elif action == DeliveryAction.REMIND:
        allowed = state in Delivery.OPEN_STATES
    else:
        allowed = may_move(state, Delivery.State.RECALLED) or may_move(state, Delivery.State.RECALLED_AFTER_SIGNING)
    if allowed:
        return None
    return state_conflict(delivery, _DELIVERY_ACTION_NAMES[action], hint)


def delivery_refusal(
    action: DeliveryAction,
    delivery: Delivery,
    standing: Standing,
    *,
    is_forwarded: bool = False,
    unfinished_leads: tuple[str, ...] = (),
) -> DomainError | None:
    """Why this person may not take `action` on the delivery now, or None when they may.

    `delivery` comes with its unit and document (and the document's issuing unit) loaded;
    `unfinished_leads` names the 主办 departments of its handling record that have not finished
    (办结 waits for them).
    """
    if action in _RECIPIENT_ACTIONS:
        refusal = _role_refusal(delivery.unit, standing.recipient, _RECIPIENT_ROLES, _DELIVERY_ACTION_NAMES[action])
    else:
        refusal = _role_refusal(
            delivery.document.issuing_unit, standing.issuer, _ISSUER_ROLES, _DELIVERY_ACTION_NAMES[action]
        )
    return refusal or _state_refusal(action, delivery, is_forwarded=is_forwarded, unfinished_leads=unfinished_leads)


def recipient_facts(delivery: Delivery) -> tuple[bool, tuple[str, ...]]:
    """What the recipient clerk's actions depend on beyond the state, in one query: whether the
    unit forwarded the delivery (no 退文 then), and the short names of the 主办 departments of its
    handling record that have not finished (no 办结 yet), in assignment order."""
    kind = IntegerField()
    leads = (
        Assignment.objects.filter(record__delivery_id=delivery.pk, part=Assignment.Part.LEAD)
        .exclude(state=Assignment.State.FINISHED)
        .order_by()  # a UNION's parts carry no ORDER BY (SQLite refuses one)
        .values_list("department__short_name", Value(0, output_field=kind), "id")
    )
    forwards = (
        Forward.objects.filter(source_delivery_id=delivery.pk)
        .order_by()
        .values_list(Value("", output_field=CharField()), Value(1, output_field=kind), "id")
    )
    rows = list(leads.union(forwards, all=True))
    names = tuple(name for name, is_forward, _id in sorted(rows, key=lambda row: row[2]) if not is_forward)
    return any(is_forward for _name, is_forward, _id in rows), names


def delivery_action_refusal(actor: User, action: DeliveryAction, delivery: Delivery) -> DomainError | None:
    """Why the actor may not take `action` on the delivery now, or None. One or two queries."""
    standing = delivery_standing(actor, delivery)
    is_forwarded, leads = False, ()
    if action in (DeliveryAction.RETURN, DeliveryAction.COMPLETE) and Role.CLERK in standing.recipient:
        is_forwarded, leads = recipient_facts(delivery)
    return delivery_refusal(action, delivery, standing, is_forwarded=is_forwarded, unfinished_leads=leads)


def require_delivery_action(actor: User, action: DeliveryAction, delivery: Delivery) -> None:
    """Refuse unless the actor may take `action` on the delivery now. Call it under the row's lock."""
    refusal = delivery_action_refusal(actor, action, delivery)
    if refusal is not None:
        raise refusal


def delivery_actions(actor: User, delivery: Delivery) -> frozenset[DeliveryAction]:
    """What the person may do with the delivery now (what its page offers): one or two queries.

    A deputy of a clerk of the unit (代理签收, Delegation) may sign for it: one query more, asked
    only of a pending delivery by someone who is not its unit's clerk."""
    standing = delivery_standing(actor, delivery)
    deputy_may_sign = (
        Role.CLERK not in standing.recipient
        and delivery.state == Delivery.State.PENDING
        and deputy_principal(actor, delivery.unit_id, (Role.CLERK,)) is not None
    )
    if deputy_may_sign:
        standing = Standing(standing.recipient | {Role.CLERK}, standing.issuer)
    if not standing.recipient and not standing.issuer:
        return frozenset()
    is_forwarded, leads = recipient_facts(delivery) if Role.CLERK in standing.recipient else (False, ())
    actions = frozenset(
        action
        for action in DeliveryAction
        if delivery_refusal(action, delivery, standing, is_forwarded=is_forwarded, unfinished_leads=leads) is None
    )
    if deputy_may_sign:
        # A deputy signs for the unit, nothing more: forwarding, returning and 办结 stay the clerk's.
        actions -= {DeliveryAction.FORWARD, DeliveryAction.RETURN, DeliveryAction.COMPLETE}
    return actions


# --- documents ------------------------------------------------------------------------------------


class DocumentAction(enum.StrEnum):
    EDIT = "edit"
    ATTACH = "attach"
    SIGN_OFF = "sign_off"
    ISSUE = "issue"
    SHARE = "share"


_DOCUMENT_ACTION_NAMES = {
    DocumentAction.EDIT: pgettext_lazy("refused action", "修改"),
    DocumentAction.ATTACH: pgettext_lazy("refused action", "添加附件"),
    DocumentAction.SIGN_OFF: pgettext_lazy("refused action", "签发"),
    DocumentAction.ISSUE: pgettext_lazy("refused action", "印发"),
    DocumentAction.SHARE: pgettext_lazy("refused action", "分享公文"),
}
_DOCUMENT_ROLES = {
    DocumentAction.EDIT: _DRAFTING_ROLES,
    DocumentAction.ATTACH: _DRAFTING_ROLES,
    DocumentAction.SIGN_OFF: (Role.SIGNER,),
    DocumentAction.ISSUE: (Role.CLERK,),
    DocumentAction.SHARE: (Role.SIGNER,),
}
_DOCUMENT_STATE = {
    DocumentAction.EDIT: Document.State.DRAFT,
    DocumentAction.ATTACH: Document.State.DRAFT,
    DocumentAction.SIGN_OFF: Document.State.DRAFT,
    DocumentAction.ISSUE: Document.State.SIGNED_OFF,
    DocumentAction.SHARE: Document.State.ISSUED,
}


def document_state_refusal(document: Document, state: str, action: str) -> Conflict | None:
    if document.state == state:
        return None
    if document.state == Document.State.ISSUED:
        return Conflict(_("%(number)s已经印发，不能再%(action)s。") % {"number": document.number, "action": action})
    return Conflict(
        _("公文“%(title)s”当前状态为%(state)s，不能%(action)s。")
        % {"title": document.title, "state": document.get_state_display(), "action": action}
    )


def _forwarded_source(document: Document, *, lock: bool = False) -> Delivery | None:
    """The delivery a cover letter forwards (None for any other document), with its unit."""
    deliveries = Delivery.objects.filter(forwards__cover=document).select_related("unit", "document")
    if lock:
        deliveries = deliveries.select_for_update(of=("self",))
    return deliveries.first()


# What makes a person an author of a draft: they wrote it, changed it, attached to it, or drafted
# it as a forward or from an imported file.
_AUTHOR_VERBS = (
    AuditVerb.DOCUMENT_DRAFTED,
    AuditVerb.DOCUMENT_UPDATED,
    AuditVerb.ATTACHMENT_ADDED,
    AuditVerb.DOCUMENT_FORWARDED,
    AuditVerb.DOCUMENT_REGISTERED,
)


def _is_author(actor: User, document: Document) -> bool:
    """Whether the actor wrote or changed the draft, as its audit events record: one query."""
    if not actor or not actor.is_authenticated:
        return False
    return AuditEvent.objects.filter(document_id=document.pk, actor_id=actor.pk, verb__in=_AUTHOR_VERBS).exists()


def document_refusal(
    action: DocumentAction,
    document: Document,
    roles: frozenset[str],
    *,
    source: Delivery | None = None,
    is_author: bool = False,
) -> DomainError | None:
    """Why a person holding `roles` on the issuing unit may not take `action` on the document now.

    `document` comes with its issuing unit loaded; `source` is the delivery it forwards, if it is a
    cover letter: a unit issues a forward only of what it still holds (a recall takes it away).
    `is_author`: the person wrote or changed the draft; they may not sign it off (签发) themselves
    unless the unit allows it (Unit.allows_self_sign_off): 核稿 and 签发 by two people.
    """
    name = _DOCUMENT_ACTION_NAMES[action]
    refusal = _role_refusal(document.issuing_unit, roles, _DOCUMENT_ROLES[action], name)
    refusal = refusal or document_state_refusal(document, _DOCUMENT_STATE[action], name)
    if (
        refusal is None
        and action == DocumentAction.SIGN_OFF
        and is_author
        and not document.issuing_unit.allows_self_sign_off
    ):
        return NotAllowed(
            _("您起草或修改过“%(title)s”，按%(unit)s的规定须由另一位签发人签发。")
            % {"title": document.title, "unit": document.issuing_unit.name}
        )
    if refusal is None and action == DocumentAction.ISSUE and source and source.state not in Delivery.HELD_STATES:
        return Conflict(
            _("转发的%(number)s在%(unit)s的状态为%(state)s，不能印发这份转发通知。")
            % {"number": source.document.number, "unit": source.unit.name, "state": source.get_state_display()}
        )
    return refusal


def require_document_action(actor: User, action: DocumentAction, document: Document) -> None:
    """Refuse unless the actor may take `action` on the document now. Call it under the row's lock
    (for 印发, this locks the delivery a cover letter forwards too, until the transaction ends)."""
    roles = unit_roles(actor, [document.issuing_unit_id]).get(document.issuing_unit_id, frozenset())
    source = _forwarded_source(document, lock=True) if action == DocumentAction.ISSUE else None
    is_author = action == DocumentAction.SIGN_OFF and _is_author(actor, document)
    refusal = document_refusal(action, document, roles, source=source, is_author=is_author)
    if refusal is not None:
        raise refusal


def document_actions(actor: User, document: Document) -> frozenset[DocumentAction]:
    """What the person may do with the document now (what its page offers): one or two queries."""
    roles = unit_roles(actor, [document.issuing_unit_id]).get(document.issuing_unit_id, frozenset())
    if not roles:
        return frozenset()
    source = _forwarded_source(document) if document.state == Document.State.SIGNED_OFF else None
    is_author = document.state == Document.State.DRAFT and Role.SIGNER in roles and _is_author(actor, document)
    return frozenset(
        action
        for action in DocumentAction
        if document_refusal(action, document, roles, source=source, is_author=is_author) is None
    )


# --- inside a recipient unit: deputies (代理) and the handling record (办理单) ---------------------


def _is_active_user(actor: User) -> bool:
    return bool(actor is not None and actor.is_authenticated and actor.is_active)


def delegation_list_active(deputy: User, unit_ids: list[int], now: datetime.datetime) -> QuerySet[Delegation]:
    """The delegations under which `deputy` may act now on any of `unit_ids`: in their window, not
    withdrawn, from a principal who is still active."""
    if not _is_active_user(deputy) or not unit_ids:
        return Delegation.objects.none()
    return Delegation.objects.filter(Delegation.active_at(now), deputy=deputy, unit_id__in=unit_ids)


def deputy_principal(
    actor: User, unit_id: int, roles: tuple[Role, ...], *, lock: bool = False
) -> AbstractBaseUser | None:
    """The person for whom the actor may act on the unit now with one of `roles` (代理): the
    principal of an active delegation on that unit who holds such a role there; None when there is
    none. One query, two when there is a delegation. `lock` holds the delegation until the
    transaction ends, so that a withdrawal waits for the act (or the act sees the withdrawal)."""
    delegations = (
        delegation_list_active(actor, [unit_id], timezone.now()).select_related("principal").order_by("starts_at", "id")
    )
    if lock:
        delegations = delegations.select_for_update(of=("self",))
    delegations = list(delegations)
    if not delegations:
        return None
    held = user_roles_in_units([delegation.principal_id for delegation in delegations], [unit_id])
    for delegation in delegations:
        if any(role in held.get((delegation.principal_id, unit_id), ()) for role in roles):
            return delegation.principal
    return None


def require_acting(actor: User, unit: Unit, *roles: Role, action: str) -> AbstractBaseUser | None:
    """Refuse (NotAllowed) unless the actor holds one of `roles` on the unit, or acts now as the
    deputy of someone who does. Returns that principal (None: the actor acts for themself). Call
    it inside the act's transaction: the delegation stays locked until it ends."""
    held = unit_roles(actor, [unit.pk]).get(unit.pk, frozenset())
    if any(role in held for role in roles):
        return None
    principal = deputy_principal(actor, unit.pk, roles, lock=True)
    if principal is not None:
        return principal
    raise _role_refusal(unit, held, roles, action)


def require_step(actor: User, step: "HandlingStep", unit: Unit) -> AbstractBaseUser | None:
    """require_acting with the roles a step of the 办理单 needs on `unit` (HANDLING_ROLES)."""
    return require_acting(actor, unit, *HANDLING_ROLES[step], action=HANDLING_STEP_NAMES[step])


def person_name(user: AbstractBaseUser) -> str:
    return user.get_full_name() or user.get_username()


def deputy_payload(principal: AbstractBaseUser | None) -> dict:
    """What an act's audit payload says of a deputy's principal (nothing when there is none)."""
    return {"deputy_for": {"id": principal.pk, "name": person_name(principal)}} if principal is not None else {}


class HandlingStep(enum.StrEnum):
    REGISTER = "register"
    PROPOSE = "propose"
    INSTRUCT = "instruct"
    REPLY = "reply"
    ACCEPT = "accept"
    REPORT = "report"
    READ = "read"
    PASS_ON = "pass_on"  # noqa: S105 (a step, not a password)


HANDLING_STEP_NAMES = {
    HandlingStep.REGISTER: pgettext_lazy("refused action", "收文登记"),
    HandlingStep.PROPOSE: pgettext_lazy("refused action", "拟办"),
    HandlingStep.INSTRUCT: pgettext_lazy("refused action", "批办"),
    HandlingStep.REPLY: pgettext_lazy("refused action", "答复"),
    HandlingStep.ACCEPT: pgettext_lazy("refused action", "承办"),
    HandlingStep.REPORT: pgettext_lazy("refused action", "报送承办情况"),
    HandlingStep.READ: pgettext_lazy("refused action", "阅文"),
    HandlingStep.PASS_ON: pgettext_lazy("refused action", "转阅"),
}
# Who takes each step on the record, on which unit: the unit's clerk registers and proposes, its
# leader instructs, a department's handler handles. A deputy may take them for their principal.
HANDLING_ROLES = {
    HandlingStep.REGISTER: (Role.CLERK,),
    HandlingStep.PROPOSE: (Role.CLERK,),
    HandlingStep.INSTRUCT: (Role.LEADER,),
    HandlingStep.ACCEPT: (Role.HANDLER,),
    HandlingStep.REPORT: (Role.HANDLER,),
}
# 答复 drafts a document of the unit, which only its clerk or drafter does (document_draft), never a
# deputy: drafting documents is not delegated.
REPLY_ROLES = (Role.CLERK, Role.DRAFTER)
# 传阅: who may be handed the document to read: the unit's leaders and readers.
READING_ROLES = (Role.LEADER, Role.READER)


# The unit's 办结 closes the work on a record: nobody proposes, instructs or handles it afterwards.
# It may still be registered (a clerk who closed it at once), read in turn, and answered (答复).
CLOSED_BY_COMPLETION = frozenset(
    {HandlingStep.PROPOSE, HandlingStep.INSTRUCT, HandlingStep.ACCEPT, HandlingStep.REPORT}
)


def handling_record_refusal(step: HandlingStep, delivery: Delivery, record: HandlingRecord | None) -> Conflict | None:
    """Why the delivery's state or its handling record does not allow `step` now, or None.

    The record's steps need the delivery held by its unit (signed for, or completed; not returned
    or recalled), and a record, which 收文登记 makes once; after the unit's 办结, only registering,
    reading and answering (CLOSED_BY_COMPLETION).
    """
    name = HANDLING_STEP_NAMES[step]
    if delivery.state not in Delivery.HELD_STATES:
        hint = _("签收后才能收文登记。") if delivery.state == Delivery.State.PENDING else ""
        return state_conflict(delivery, name, hint)
    if delivery.state == Delivery.State.COMPLETED and step in CLOSED_BY_COMPLETION:
        return Conflict(
            _("%(unit)s已办结%(number)s，不能再%(action)s。")
            % {"unit": delivery.unit.name, "number": delivery.document.number, "action": name}
        )
    if step == HandlingStep.REGISTER and record is not None:
        return Conflict(
            _("%(number)s已经由%(unit)s登记，收文编号为%(serial)s。")
            % {"number": delivery.document.number, "unit": delivery.unit.name, "serial": str(record)}
        )
    if step != HandlingStep.REGISTER and record is None:
        return Conflict(
            _("%(number)s尚未收文登记，不能%(action)s。") % {"number": delivery.document.number, "action": name}
        )
    return None


def assignment_refusal(step: HandlingStep, assignment: Assignment, delivery: Delivery) -> Conflict | None:
    """Why the assignment's state does not allow `step` (承办, or a report) now, or None. A report
    on an assignment not yet accepted accepts it (the reporter has taken up the work)."""
    held = handling_record_refusal(step, delivery, assignment.record)
    if held is not None:
        return held
    allowed = (
        assignment.state == Assignment.State.ASSIGNED
        if step == HandlingStep.ACCEPT
        else assignment.state != Assignment.State.FINISHED
    )
    if allowed:
        return None
    return Conflict(
        _("%(department)s对%(number)s的%(part)s状态为%(state)s，不能%(action)s。")
        % {
            "department": assignment.department.name,
            "number": delivery.document.number,
            "part": assignment.get_part_display(),
            "state": assignment.get_state_display(),
            "action": HANDLING_STEP_NAMES[step],
        }
    )


def reading_refusal(step: HandlingStep, slip: ReadingSlip, delivery: Delivery) -> Conflict | None:
    """Why the reading slip does not allow `step` (已阅, or passing it on) now, or None."""
    held = handling_record_refusal(step, delivery, slip.record)
    if held is not None:
        return held
    if step == HandlingStep.PASS_ON and not slip.instruction.readers_may_pass_on:
        return Conflict(_("批办时没有允许阅文人转阅%(number)s。") % {"number": delivery.document.number})
    allowed = (
        slip.state == ReadingSlip.State.OPEN
        if step == HandlingStep.READ
        else slip.state in (ReadingSlip.State.OPEN, ReadingSlip.State.READ)
    )
    if allowed:
        return None
    return Conflict(
        _("%(number)s的传阅单状态为%(state)s，不能%(action)s。")
        % {"number": delivery.document.number, "state": slip.get_state_display(), "action": HANDLING_STEP_NAMES[step]}
    )


@dataclass(frozen=True)
class HandlingActions:
    """What a person may do on a delivery's handling record now (what the pages offer)."""

    register: bool = False  # 收文登记 (unit clerk, or their deputy; delivery signed, not yet registered)
    propose: bool = False  # 拟办 (unit clerk; registered)
    instruct: bool = False  # 批办 (unit leader; registered)
    accept: tuple[int, ...] = ()  # assignment ids this person may accept (handler of that department)
    report: tuple[int, ...] = ()  # assignment ids this person may report on / finish
    read: int | None = None  # the open reading slip of this person
    pass_on: int | None = None  # the slip this person may pass on (leader allowed it)
    reply: bool = False  # 答复 (unit clerk or drafter; registered)
    acting_for: int | None = None  # the principal's user id when this person acts as a deputy


def handling_actions(actor: User, delivery: Delivery) -> HandlingActions:
    """What the person may do on the delivery's handling record now, by the services' own rules.

    `delivery` comes with its unit and document loaded (as the doors give it). At most six queries,
    whatever the number of assignments and reading slips: the record, its assignments, the person's
    slips, their roles on the unit and the assigned departments, their delegations (代理) there and
    the principals' roles.
    """
    if not _is_active_user(actor):
        return HandlingActions()
    record = HandlingRecord.objects.filter(delivery_id=delivery.pk).first()
    assignments: list[Assignment] = []
    slips: list[ReadingSlip] = []
    if record is not None:
        assignments = list(Assignment.objects.filter(record=record).select_related("department").order_by("id"))
        slips = list(ReadingSlip.objects.filter(record=record, reader=actor).select_related("instruction"))
    unit_ids = list(dict.fromkeys([delivery.unit_id, *(assignment.department_id for assignment in assignments)]))
    roles = unit_roles(actor, unit_ids)
    delegations = list(
        delegation_list_active(actor, unit_ids, timezone.now())
        .order_by("starts_at", "id")
        .values_list("principal_id", "unit_id")
    )
    principal_roles = (
        user_roles_in_units([principal for principal, _unit in delegations], unit_ids) if delegations else {}
    )
    principals: list[int] = []

    def may(unit_id: int, wanted: tuple[Role, ...]) -> bool:
        if any(role in roles.get(unit_id, ()) for role in wanted):
            return True
        for principal_id, delegated_unit in delegations:
            if delegated_unit == unit_id and any(
                role in principal_roles.get((principal_id, unit_id), ()) for role in wanted
            ):
                principals.append(principal_id)
                return True
        return False

    def allowed(step: HandlingStep) -> bool:
        return handling_record_refusal(step, delivery, record) is None and may(delivery.unit_id, HANDLING_ROLES[step])

    for assignment in assignments:
        assignment.record = record
    accept = tuple(
        assignment.pk
        for assignment in assignments
        if assignment_refusal(HandlingStep.ACCEPT, assignment, delivery) is None
        and may(assignment.department_id, HANDLING_ROLES[HandlingStep.ACCEPT])
    )
    report = tuple(
        assignment.pk
        for assignment in assignments
        if assignment_refusal(HandlingStep.REPORT, assignment, delivery) is None
        and may(assignment.department_id, HANDLING_ROLES[HandlingStep.REPORT])
    )
    for slip in slips:
        slip.record = record
    read = next((slip.pk for slip in slips if reading_refusal(HandlingStep.READ, slip, delivery) is None), None)
    pass_on = next((slip.pk for slip in slips if reading_refusal(HandlingStep.PASS_ON, slip, delivery) is None), None)
    reply = handling_record_refusal(HandlingStep.REPLY, delivery, record) is None and any(
        role in roles.get(delivery.unit_id, ()) for role in REPLY_ROLES
    )
    return HandlingActions(
        register=allowed(HandlingStep.REGISTER),
        propose=allowed(HandlingStep.PROPOSE),
        instruct=allowed(HandlingStep.INSTRUCT),
        accept=accept,
        report=report,
        read=read,
        pass_on=pass_on,
        reply=reply,
        acting_for=principals[0] if principals else None,
    )
