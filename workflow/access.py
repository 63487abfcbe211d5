"""The doors: every "may this person see it" of the product is decided here, in the query.

A person sees a document's content only if
- a unit they belong to issued it (drafts included), or
- a unit they belong to has a delivery of it, or of a cover letter that encloses it at any depth,
  and that delivery is not withdrawn (撤回: Delivery.WITHDRAWN_STATES), or
- it is issued and its issuer or one of its recipients is in the subtree of a unit they audit, or
- it was shared with them (or a group of theirs) by a guardian object permission on the document, or
- inside the recipient unit (issue 14), a delivery of it is handled there with them: they belong to a
  department (内设机构) that has an assignment (承办 / 协办) on the delivery's handling record, or they
  hold a reading slip of it (传阅, open or read), or they are the deputy (代理) of someone who sees
  it so, or who belongs to its unit, on that unit during the delegation's window. A department
  without an assignment, a reader whose turn has not come, and a deputy outside the window see
  nothing; the unit's own members (its 办公室 and leaders) see everything it received, as before.

A unit whose only way to a document was a delivery that has been recalled gets the stub instead:
the door raises Withdrawn, carrying what the stub shows (number, title, 已撤回, who recalled it,
when and why), never the body or the files. The issuer's people and the auditors still see all.

Each branch is an EXISTS on indexed columns; routing to 10^5 units writes no permission rows.
Missing and forbidden are one error (NotFound), so an id reveals nothing. Pages, the API, commands
and the admin reach objects only through these functions; lists are restricted by the same rules.
"""

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.lookups import IsNull
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.models import (
    Attachment,
    Document,
    DocumentGroupObjectPermission,
    DocumentUserObjectPermission,
    Enclosure,
    ImportedSource,
)
from units.errors import NotFound, Withdrawn
from units.models import Role, Unit
from units.selectors import (
    any_of,
    audit_scope_covers,
    unit_list_for_member,
    unit_list_in_audit_scope,
    unit_list_with_role,
)
from workflow.models import (
    Assignment,
    AssignmentReportFile,
    CompletionAttachment,
    Delegation,
    Delivery,
    DeliveryReturn,
    Dispatch,
    ReadingSlip,
    Recall,
)

User = AbstractBaseUser | AnonymousUser | None

_LIVE = ~Q(state__in=Delivery.WITHDRAWN_STATES)
_WITHDRAWN = Q(state__in=Delivery.WITHDRAWN_STATES)


def _is_active(user: User) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _handled_inside(user: User) -> Q:
    """Inside the recipient unit: whether the outer delivery (OuterRef "pk", "unit_id") is handled
    with this person (see the module's rule). Each branch an EXISTS on indexed columns: assignments
    by (department, state) and record, slips by (reader, state), delegations by (deputy, unit)."""
    departments = unit_list_for_member(user).filter(kind=Unit.Kind.INNER_DEPARTMENT)
    assigned = Exists(Assignment.objects.filter(record__delivery_id=OuterRef("pk"), department__in=departments))
    seen_slips = (ReadingSlip.State.OPEN, ReadingSlip.State.READ)
    reading = Exists(ReadingSlip.objects.filter(record__delivery_id=OuterRef("pk"), reader=user, state__in=seen_slips))
    now = timezone.now()
    delegations = Delegation.objects.filter(Delegation.active_at(now), deputy=user)
    # The principal belongs to the delivery's unit, or to a department of it with an assignment on
    # the delivery, or holds a reading slip of it (on the unit the delegation is for).
    for_member = Exists(delegations.filter(unit_id=OuterRef("unit_id"), unit__group__user=F("principal")))
    for_department = Exists(
        delegations.filter(unit__assignments__record__delivery_id=OuterRef("pk"), unit__group__user=F("principal"))
    )
    for_reader = Exists(
        delegations.filter(
            unit_id=OuterRef("unit_id"),
            principal__reading_slips__record__delivery_id=OuterRef("pk"),
            principal__reading_slips__state__in=seen_slips,
        )
    )
    return assigned | reading | for_member | for_department | for_reader


