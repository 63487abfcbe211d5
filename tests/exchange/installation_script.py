"""What the end-to-end test runs inside an installation (tests/exchange/installations.py,
`Installation.call`): the real services, each function taking and returning JSON."""

from django.db import connection

from documents.models import Document
from exchange.directory import peer_save, unit_host
from exchange.models import (
    OutgoingConsignment,
    OutgoingRecall,
    OutgoingReceipt,
    OutgoingReport,
    Peer,
    ReceivedConsignment,
    ReceivedReceipt,
    ReceivedReport,
)
from tests.factories import issue as issue_document
from tests.factories import person, unit
from units.models import Role, Unit
from workflow.audit import audit_verify
from workflow.models import Delivery
from workflow.selectors import chain_for_document


def setup(*, units: list[dict], peers: list[dict], people: list[dict]) -> dict:
    """Units in order ({"name", "parent", "prefixes", "peer"}), peers ({"name", "url", "key"}), and
    people ({"username", "unit", "roles"})."""
    for peer in peers:
        peer_save(actor=None, name=peer["name"], base_url=peer["url"], public_key=peer["key"])
    for spec in units:
        parent = Unit.objects.get(name=spec["parent"]) if spec.get("parent") else None
        made = unit(spec["name"], parent, prefixes=spec.get("prefixes", ()))
        if spec.get("peer"):
            unit_host(actor=None, unit=made, peer=Peer.objects.get(name=spec["peer"]))
    for spec in people:
        person(Unit.objects.get(name=spec["unit"]), *[Role(role) for role in spec["roles"]], username=spec["username"])
    return {"units": Unit.objects.count()}


def issue(*, clerk: str, unit: str, main: list[str], title: str, urgency: str, attachments: dict | None = None) -> dict:
    """Draft (with `attachments`, name → text), sign off and issue; the routing and the
    consignments go to this installation's worker."""
    import io

    from django.contrib.auth import get_user_model

    from tests.factories import content, second_signer
    from workflow import services

    actor = get_user_model().objects.get(username=clerk)
    issuing = Unit.objects.get(name=unit)
    if not attachments:
        document, dispatch = issue_document(
            actor, issuing, main=list(Unit.objects.filter(name__in=main)), route=False, title=title, urgency=urgency
        )
    else:
        document = services.document_draft(
            actor=actor,
            unit=issuing,
            content=content(title=title, urgency=urgency),
            main_recipients=list(Unit.objects.filter(name__in=main)),
        )
        for name, text in attachments.items():
            services.attachment_add(actor=actor, document=document, name=name, stream=io.BytesIO(text.encode()))
        services.document_sign_off(actor=second_signer(issuing, actor), document=document)
        dispatch = services.document_issue(actor=actor, document=document)
        document.refresh_from_db()
    return {"document": document.pk, "digest": document.digest, "number": document.number, "dispatch": dispatch.pk}


def state() -> dict:
    """What the test checks: documents by digest, deliveries, consignments both ways, the audit chain."""
    deliveries = [
        {"digest": digest, "unit": name, "state": state}
        for digest, name, state in Delivery.objects.order_by("pk").values_list(
            "document__digest", "unit__name", "state"
        )
    ]
    verification = audit_verify()
    from documents.models import Attachment

    files = {}
    for digest, name, sha256 in Attachment.objects.values_list("document__digest", "name", "sha256"):
        files.setdefault(digest, []).append([name, sha256])
    return {
        "files": files,
        "documents": {
            digest: {"number": f"{prefix}〔{year}〕{serial}号", "issuer": issuer}
            for digest, prefix, year, serial, issuer in Document.objects.filter(state="issued").values_list(
                "digest", "number_prefix", "number_year", "number_serial", "issuing_unit__name"
            )
        },
        "deliveries": deliveries,
        "received": sorted(str(c) for c in ReceivedConsignment.objects.values_list("consignment_id", flat=True)),
        "sent": sorted(
            (str(c), state, attempts, code)
            for c, state, attempts, code in OutgoingConsignment.objects.values_list(
                "consignment_id", "state", "attempts", "last_code"
            )
        ),
        "receipt_pairs": sorted(
            (d, u, e)
            for d, u, e in ReceivedReceipt.objects.values_list(
                "delivery__document__digest", "delivery__unit__name", "event"
            )
        ),
        # Reports a newer one replaced before they went are left out: they were never sent.
        "outgoing": sorted(
            (kind, state, code)
            for kind, model in (("receipt", OutgoingReceipt), ("recall", OutgoingRecall), ("report", OutgoingReport))
            for state, code in model.objects.exclude(state="superseded").values_list("state", "last_code")
        ),
        "reports_received": ReceivedReport.objects.count(),
        "audit_intact": verification.is_intact,
        "audit_events": verification.events,
    }


