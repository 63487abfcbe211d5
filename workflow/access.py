"""The doors: every document, delivery and chain is reached through here, restricted in the query.

A person sees a document only if
- a unit they belong to issued it (drafts included), or
- a unit they belong to has a delivery of it, or of a cover letter that encloses it at any depth, or
- it is issued and its issuer or one of its recipients is in the subtree of a unit they audit, or
- it was shared with them (or a group of theirs) by a guardian object permission on the document.

Each branch is an EXISTS on indexed columns; routing to 10^5 units writes no permission rows.
Missing and forbidden are one error, so an id reveals nothing. Dispatches, 退文 records and the
files of 办结 feedback have doors of their own here, derived from the same rules.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from documents.models import Document, DocumentGroupObjectPermission, DocumentUserObjectPermission, Enclosure
from units.errors import NotFound
from units.models import Role, Unit
from units.selectors import audit_scope_covers, unit_list_for_member, unit_list_in_audit_scope, unit_list_with_role
from workflow.models import CompletionAttachment, Delivery, DeliveryReturn, Dispatch

User = AbstractBaseUser | AnonymousUser | None


def _delivered_to(units: QuerySet) -> Exists:
    """A delivery to one of `units` of the outer document or of a cover letter enclosing it."""
    covers = Enclosure.objects.filter(enclosed=OuterRef(OuterRef("pk"))).values("cover_id")
    return Exists(Delivery.objects.filter(unit__in=units, document_id__in=covers))


def document_list_visible(user: User) -> QuerySet[Document]:
    if user is None or not user.is_authenticated or not user.is_active:
        return Document.objects.none()
    mine = unit_list_for_member(user)
    audited = unit_list_in_audit_scope(user)
    shared = Q(permission__codename="view_document", content_object=OuterRef("pk"))
    return Document.objects.filter(
        Q(issuing_unit__in=mine)
        | _delivered_to(mine)
        | Q(state=Document.State.ISSUED) & (Q(issuing_unit__in=audited) | _delivered_to(audited))
        | Exists(DocumentUserObjectPermission.objects.filter(shared, user=user))
        | Exists(DocumentGroupObjectPermission.objects.filter(shared, group__user=user))
    )


def access_document(user: User, pk: int, *, for_update: bool = False) -> Document:
    """The document, if this person may see it; NotFound otherwise (missing or forbidden alike)."""
    queryset = document_list_visible(user).select_related("issuing_unit")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=pk)
    except (Document.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("公文不存在或无权查看。")) from None


def chain_list_visible(user: User) -> QuerySet[Document]:
    """The issued documents whose chain view a person may open: for the issuing unit's people and
    for auditors whose scope holds the issuer or a unit the document (or a forward of it) reached."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Document.objects.none()
    audited = unit_list_in_audit_scope(user)
    return Document.objects.filter(state=Document.State.ISSUED).filter(
        Q(issuing_unit__in=unit_list_for_member(user)) | Q(issuing_unit__in=audited) | _delivered_to(audited)
    )


def access_chain(user: User, pk: int) -> Document:
    """The document at the top of a chain view: for its issuing unit's people and its auditors."""
    try:
        return chain_list_visible(user).select_related("issuing_unit").get(pk=pk)
    except (Document.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("公文不存在或无权查看。")) from None


def delivery_list_visible(user: User) -> QuerySet[Delivery]:
    """Deliveries to a unit of this person's, of a document their unit issued, or in audit scope.

    Shaped for the doors, which test one row (access_delivery, access_return, …): two EXISTS
    correlated to the row, one over the person's units, one over the units they audit; neither
    lists every unit in scope (that list grew with the directory: 3.5 ms a check at 20,000 units).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return Delivery.objects.none()
    mine = unit_list_for_member(user).filter(Q(pk=OuterRef("unit_id")) | Q(pk=OuterRef("document__issuing_unit_id")))
    return Delivery.objects.filter(
        Exists(mine) | audit_scope_covers(user, OuterRef("unit__path"), OuterRef("document__issuing_unit__path"))
    )


def access_delivery(user: User, pk: int) -> Delivery:
    # The dispatch comes without its resolved recipient set: up to 10^5 unit ids, not needed here.
    deliveries = delivery_list_visible(user).select_related("document", "unit", "dispatch")
    try:
        return deliveries.defer("dispatch__main_unit_ids", "dispatch__cc_unit_ids").get(pk=pk)
    except (Delivery.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("送达记录不存在或无权查看。")) from None


def access_dispatch(user: User, pk: int) -> Dispatch:
    """A dispatch, for the people of its issuing unit and the auditors whose scope holds that unit."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise NotFound(_("分发记录不存在或无权查看。"))
    issuers = Q(document__issuing_unit__in=unit_list_for_member(user)) | Q(
        document__issuing_unit__in=unit_list_in_audit_scope(user)
    )
    try:
        return Dispatch.objects.filter(issuers).select_related("document__issuing_unit").get(pk=pk)
    except (Dispatch.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("分发记录不存在或无权查看。")) from None


def return_list_visible(user: User) -> QuerySet[DeliveryReturn]:
    """退文 records of the deliveries this person may see: the issuing and the returning unit's
    people, and the auditors whose scope holds either (a return belongs to its delivery's unit)."""
    return DeliveryReturn.objects.filter(delivery__in=delivery_list_visible(user))


def access_return(user: User, pk: int) -> DeliveryReturn:
    """One 退文 (for its 退文告知单): NotFound for anyone else, missing and forbidden alike."""
    try:
        return (
            return_list_visible(user)
            .select_related("delivery__document__issuing_unit", "unit", "returned_by")
            .get(pk=pk)
        )
    except (DeliveryReturn.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("退文记录不存在或无权查看。")) from None


def access_completion_attachment(user: User, pk: int) -> CompletionAttachment:
    """A file of a 办结 feedback, for whoever may see that feedback: anyone who may see its delivery
    (the completing unit, the issuer, their auditors), and anyone who may open the chain view of a
    document the delivered one encloses (the issuers up the chain and the chain's auditors: the
    feedback is on their chain page, `selectors.completion_list_for_chain`)."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise NotFound(_("附件不存在或无权查看。"))
    chains = chain_list_visible(user)
    enclosing = Enclosure.objects.filter(cover=OuterRef("completion__delivery__document"), enclosed__in=chains)
    up_the_chain = Exists(enclosing)
    try:
        return CompletionAttachment.objects.filter(
            Q(completion__delivery__in=delivery_list_visible(user)) | up_the_chain
        ).get(pk=pk)
    except (CompletionAttachment.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("附件不存在或无权查看。")) from None


def access_unit_for_drafting(user: User, pk: int | str | None) -> Unit:
    """A unit this person may draft for (a drafter or clerk of it); NotFound otherwise."""
    units = unit_list_with_role(user, Role.DRAFTER) | unit_list_with_role(user, Role.CLERK)
    try:
        return units.get(pk=pk)
    except (Unit.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("单位不存在或无权拟稿。")) from None