def _delivered_to(units: QuerySet, state: Q = _LIVE) -> Exists:
    """A delivery to one of `units`, in `state`, of the outer document or of a cover enclosing it."""
    covers = Enclosure.objects.filter(enclosed=OuterRef(OuterRef("pk"))).values("cover_id")
    return Exists(Delivery.objects.filter(state, unit__in=units, document_id__in=covers))


# --- documents ------------------------------------------------------------------------------------


def document_list_visible(user: User) -> QuerySet[Document]:
    """The documents whose content this person may see (the module's rule)."""
    if not _is_active(user):
        return Document.objects.none()
    mine = unit_list_for_member(user)
    audited = unit_list_in_audit_scope(user)
    shared = Q(permission__codename="view_document", content_object=OuterRef("pk"))
    return Document.objects.filter(
        Q(issuing_unit__in=mine)
        | _delivered_to(mine)
        | Q(state=Document.State.ISSUED) & (Q(issuing_unit__in=audited) | _delivered_to(audited, Q()))
        | Exists(DocumentUserObjectPermission.objects.filter(shared, user=user))
        | Exists(DocumentGroupObjectPermission.objects.filter(shared, group__user=user))
        | _handled_inside_of_document(user)
    )


# Up to this many deliveries, the search door holds a unit's live deliveries as one hashed set (an
# issuing office's few: cheaper than a probe for each candidate it did not issue); above, it probes
# each candidate (a county's 13,000 took 23 ms to hash before the first match).
DELIVERED_AS_SET = 2_000