def send_again() -> dict:
    """Every message this installation sent (consignments, receipts, recalls, reports), made due
    again, as a lost answer would leave it: the peer must answer duplicate and change nothing. How
    many of each kind."""
    again = {}
    with connection.cursor() as cursor:
        for kind in ("consignment", "receipt", "recall", "report"):
            table = f"exchange_outgoing{kind}"
            cursor.execute(f"UPDATE {table} SET state = 'pending', next_attempt_at = now() WHERE state = 'accepted'")
            again[kind] = cursor.rowcount
    return again


def chain(*, digest: str) -> dict:
    """The chain of the issued document with this digest, as its JSON export writes it."""
    return chain_for_document(Document.objects.get(digest=digest, state="issued")).as_json()


def forward(*, username: str, signer: str, digest: str, main: list[str]) -> dict:
    """转发: the clerk forwards the unit's delivery of the document, another signer signs off, the
    clerk issues the cover."""
    from django.contrib.auth import get_user_model

    from workflow import services

    users = get_user_model().objects
    actor = users.get(username=username)
    delivery = Delivery.objects.get(document__digest=digest, unit__in=Unit.objects.filter(group__user=actor))
    cover = services.document_forward(
        actor=actor, delivery=delivery, main_recipients=list(Unit.objects.filter(name__in=main))
    )
    services.document_sign_off(actor=users.get(username=signer), document=cover)
    services.document_issue(actor=actor, document=cover)
    cover.refresh_from_db()
    return {"digest": cover.digest, "number": cover.number}


def act(*, username: str, digest: str, action: str) -> str:
    """A clerk signs for ("sign") or returns ("return") their unit's delivery of the document."""
    from django.contrib.auth import get_user_model

    from workflow import services
    from workflow.models import ReturnReason

    actor = get_user_model().objects.get(username=username)
    delivery = Delivery.objects.get(document__digest=digest, unit__in=Unit.objects.filter(group__user=actor))
    if action == "sign":
        services.delivery_sign_for(actor=actor, delivery_id=delivery.pk)
    else:
        services.delivery_return(
            actor=actor, delivery_id=delivery.pk, reason=ReturnReason.NOT_COMPETENT, text="不属于本单位职责"
        )
    return Delivery.objects.get(pk=delivery.pk).state


def recall(*, username: str, digest: str, reason: str) -> dict:
    """The issuing unit's clerk recalls the whole dispatch of the document (撤回)."""
    from django.contrib.auth import get_user_model

    from workflow import services
    from workflow.models import Dispatch

    actor = get_user_model().objects.get(username=username)
    dispatch = Dispatch.objects.get(document__digest=digest)
    return services.dispatch_recall(actor=actor, dispatch_id=dispatch.pk, reason=reason)


def issue_many(*, clerk: str, unit: str, main: list[str], count: int, urgency: str, title: str) -> list[str]:
    """`count` documents issued one after another (the benchmark's backlog); their digests."""
    return [
        issue(clerk=clerk, unit=unit, main=main, title=f"{title}（第{n + 1}号）", urgency=urgency)["digest"]
        for n in range(count)
    ]
