"""Who may do what, and when: the preconditions of the services, written once.

Each service that acts on a delivery or a document checks its precondition here, under the row's
lock, before it writes; the pages ask the same functions which actions to offer
(`delivery_actions`, `document_actions`). A page and a service cannot disagree, because there is
one rule. A refusal is a DomainError naming the problem: NotAllowed when the person holds no role
for the action, Conflict when the object's state does not allow it.
"""

import enum
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from documents.models import Document
from units.display import display_alternatives
from units.errors import Conflict, DomainError, NotAllowed
from units.models import Role, Unit
from units.selectors import unit_roles
from workflow.models import AuditEvent, AuditVerb, Delivery, Forward
from workflow.transitions import may_move

User = AbstractBaseUser | AnonymousUser | None


# A role as a refusal names it: "您不是…的收发员" / "You are not a clerk of …".
_REFUSED_ROLE_NAMES = {
    Role.CLERK: pgettext_lazy("refused role", "收发员"),
    Role.DRAFTER: pgettext_lazy("refused role", "拟稿人"),
    Role.SIGNER: pgettext_lazy("refused role", "签发人"),
    Role.AUDITOR: pgettext_lazy("refused role", "审计"),
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


def _state_refusal(action: DeliveryAction, delivery: Delivery, *, is_forwarded: bool) -> Conflict | None:
    state, hint = delivery.state, ""
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
    return Conflict(
        _("送给%(unit)s的%(number)s状态为%(state)s，不能%(action)s。%(hint)s")
        % {
            "unit": delivery.unit.name,
            "number": delivery.document.number,
            "state": delivery.get_state_display(),
            "action": _DELIVERY_ACTION_NAMES[action],
            "hint": hint,
        }
    )


def delivery_refusal(
    action: DeliveryAction, delivery: Delivery, standing: Standing, *, is_forwarded: bool = False
) -> DomainError | None:
    """Why this person may not take `action` on the delivery now, or None when they may.

    `delivery` comes with its unit and document (and the document's issuing unit) loaded.
    """
    if action in _RECIPIENT_ACTIONS:
        refusal = _role_refusal(delivery.unit, standing.recipient, _RECIPIENT_ROLES, _DELIVERY_ACTION_NAMES[action])
    else:
        refusal = _role_refusal(
            delivery.document.issuing_unit, standing.issuer, _ISSUER_ROLES, _DELIVERY_ACTION_NAMES[action]
        )
    return refusal or _state_refusal(action, delivery, is_forwarded=is_forwarded)


def _is_forwarded(delivery: Delivery) -> bool:
    return Forward.objects.filter(source_delivery=delivery).exists()


def delivery_action_refusal(actor: User, action: DeliveryAction, delivery: Delivery) -> DomainError | None:
    """Why the actor may not take `action` on the delivery now, or None. One or two queries."""
    is_forwarded = action == DeliveryAction.RETURN and _is_forwarded(delivery)
    return delivery_refusal(action, delivery, delivery_standing(actor, delivery), is_forwarded=is_forwarded)


def require_delivery_action(actor: User, action: DeliveryAction, delivery: Delivery) -> None:
    """Refuse unless the actor may take `action` on the delivery now. Call it under the row's lock."""
    refusal = delivery_action_refusal(actor, action, delivery)
    if refusal is not None:
        raise refusal


def delivery_actions(actor: User, delivery: Delivery) -> frozenset[DeliveryAction]:
    """What the person may do with the delivery now (what its page offers): one or two queries."""
    standing = delivery_standing(actor, delivery)
    if not standing.recipient and not standing.issuer:
        return frozenset()
    is_forwarded = Role.CLERK in standing.recipient and _is_forwarded(delivery)
    return frozenset(
        action
        for action in DeliveryAction
        if delivery_refusal(action, delivery, standing, is_forwarded=is_forwarded) is None
    )


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