def document_visible_among(user: User, field: str = "document_id", issuer_field: str | None = None) -> Expression:
    """A filter (a boolean expression) on a model whose `field` holds a document id: the documents
    of `document_list_visible` (the same rule), shaped for testing many candidates at once (search).

    One query first learns which branches of the rule can hold for this person at all (a unit of
    theirs, an audit scope, a share, a department, a reading slip, a delegation). For a person
    without audit scope, departments, reading slips or delegations (a unit's clerk), it is the
    union of small indexed sets (what the covers delivered to their units enclose; shared with
    them; delivered, live, to one of their units), one `IN (… UNION …)`
    that PostgreSQL builds once and hashes (wrapped in COALESCE so that the planner keeps it a
    hashed subplan: as a semi-join it re-ran the set for every candidate when it misjudged how
    many there were). What was delivered to their units is one of the sets while they hold at most
    DELIVERED_AS_SET deliveries, and otherwise an index probe per candidate: no part grows
    with the deliveries a unit holds, only with its covers.
    Otherwise it is the rule as a correlated EXISTS per candidate,
    without the branches that cannot hold. Measured (bench/scale_search.py): with every branch per
    candidate, 57 µs a candidate for a county clerk, 70 % of it the audit branch he does not have.
    With `issuer_field` (a field of the same model holding the document's issuing unit, as the
    search rows have), "issued by a unit of theirs" is tested on that field instead of being one
    of the sets: an office that issued 125,000 of 10^6 documents made a set of 0.4 s per query.
    The rule is written twice here: a test holds the two equal for every kind of person
    (tests/web/test_permissions.py, test_the_search_door_sees_exactly_what_the_document_door_sees).
    """
    if not _is_active(user):
        return ExpressionWrapper(Q(pk__in=[]), output_field=BooleanField())
    mine = unit_list_for_member(user)
    now = timezone.now()
    live = Delivery.objects.filter(_LIVE, unit__in=mine)
    member, auditing, shared_user, shared_group, department, reading, deputy, holds_many = _exist(
        (
            mine.values("pk")[:1],
            unit_list_with_role(user, Role.AUDITOR).values("pk")[:1],
            DocumentUserObjectPermission.objects.filter(user=user).values("pk")[:1],
            DocumentGroupObjectPermission.objects.filter(group__user=user).values("pk")[:1],
            unit_list_for_member(user).filter(kind=Unit.Kind.INNER_DEPARTMENT).values("pk")[:1],
            ReadingSlip.objects.filter(reader=user).values("pk")[:1],
            Delegation.objects.filter(Delegation.active_at(now), deputy=user).values("pk")[:1],
            # More deliveries than DELIVERED_AS_SET, withdrawn ones too (a measure of size only): at
            # most that many entries of delivery_inbox_all, index-only, 0.3 ms. Counting only the
            # live ones read each row for its state: 18 ms for a county's first 2,000.
            Delivery.objects.filter(unit__in=mine).order_by().values("pk")[DELIVERED_AS_SET : DELIVERED_AS_SET + 1],
        )
    )
    if not (auditing or department or reading or deputy):
        # "Issued by a unit of theirs" is a set here unless the caller's rows say it (issuer_field).
        sets = [] if issuer_field else [Document.objects.filter(issuing_unit__in=mine).values("pk")]
        if not holds_many:  # delivered to a unit of theirs: a small set (a big one is probed below)
            sets.append(live.values("document_id"))
        # What the unit's covers enclose (depth > 0: a document is its own depth 0): from the unit's
        # covers (delivery_covers) and their enclosures (enclosure_of_covers), a small set.
        covers = live.filter(is_cover=True).values("document_id")
        sets.append(Enclosure.objects.filter(depth__gt=0, cover_id__in=covers).values("enclosed_id"))
        view = Q(permission__codename="view_document")
        if shared_user:
            sets.append(DocumentUserObjectPermission.objects.filter(view, user=user).values("content_object_id"))
        if shared_group:
            sets.append(
                DocumentGroupObjectPermission.objects.filter(view, group__user=user).values("content_object_id")
            )
        compiled = [queryset.order_by().query.sql_with_params() for queryset in sets]
        visible = RawSQL(  # noqa: S611 (statements compiled by the ORM, values are parameters)
            " UNION ALL ".join(sql for sql, _params in compiled),
            [param for _sql, params in compiled for param in params],
        )
        in_set = ExpressionWrapper(Q(**{f"{field}__in": visible}), output_field=BooleanField())
        in_sets = Coalesce(in_set, Value(False), output_field=BooleanField())
        rule = Q(in_sets)
        if holds_many:
            # Delivered to a unit of theirs, live, when its units hold many deliveries: one probe of
            # delivery_visibility (document, unit) per candidate. As a set it was every delivery the
            # unit holds, built before the first match: 13,000 for a county (23 ms at 10^6
            # documents), 10^5 for a big unit. A scalar subquery, not EXISTS: PostgreSQL turns a
            # correlated EXISTS into that hashed set. Its units as `= ANY (ARRAY(…))`, so that the
            # probe's index condition can hold both columns (as `IN (…)` PostgreSQL joined them per
            # candidate: 8 µs, not 2-4).
            postgresql = connection.vendor == "postgresql"
            units = Q(any_of("unit_id", "=", mine.order_by().values("pk"))) if postgresql else Q(unit__in=mine)
            first = Delivery.objects.filter(_LIVE, units, document_id=OuterRef(field))
            rule = Q(IsNull(Subquery(first.order_by().values("pk")[:1]), False)) | rule
        if issuer_field:
            rule = Q(**{f"{issuer_field}__in": mine.values("pk")}) | rule
        return ExpressionWrapper(rule, BooleanField())
    audited = unit_list_in_audit_scope(user)
    # An auditor who belongs to no unit skips the branches of members: the audit branch, first,
    # then answers most candidates from a hashed set of the units in scope.
    rule = Q(issuing_unit__in=mine) | _delivered_to(mine) if member else Q(pk__in=[])
    if auditing:
        rule |= Q(state=Document.State.ISSUED) & (Q(issuing_unit__in=audited) | _delivered_to(audited, Q()))
    shared = Q(permission__codename="view_document", content_object=OuterRef("pk"))
    if shared_user:
        rule |= Exists(DocumentUserObjectPermission.objects.filter(shared, user=user))
    if shared_group:
        rule |= Exists(DocumentGroupObjectPermission.objects.filter(shared, group__user=user))
    if department or reading or deputy:
        rule |= _handled_inside_of_document(user)
    return Exists(Document.objects.filter(rule).filter(pk=OuterRef(field)))


