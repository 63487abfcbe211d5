"""公文交换 (issue 17): receipts (回执) travel back. At the installation that received a consignment,
what its units do with the deliveries (read, sign for, return, complete) becomes signed receipts,
derived from the audit log; at the installation that sent it, a receipt moves its record of that
delivery through the same services as a local clerk, acting as the peer's stand-in."""

import base64
import hashlib
import json
import time
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from exchange import keys
from exchange.derive import exchange_derive
from exchange.directory import peer_save, peer_user, unit_host
from exchange.envelope import canonical
from exchange.models import OutgoingConsignment, OutgoingReceipt, ReceivedConsignment, ReceivedReceipt
from tests.conftest import _state
from tests.factories import delivery_of, issue
from workflow import services
from workflow.checkpoints import key_generate, public_key_pem_of
from workflow.models import AuditEvent, AuditVerb, Delivery, Notification, Receipt, ReturnReason

# --- at the installation that received the consignment (B) ---------------------------------------------


def test_what_a_unit_does_with_a_delivery_from_elsewhere_becomes_signed_receipts_once(world, received, receiver):
    sender, envelope, delivery = received
    services.delivery_open(actor=world.jygw, delivery=delivery)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    assert exchange_derive() == 2
    assert exchange_derive() == 0  # the cursor moved on; nothing twice
    read, signed = OutgoingReceipt.objects.order_by("pk")
    assert (read.event, signed.event, signed.peer, signed.queue) == ("read", "signed", sender.peer, "urgent")
    message = json.loads(bytes(signed.envelope))
    assert bytes(signed.envelope) == canonical(message)
    assert keys.verifies(receiver.public_key(), signed.signature, bytes(signed.envelope))
    assert message["consignment"] == envelope["id"]
    assert message["from"] == {"installation": "B", "unit": world.education.name}
    assert (message["event"], message["digest"], message["by"]) == ("signed", envelope["document"], "jygw")
    assert message["return"] is message["completion"] is None
    # A delivery of B's own makes no receipt.
    document, _dispatch = issue(world.jygw, world.education, main=[world.university])
    services.delivery_sign_for(actor=world.imu, delivery_id=delivery_of(document, world.university).pk)
    assert exchange_derive() == 0


def test_a_return_carries_its_reason(world, received):
    _sender, _envelope, delivery = received
    services.delivery_return(
        actor=world.jygw, delivery_id=delivery.pk, reason=ReturnReason.NOT_COMPETENT, text="不属于本单位职责"
    )
    exchange_derive()
    message = json.loads(bytes(OutgoingReceipt.objects.get().envelope))
    assert message["event"] == "returned"
    assert message["return"] == {"reason": ReturnReason.NOT_COMPETENT, "text": "不属于本单位职责"}


# --- at the installation that sent it (A) --------------------------------------------------------------


@pytest.fixture
def sent_to_b(world, installation_a, tmp_path, settings):
    """A (this installation) issued to education and to the university, which B hosts."""
    settings.MEDIA_ROOT = tmp_path / "media"
    b_key = key_generate(tmp_path / "B-own.pem")
    peer = peer_save(
        actor=None, name="B", base_url="http://b.example/exchange/", public_key=public_key_pem_of(b_key.public_key())
    )
    unit_host(actor=None, unit=world.university, peer=peer)
    document, dispatch = issue(world.zzb, world.department, main=[world.education, world.university])
    return peer, b_key, document, OutgoingConsignment.objects.get(dispatch=dispatch)


def _receipt(outgoing, document, unit, event: str, **extra) -> dict:
    return {
        "protocol": "gongwen-exchange/1",
        "type": "receipt",
        "id": str(uuid.uuid4()),
        "consignment": str(outgoing.consignment_id),
        "from": {"installation": "B", "unit": unit.name},
        "event": event,
        "at": "2026-12-01T08:00:00Z",
        "by": "王明",
        "digest": document.digest,
        "return": extra.get("return"),
        "completion": extra.get("completion"),
    }


def _post(client, key, receipt: dict, files: dict | None = None):
    body = json.dumps(
        {"envelope": receipt, "signature": keys.envelope_signature(key, canonical(receipt)), "files": files or {}},
        ensure_ascii=False,
    ).encode()
    stamp = str(int(time.time()))
    return client.post(
        reverse("exchange-receipts"),
        data=body,
        content_type="application/json",
        HTTP_GONGWEN_INSTALLATION="B",
        HTTP_GONGWEN_TIMESTAMP=stamp,
        HTTP_GONGWEN_SIGNATURE=keys.message_signature(key, stamp, body),
    )


