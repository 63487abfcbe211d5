"""The doors: every document, delivery and chain is reached through here, restricted in the query.

A person sees a document only if
- a unit they belong to issued it (drafts included), or
- a unit they belong to has a delivery of it, or of a cover letter that encloses it at any depth, or
- it is issued and its issuer or one of its recipients is in the subtree of a unit they audit, or
- it was shared with them (or a group of theirs) by a guardian object permission on the document.

Each branch is an EXISTS on indexed columns; routing to 10^5 units writes no permission rows.
Missing and forbidden are one error, so an id reveals nothing.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from documents.models import Document, DocumentGroupObjectPermission, DocumentUserObjectPermission, Enclosure
from units.errors import NotFound
from units.selectors import audit_scope_covers, unit_list_for_member, unit_list_in_audit_scope
from workflow.models import Delivery

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


def access_chain(user: User, pk: int) -> Document:
    """The document at the top of a chain view: for its issuing unit's people and its auditors."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise NotFound(_("公文不存在或无权查看。"))
    queryset = Document.objects.filter(state=Document.State.ISSUED).filter(
        Q(issuing_unit__in=unit_list_for_member(user))
        | Q(issuing_unit__in=unit_list_in_audit_scope(user))
        | _delivered_to(unit_list_in_audit_scope(user))
    )
    try:
        return queryset.select_related("issuing_unit").get(pk=pk)
    except (Document.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("公文不存在或无权查看。")) from None


def delivery_list_visible(user: User) -> QuerySet[Delivery]:
    """Deliveries to a unit of this person's, of a document their unit issued, or in audit scope.

    Shaped for the door to one delivery (access_delivery): two EXISTS correlated to the row, one
    over the person's units, one over the units they audit; neither lists every unit in scope.
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