def _exist(querysets: tuple[QuerySet, ...]) -> tuple[bool, ...]:
    """Whether each queryset has a row: one statement, SELECT EXISTS (…), EXISTS (…), …"""
    compiled = [queryset.query.sql_with_params() for queryset in querysets]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join(f"EXISTS ({sql})" for sql, _params in compiled),
            [param for _sql, params in compiled for param in params],
        )
        return tuple(bool(flag) for flag in cursor.fetchone())


def _handled_inside_of_document(user: User) -> Exists:
    """A live delivery of the outer document (or of a cover enclosing it) handled inside its unit
    with this person (`_handled_inside`)."""
    covers = Enclosure.objects.filter(enclosed=OuterRef(OuterRef("pk"))).values("cover_id")
    return Exists(Delivery.objects.filter(_LIVE, document_id__in=covers).filter(_handled_inside(user)))


@dataclass(frozen=True)
class WithdrawnStub:
    """What a unit still sees of a document recalled from it: never the body or the files."""

    number: str
    title: str
    issuer: str
    recalled_by: str
    recalled_at: datetime.datetime
    reason: str
    # The document the issuer recalled, when it is not this one (a forward withdrawn with it).
    recalled_number: str = ""
    recalled_title: str = ""
    delivery_id: int | None = None

    def as_json(self) -> dict:
        return {
            "number": self.number,
            "title": self.title,
            "issuer": self.issuer,
            "state": "recalled",
            "recalled_by": self.recalled_by,
            "recalled_at": self.recalled_at.isoformat(),
            "reason": self.reason,
            "recalled_document": {"number": self.recalled_number, "title": self.recalled_title}
            if self.recalled_number
            else None,
        }


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def _stub(document: Document, recall: Recall, delivery_id: int | None) -> Withdrawn:
    recalled = recall.dispatch.document
    stub = WithdrawnStub(
        number=document.number,
        title=document.title,
        issuer=document.issuing_unit.name,
        recalled_by=_person(recall.recalled_by),
        recalled_at=recall.recalled_at,
        reason=recall.reason,
        recalled_number=recalled.number if recalled.pk != document.pk else "",
        recalled_title=recalled.title if recalled.pk != document.pk else "",
        delivery_id=delivery_id,
    )
    return Withdrawn(
        _("%(number)s《%(title)s》已撤回。") % {"number": stub.number or stub.recalled_number, "title": stub.title},
        stub=stub,
    )


_RECALL_FIELDS = ("recall__recalled_by", "recall__dispatch__document", "document__issuing_unit")


def _withdrawn_document(user: User, pk: int) -> Withdrawn | None:
    """The stub of a document this person's unit received only through deliveries since recalled."""
    covers = Enclosure.objects.filter(enclosed_id=pk).values("cover_id")
    withdrawn = (
        Delivery.objects.filter(_WITHDRAWN, unit__in=unit_list_for_member(user), document_id__in=covers)
        .select_related(*_RECALL_FIELDS)
        .order_by("-recall__recalled_at", "-id")
        .first()
    )
    if withdrawn is None:
        return None
    document = Document.objects.select_related("issuing_unit").get(pk=pk)
    return _stub(document, withdrawn.recall, withdrawn.pk if withdrawn.document_id == pk else None)


def access_document(user: User, pk: int, *, for_update: bool = False) -> Document:
    """The document, if this person may see it; Withdrawn when it was recalled from them; NotFound
    otherwise (missing and forbidden alike)."""
    queryset = document_list_visible(user).select_related("issuing_unit")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=pk)
    except (Document.DoesNotExist, ValueError, TypeError):
        pass
    if _is_active(user) and isinstance(pk, int):
        withdrawn = _withdrawn_document(user, pk)
        if withdrawn is not None:
            raise withdrawn
    raise NotFound(_("公文不存在或无权查看。"))


