"""公文交换 (issue 17): a recall travels to the peer and withdraws there. At the recalling
installation, a recall that withdraws deliveries to units a peer hosts becomes a signed recall per
consignment, derived from the audit log; at the peer, the recalling installation's stand-in
withdraws the deliveries through the same recall services."""

import json
import time
import uuid

from django.urls import reverse

from exchange import keys
from exchange.derive import exchange_derive
from exchange.directory import peer_save, unit_host
from exchange.envelope import canonical
from exchange.models import OutgoingConsignment, OutgoingRecall, ReceivedRecall
from tests.conftest import _state
from tests.exchange.elsewhere import Sender
from tests.factories import delivery_of, issue
from workflow import services
from workflow.checkpoints import key_generate, public_key_pem_of
from workflow.models import AuditEvent, AuditVerb, Delivery


def test_a_recall_of_deliveries_to_units_of_a_peer_becomes_one_signed_recall_per_consignment(
    world, installation_a, tmp_path
):
    b_key = key_generate(tmp_path / "B-own.pem")
    peer = peer_save(
        actor=None, name="B", base_url="http://b.example/exchange/", public_key=public_key_pem_of(b_key.public_key())
    )
    unit_host(actor=None, unit=world.university, peer=peer)
    unit_host(actor=None, unit=world.university_b, peer=peer)
    document, dispatch = issue(
        world.zzb, world.department, main=[world.education, world.university, world.university_b]
    )
    outgoing = OutgoingConsignment.objects.get()
    exchange_derive()  # nothing to recall yet: the cursor starts before the issue
    assert not OutgoingRecall.objects.exists()
    # One unit of B's, then the rest of the dispatch: two recalls, each naming what it withdrew there.
    services.delivery_recall(actor=world.zzb, delivery_id=delivery_of(document, world.university).pk, reason="发错")
    services.dispatch_recall(actor=world.zzb, dispatch_id=dispatch.pk, reason="内容有误")
    assert exchange_derive() == 2
    assert exchange_derive() == 0
    first, second = OutgoingRecall.objects.order_by("pk")
    messages = [json.loads(bytes(row.envelope)) for row in (first, second)]
    for row, message in zip((first, second), messages, strict=True):
        assert keys.verifies(installation_a.public_key(), row.signature, bytes(row.envelope))
        assert (row.peer, row.dispatch, message["consignment"]) == (peer, dispatch, str(outgoing.consignment_id))
        assert message["from"] == {"installation": "A", "unit": world.department.name}
        assert message["by"] == "zzb"
    assert [(m["units"], m["reason"]) for m in messages] == [
        ([world.university.name], "发错"),
        ([world.university_b.name], "内容有误"),
    ]


def _recall(sender: Sender, envelope: dict, units: list[str]) -> dict:
    return {
        "protocol": "gongwen-exchange/1",
        "type": "recall",
        "id": str(uuid.uuid4()),
        "consignment": envelope["id"],
        "from": {"installation": "A", "unit": envelope["from"]["unit"]},
        "units": units,
        "reason": "内容有误",
        "at": "2026-12-01T08:00:00Z",
        "by": "zzb",
    }


def _post(client, sender: Sender, recall: dict):
    body = sender.body(recall, {})
    stamp = str(int(time.time()))
    return client.post(
        reverse("exchange-recalls"),
        data=body,
        content_type="application/json",
        HTTP_GONGWEN_INSTALLATION="A",
        HTTP_GONGWEN_TIMESTAMP=stamp,
        HTTP_GONGWEN_SIGNATURE=keys.message_signature(sender.key, stamp, body),
    )


def test_a_recall_from_the_peer_withdraws_here_through_the_recall_service_once(client, world, received):
    sender, envelope, delivery = received
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    recall = _recall(sender, envelope, [world.education.name])
    response = _post(client, sender, recall)
    assert response.status_code == 201, response.content
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.RECALLED_AFTER_SIGNING
    assert delivery.recall.reason == "内容有误"
    kept = ReceivedRecall.objects.get()
    assert (kept.dispatch, bytes(kept.envelope)) == (delivery.dispatch, canonical(recall))
    event = AuditEvent.objects.get(verb=AuditVerb.RECALL_ACCEPTED)
    assert (event.payload["recall"], event.payload["units"], event.payload["held"]) == (
        recall["id"],
        [world.education.name],
        1,
    )
    assert AuditEvent.objects.filter(verb=AuditVerb.DISPATCH_RECALLED).count() == 1
    before = _state()
    again = _post(client, sender, recall)
    assert (again.status_code, json.loads(again.content)["code"]) == (200, "duplicate")
    assert _state() == before


def test_a_recall_naming_a_unit_that_is_no_recipient_or_an_unknown_consignment_is_refused(client, world, received):
    sender, envelope, delivery = received
    response = _post(client, sender, _recall(sender, envelope, [world.other.name]))
    assert (response.status_code, json.loads(response.content)["code"]) == (404, "unknown_recipient")
    unknown = _recall(sender, envelope, [world.education.name])
    unknown["consignment"] = str(uuid.uuid4())
    assert json.loads(_post(client, sender, unknown).content)["code"] == "not_accepted"
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PENDING
    assert AuditEvent.objects.filter(verb=AuditVerb.RECALL_REFUSED).count() == 2