def test_a_signed_receipt_signs_for_the_delivery_here_through_the_peers_stand_in(client, world, sent_to_b):
    peer, b_key, document, outgoing = sent_to_b
    delivery = delivery_of(document, world.university)
    receipt = _receipt(outgoing, document, world.university, "signed")
    response = _post(client, b_key, receipt)
    assert response.status_code == 201, response.content
    assert json.loads(response.content)["code"] == "accepted"
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SIGNED
    stand_in = peer_user(peer)
    local = Receipt.objects.get(delivery=delivery)
    assert (local.signed_by, local.content_digest) == (stand_in, document.digest)
    assert not stand_in.has_usable_password()
    kept = ReceivedReceipt.objects.get()
    assert (kept.delivery, kept.event, bytes(kept.envelope)) == (delivery, "signed", canonical(receipt))
    event = AuditEvent.objects.get(verb=AuditVerb.RECEIPT_ACCEPTED)
    assert event.payload == {
        "peer": "B",
        "receipt": receipt["id"],
        "event": "signed",
        "by": "王明",
        "at": receipt["at"],
    }
    assert AuditEvent.objects.filter(verb=AuditVerb.DELIVERY_SIGNED, object_id=str(delivery.pk)).count() == 1
    # The same receipt again: duplicate, nothing written.
    before = _state()
    again = _post(client, b_key, receipt)
    assert (again.status_code, json.loads(again.content)["code"]) == (200, "duplicate")
    assert _state() == before


def test_a_return_and_a_completion_with_its_file_move_the_delivery_as_a_clerk_here_would(client, world, sent_to_b):
    _peer, b_key, document, outgoing = sent_to_b
    delivery = delivery_of(document, world.university)
    assert _post(client, b_key, _receipt(outgoing, document, world.university, "signed")).status_code == 201
    content = "落实情况报告\n".encode()
    sha256 = hashlib.sha256(content).hexdigest()
    completion = {
        "feedback": "已传达学习",
        "attachments": [{"name": "报告.txt", "size": len(content), "sha256": sha256}],
    }
    receipt = _receipt(outgoing, document, world.university, "completed", completion=completion)
    response = _post(client, b_key, receipt, {sha256: base64.b64encode(content).decode()})
    assert response.status_code == 201, response.content
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.COMPLETED
    assert delivery.completion.feedback == "已传达学习"
    assert delivery.completion.attachments.get().file.read() == content
    other = delivery_of(document, world.education)  # a local unit: no receipt from B moves it
    receipt = _receipt(
        outgoing, document, world.education, "returned", **{"return": {"reason": "not_competent", "text": ""}}
    )
    response = _post(client, b_key, receipt)
    assert (response.status_code, json.loads(response.content)["code"]) == (403, "not_accepted")
    other.refresh_from_db()
    assert other.state == Delivery.State.PENDING


def test_a_receipt_for_another_document_or_a_state_the_delivery_cannot_take_is_refused(client, world, sent_to_b):
    _peer, b_key, document, outgoing = sent_to_b
    wrong = _receipt(outgoing, document, world.university, "signed")
    wrong["digest"] = "0" * 64
    response = _post(client, b_key, wrong)
    assert (response.status_code, json.loads(response.content)["code"]) == (422, "digest_mismatch")
    unknown = _receipt(outgoing, document, world.university, "signed")
    unknown["consignment"] = str(uuid.uuid4())
    assert json.loads(_post(client, b_key, unknown).content)["code"] == "not_accepted"
    # Completed before it was signed for: the transition table refuses it, here as at B.
    early = _receipt(
        outgoing, document, world.university, "completed", completion={"feedback": "好", "attachments": []}
    )
    answer = json.loads(_post(client, b_key, early).content)
    assert answer["code"] == "not_accepted"
    assert delivery_of(document, world.university).state == Delivery.State.PENDING
    assert AuditEvent.objects.filter(verb=AuditVerb.RECEIPT_REFUSED).count() == 3
    assert not ReceivedReceipt.objects.exists()


def test_an_auditor_checks_offline_that_every_kept_message_is_what_its_peer_signed(client, world, received, capsys):
    """exchange_verify: every envelope kept from a peer against the peer's key; one changed in the
    table (the signature was over other bytes) is named, and the command fails."""
    call_command("exchange_verify")
    assert capsys.readouterr().out == (
        "ok 1 consignments, 0 receipts, 0 recalls, 0 reports: every one as its peer signed it\n"
    )
    kept = ReceivedConsignment.objects.get()
    envelope = bytes(kept.envelope).replace("做好防汛工作".encode(), "做好抗旱工作".encode())
    assert envelope != bytes(kept.envelope)
    ReceivedConsignment.objects.filter(pk=kept.pk).update(envelope=envelope)
    with pytest.raises(CommandError, match="1 of 1 kept messages do not verify"):
        call_command("exchange_verify")
    assert capsys.readouterr().err == f"does not verify: consignment {kept.consignment_id} from A\n"


def test_the_people_of_a_unit_elsewhere_are_not_notified_here(world, sent_to_b):
    """A unit B hosts is told by B: here its clerks (the peer's stand-in, and anyone left from
    before it moved) get no notification of what arrives for it, nor of a 催办."""
    peer, _b_key, document, outgoing = sent_to_b
    services.dispatch_notify(dispatch_id=outgoing.dispatch_id)
    notified = Notification.objects.filter(delivery__document=document).values_list("user__username", flat=True)
    assert sorted(notified) == ["jygw"]  # education's clerk; not the university's, nor B's stand-in
    services.delivery_remind(actor=world.zzb, delivery_id=delivery_of(document, world.university).pk)
    assert not Notification.objects.filter(user=peer_user(peer)).exists()