def access_attachment(user: User, pk: int) -> Attachment:
    """An attachment of a document whose content this person may see (the document's door): one
    query; Withdrawn when the document was recalled from them."""
    attachment = (
        Attachment.objects.filter(pk=pk, document__in=document_list_visible(user)).first()
        if isinstance(pk, int)
        else None
    )
    if attachment is not None:
        return attachment
    document_id = Attachment.objects.filter(pk=pk).values_list("document_id", flat=True).first()
    if document_id is not None and _is_active(user):
        withdrawn = _withdrawn_document(user, document_id)
        if withdrawn is not None:
            raise withdrawn
    raise NotFound(_("附件不存在或无权查看。"))


def enclosed_visibility(user: User, document: Document) -> dict[int, bool]:
    """For each document `document` encloses (itself included): whether its content is visible to
    this person, who has passed the door for `document`. A cover letter's own unit keeps its letter
    after the document it forwarded was recalled from it, but not that document. One query."""
    visible = document_list_visible(user).filter(pk=OuterRef("enclosed_id"))
    return dict(
        Enclosure.objects.filter(cover=document)
        .annotate(is_visible=Exists(visible))
        .values_list("enclosed_id", "is_visible")
    )


# --- chains ---------------------------------------------------------------------------------------


def chain_list_visible(user: User) -> QuerySet[Document]:
    """The issued documents whose chain view a person may open: for the issuing unit's people and
    for auditors whose scope holds the issuer or a unit the document (or a forward of it) reached."""
    if not _is_active(user):
        return Document.objects.none()
    audited = unit_list_in_audit_scope(user)
    # The issuer in scope: its path against the person's few audited units' (audit_scope_covers), row
    # by row. As `issuing_unit__in=audited` it hashed every unit in scope first (10^5 for a region's
    # auditor: 100 ms before the chains list's first row, issue 18).
    issuer_audited = audit_scope_covers(user, "issuing_unit__path")
    return Document.objects.filter(state=Document.State.ISSUED).filter(
        Q(issuing_unit__in=unit_list_for_member(user)) | issuer_audited | _delivered_to(audited, Q())
    )


def access_chain(user: User, pk: int) -> Document:
    """The document at the top of a chain view: for its issuing unit's people and its auditors."""
    try:
        return chain_list_visible(user).select_related("issuing_unit").get(pk=pk)
    except (Document.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("公文不存在或无权查看。")) from None


def may_open_chain(user: User, document: Document) -> bool:
    return chain_list_visible(user).filter(pk=document.pk).exists()


# --- deliveries -----------------------------------------------------------------------------------


def _delivery_rules(user: User) -> tuple[Q, Q]:
    """(content, stub): who sees a delivery with its document, and who sees only the stub.

    Content: its unit's people while it is not withdrawn, its issuer's people, the auditors whose
    scope holds either unit. Stub: its unit's people once it is withdrawn. Shaped for the doors,
    which test one row: correlated EXISTS, none listing every unit in scope (that grew with the
    directory: 3.5 ms a check at 20,000 units).
    """
    mine = unit_list_for_member(user)
    recipient = Exists(mine.filter(pk=OuterRef("unit_id"))) | _handled_inside(user)
    issuer = Exists(mine.filter(pk=OuterRef("document__issuing_unit_id")))
    audited = audit_scope_covers(user, "unit__path", "document__issuing_unit__path")
    return (recipient & _LIVE) | issuer | audited, recipient & _WITHDRAWN


def delivery_list_visible(user: User) -> QuerySet[Delivery]:
    """Deliveries whose page (with the document) this person may open."""
    if not _is_active(user):
        return Delivery.objects.none()
    content, _stub_rule = _delivery_rules(user)
    return Delivery.objects.filter(content)


def delivery_list_reachable(user: User) -> QuerySet[Delivery]:
    """Deliveries this person reaches through `access_delivery`: with the document, or (its unit's
    people, once it is withdrawn) as the stub; annotated `content_visible`. For those who are told
    about deliveries without opening them one by one (webhooks)."""
    if not _is_active(user):
        return Delivery.objects.none()
    content, stub = _delivery_rules(user)
    return Delivery.objects.filter(content | stub).annotate(
        content_visible=ExpressionWrapper(content, output_field=BooleanField())
    )


def access_delivery(user: User, pk: int) -> Delivery:
    """The delivery with its document, unit and dispatch; Withdrawn (with the stub) for its unit's
    people once it is recalled; NotFound for anyone else. One query (two for the stub)."""
    if not _is_active(user):
        raise NotFound(_("送达记录不存在或无权查看。"))
    deliveries = (
        delivery_list_reachable(user)
        .select_related("document__issuing_unit", "unit", "dispatch")
        # The dispatch comes without its resolved recipient set: up to 10^5 unit ids, not needed here.
        .defer("dispatch__main_unit_ids", "dispatch__cc_unit_ids")
    )
    try:
        delivery = deliveries.get(pk=pk)
    except (Delivery.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("送达记录不存在或无权查看。")) from None
    if not delivery.content_visible:
        recall = Recall.objects.select_related("recalled_by", "dispatch__document").get(pk=delivery.recall_id)
        raise _stub(delivery.document, recall, delivery.pk)
    return delivery


def access_dispatch(user: User, pk: int) -> Dispatch:
    """A dispatch, for the people of its issuing unit and the auditors whose scope holds that unit."""
    if not _is_active(user):
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
    if not _is_active(user):
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


def access_report_file(user: User, pk: int) -> AssignmentReportFile:
    """A file of a department's report (承办情况), for whoever may see its delivery: one query."""
    if not _is_active(user):
        raise NotFound(_("附件不存在或无权查看。"))
    try:
        return AssignmentReportFile.objects.filter(
            report__assignment__record__delivery__in=delivery_list_visible(user)
        ).get(pk=pk)
    except (AssignmentReportFile.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("附件不存在或无权查看。")) from None


# --- registered files ------------------------------------------------------------------------------


def imported_source_list_visible(user: User) -> QuerySet[ImportedSource]:
    """What documents were registered (or drafted) from, with the original files: for the people of
    the unit that registered them and the auditors whose scope holds that unit, while the document
    itself is visible to them. The issuer and another unit that received the same document do not
    see this unit's file (a scan may carry the unit's own notes)."""
    if not _is_active(user):
        return ImportedSource.objects.none()
    return ImportedSource.objects.filter(document__in=document_list_visible(user)).filter(
        Q(unit__in=unit_list_for_member(user)) | Q(unit__in=unit_list_in_audit_scope(user))
    )


def access_imported_source(user: User, pk: int) -> ImportedSource:
    """One registration's source and original file, through `imported_source_list_visible`."""
    try:
        return imported_source_list_visible(user).get(pk=pk)
    except (ImportedSource.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("来源文件不存在或无权查看。")) from None


# --- units ----------------------------------------------------------------------------------------


def access_unit_for_drafting(user: User, pk: int | str | None) -> Unit:
    """A unit this person may draft for (a drafter or clerk of it); NotFound otherwise."""
    units = unit_list_with_role(user, Role.DRAFTER) | unit_list_with_role(user, Role.CLERK)
    try:
        return units.get(pk=pk)
    except (Unit.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("单位不存在或无权拟稿。")) from None


def access_unit_for_registering(user: User, pk: int | str | None) -> Unit:
    """A unit whose 收文登记 this person keeps (a clerk of it); NotFound otherwise."""
    try:
        return unit_list_with_role(user, Role.CLERK).get(pk=pk, is_active=True)
    except (Unit.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("单位不存在或无权登记收文。")) from None


def access_unit_as_member(user: User, pk: int | str | None) -> Unit:
    """A unit this person belongs to (its outbox, its drafts); NotFound otherwise."""
    try:
        return unit_list_for_member(user).get(pk=pk)
    except (Unit.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("单位不存在或无权查看。")) from None
