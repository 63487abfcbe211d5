"""公文交换 (issue 17), the receiving side: a peer's consignment is taken in through the same routing
as a local dispatch, or refused with the protocol's code and nothing written but the refusal's
audit event.

The sending installation's documents are made here by the real services and then rolled back, so
that the receiving database holds them only through the envelope (`_elsewhere`).
"""

import base64
import copy
import hashlib
import json
import time
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from documents.digest import canonical_bytes
from documents.models import Document, Enclosure
from exchange import keys
from exchange.envelope import canonical, consignment_envelope
from exchange.models import Peer, ReceivedConsignment
from tests.conftest import _state
from tests.exchange.elsewhere import _elsewhere, _files, _issued, _sent
from tests.factories import delivery_of, second_signer
from units.models import Unit
from workflow import services
from workflow.checkpoints import key_generate
from workflow.models import AuditEvent, AuditVerb, Delivery


def _answer(response, receiver) -> dict:
    """The answer's JSON, once its signature verifies with B's key."""
    assert response[keys.INSTALLATION_HEADER] == "B"
    stamp, signature = response[keys.TIMESTAMP_HEADER], response[keys.SIGNATURE_HEADER]
    assert keys.message_verifies(receiver.public_key(), signature, stamp, response.content)
    return json.loads(response.content)


# --- taken in ------------------------------------------------------------------------------------


def test_a_consignment_is_taken_in_with_the_senders_digest_and_routed_like_a_local_dispatch(
    client, world, sender, receiver, django_capture_on_commit_callbacks
):
    envelope, files, digest = _sent(world, sender)
    assert not Document.objects.filter(digest=digest).exists()
    with django_capture_on_commit_callbacks() as callbacks:
        response = sender.post(client, sender.body(envelope, files))
    assert response.status_code == 201
    answer = _answer(response, receiver)
    assert answer["code"] == "accepted"
    assert answer["consignment"] == envelope["id"]
    document = Document.objects.get(digest=digest)
    assert document.issuing_unit == world.department
    assert document.state == Document.State.ISSUED
    assert document.number == envelope["documents"][-1]["number"]
    assert list(document.attachments.values_list("name", "sha256")) == [
        (a["name"], a["sha256"]) for a in envelope["documents"][-1]["attachments"]
    ]
    assert document.attachments.get().file.read() == "名单.txt\n".encode()
    consignment = ReceivedConsignment.objects.get()
    assert bytes(consignment.envelope) == canonical(envelope)
    assert keys.verifies(sender.key.public_key(), consignment.signature, bytes(consignment.envelope))
    dispatch = consignment.dispatch
    assert (dispatch.document, dispatch.issuing_unit, dispatch.issued_by) == (document, world.department, None)
    assert (dispatch.main_unit_ids, dispatch.cc_unit_ids, dispatch.queue) == ([world.education.pk], [], "urgent")
    # Routing is the local task's, on the urgent queue: enqueued on commit, one message.
    assert len(callbacks) == 1
    assert not Delivery.objects.exists()
    services.dispatch_route(dispatch_id=dispatch.pk)
    delivery = delivery_of(document, world.education)
    assert delivery.state == Delivery.State.PENDING
    receipt = services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    assert receipt.content_digest == digest
    event = AuditEvent.objects.get(verb=AuditVerb.CONSIGNMENT_ACCEPTED)
    assert event.payload["consignment"] == envelope["id"]
    assert event.payload["created"] == [document.pk]


def test_the_same_consignment_again_is_a_duplicate_that_writes_nothing(
    client, world, sender, receiver, nothing_written
):
    envelope, files, digest = _sent(world, sender)
    body = sender.body(envelope, files)
    first = _answer(sender.post(client, body), receiver)
    with nothing_written():
        response = sender.post(client, body)
        # A new attempt is a new message (a new timestamp), with the same consignment id.
        again = sender.post(client, body, timestamp=int(time.time()) + 1)
    assert response.status_code == again.status_code == 200
    answer = _answer(response, receiver)
    assert answer["code"] == "duplicate"
    assert answer["consignment"] == envelope["id"]
    assert answer["received_at"] == first["received_at"]
    assert Document.objects.filter(digest=digest).count() == 1


def test_a_forward_from_elsewhere_brings_its_original_byte_for_byte_and_a_later_copy_is_linked(
    client, world, sender, receiver
):
    """The department's original, forwarded by education (both on A) to the university here: the
    cover encloses the original, whose digest here is the one it had on A. The original sent on
    its own afterwards is linked, not stored twice."""

    def build():
        original, dispatch = _issued(
            world, world.department, world.zzb, urgency="特急", attachments=("附件一.txt",), main=[world.education]
        )
        services.dispatch_route(dispatch_id=dispatch.pk)
        received = delivery_of(original, world.education)
        services.delivery_sign_for(actor=world.jygw, delivery_id=received.pk)
        cover = services.document_forward(actor=world.jygw, delivery=received, main_recipients=[world.university])
        services.document_sign_off(actor=second_signer(world.education, world.jygw), document=cover)
        forwarded = services.document_issue(actor=world.jygw, document=cover)
        cover.refresh_from_db()
        envelopes = [
            consignment_envelope(
                consignment_id=uuid.uuid4(),
                installation="A",
                unit=unit.name,
                document=document,
                recipients=[(world.university.name, "主送")],
                sign_for=sent.deadline_sign_for,
                complete=sent.deadline_complete,
            )
            for unit, document, sent in ((world.education, cover, forwarded), (world.department, original, dispatch))
        ]
        return envelopes, _files([original.pk, cover.pk]), original.digest, cover.digest

    (cover_envelope, original_envelope), files, original_digest, cover_digest = _elsewhere(build)
    # The original's issuer is a unit of this installation: a document of its that is not held here
    # was never issued by it, whoever encloses it.
    Unit.objects.filter(pk=world.education.pk).update(peer=sender.peer)
    response = sender.post(client, sender.body(cover_envelope, files))
    assert (response.status_code, json.loads(response.content)["message"]) == (
        403,
        "发文机关“自治区党委组织部”是本系统的单位，本系统没有这份公文。",
    )
    assert not Document.objects.filter(digest__in=[original_digest, cover_digest]).exists()
    Unit.objects.filter(pk=world.department.pk).update(peer=sender.peer)
    assert [entry["digest"] for entry in cover_envelope["documents"]] == [original_digest, cover_digest]
    assert _answer(sender.post(client, sender.body(cover_envelope, files)), receiver)["code"] == "accepted"
    original, cover = Document.objects.get(digest=original_digest), Document.objects.get(digest=cover_digest)
    assert list(Enclosure.objects.filter(cover=cover).values_list("enclosed_id", "depth").order_by("depth")) == [
        (cover.pk, 0),
        (original.pk, 1),
    ]
    assert cover.issuing_unit == world.education
    assert _answer(sender.post(client, sender.body(original_envelope, files)), receiver)["code"] == "accepted"
    assert Document.objects.filter(digest=original_digest).count() == 1
    assert ReceivedConsignment.objects.filter(dispatch__document=original).exists()
    assert AuditEvent.objects.get(verb=AuditVerb.CONSIGNMENT_ACCEPTED, document=original).payload["created"] == []


# --- refused -------------------------------------------------------------------------------------


@pytest.fixture
def refused(django_capture_on_commit_callbacks, caplog):
    """Assert that a block is refused with `code`, logged, and enqueues nothing, and that it writes
    nothing but, when the message's signature verified (`audited`, the default unless the code
    says it cannot have), one CONSIGNMENT_REFUSED event with the code; returns the answer."""

    def check(code: str, send, receiver, *, audited: bool | None = None) -> dict:
        if audited is None:
            audited = code not in ("unknown_peer", "too_large", "rate_limited")
        before = _state()
        events = AuditEvent.objects.count()
        consignments = ReceivedConsignment.objects.count()
        caplog.clear()
        with django_capture_on_commit_callbacks() as callbacks:
            response = send()
        answer = _answer(response, receiver)
        assert (response.status_code, answer["code"]) == (
            {
                "unknown_peer": 403,
                "bad_signature": 401,
                "too_large": 413,
                "rate_limited": 429,
                "malformed": 400,
                "digest_mismatch": 422,
                "unknown_recipient": 404,
                "not_accepted": 403,
            }[code],
            code,
        ), answer
        assert any(f"refused: {code} ({answer['message']})" in record.getMessage() for record in caplog.records)
        after = _state()
        after["AuditEvent"] -= int(audited)
        assert after == before
        assert callbacks == []
        assert ReceivedConsignment.objects.count() == consignments
        assert AuditEvent.objects.count() == events + int(audited)
        if audited:
            event = AuditEvent.objects.order_by("-seq").first()
            assert (event.verb, event.payload["code"]) == (AuditVerb.CONSIGNMENT_REFUSED, code)
        return answer

    return check


def test_an_unknown_or_revoked_peer_is_refused_and_logged(client, world, sender, receiver, refused, tmp_path):
    envelope, files, _digest = _sent(world, sender)
    body = sender.body(envelope, files)
    answer = refused("unknown_peer", lambda: sender.post(client, body, installation="C"), receiver)
    assert answer["message"] == "不认识的对端系统“C”。"
    Peer.objects.filter(pk=sender.peer.pk).update(revoked_at=timezone.now())
    answer = refused("unknown_peer", lambda: sender.post(client, body), receiver)
    assert answer["message"] == "对端系统“A”已被吊销。"


def test_signatures_and_the_replay_window(client, world, sender, receiver, refused, tmp_path):
    envelope, files, _digest = _sent(world, sender)
    body = sender.body(envelope, files)
    stranger = key_generate(tmp_path / "stranger.pem")
    # The message signed by another key; the envelope signed by another key; an old timestamp; a
    # body changed after signing; the envelope claiming another installation.
    # A message that does not prove who sent it is refused in the application's log only; one that
    # does (a peer's own act: its envelope, signed otherwise) in the audit log too.
    refused("bad_signature", lambda: sender.post(client, body, key=stranger), receiver, audited=False)
    answer = refused("bad_signature", lambda: sender.post(client, sender.body(envelope, files, key=stranger)), receiver)
    assert answer["message"] == "信封签名无法用对端系统的公钥验证。"
    old = int(time.time()) - 301
    answer = refused("bad_signature", lambda: sender.post(client, body, timestamp=old), receiver, audited=False)
    assert answer["message"] == "消息时间戳缺失或超出允许的时间窗口。"
    message = json.loads(body)
    message["envelope"]["to"][0]["role"] = "抄送"
    changed = json.dumps(message, ensure_ascii=False).encode()
    refused("bad_signature", lambda: sender.post(client, changed), receiver)  # the envelope, changed after signing
    claimed = copy.deepcopy(envelope)
    claimed["from"]["installation"] = "C"
    answer = refused("bad_signature", lambda: sender.post(client, sender.body(claimed, files)), receiver)
    assert answer["message"] == "信封的发送系统与签名的系统不一致。"
    # Within the window, either side of now: taken in.
    assert sender.post(client, body, timestamp=int(time.time()) - 290).status_code == 201


def test_a_document_or_file_that_is_not_what_its_digest_says_is_refused(client, world, sender, receiver, refused):
    envelope, files, _digest = _sent(world, sender)
    changed = copy.deepcopy(envelope)
    changed["documents"][-1]["elements"]["title"] = "关于做好抗旱工作的通知"
    answer = refused("digest_mismatch", lambda: sender.post(client, sender.body(changed, files)), receiver)
    assert answer["message"] == f"公文{envelope['documents'][-1]['number']}的内容与其摘要不符。"
    (sha256,) = files
    swapped = {sha256: base64.b64encode(b"another file\n").decode()}
    answer = refused("digest_mismatch", lambda: sender.post(client, sender.body(envelope, swapped)), receiver)
    assert answer["message"] == "附件“名单.txt”与其摘要不符。"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "不是有效的公文交换信封：正文不是 UTF-8 JSON。"),
        (b"[]", "不是有效的公文交换信封：正文应有且只有 envelope、signature、files。"),
        (b'{"envelope": {}, "signature": "x", "files": {}}', "不是有效的公文交换信封：envelope。"),
    ],
)
def test_a_body_that_is_no_envelope_is_malformed(client, world, sender, receiver, refused, body, message):
    assert refused("malformed", lambda: sender.post(client, body), receiver)["message"] == message


def test_a_missing_file_or_an_enclosure_not_in_the_envelope_is_malformed(client, world, sender, receiver, refused):
    envelope, files, _digest = _sent(world, sender)
    answer = refused("malformed", lambda: sender.post(client, sender.body(envelope, {})), receiver)
    assert answer["message"] == "不是有效的公文交换信封：缺少附件“名单.txt”的文件。"
    wrong_order = copy.deepcopy(envelope)
    wrong_order["document"] = "0" * 64
    answer = refused("malformed", lambda: sender.post(client, sender.body(wrong_order, files)), receiver)
    assert answer["message"] == "不是有效的公文交换信封：所送公文应是最后一份。"


def test_recipients_and_the_sending_unit_must_be_where_the_envelope_says(client, world, sender, receiver, refused):
    envelope, files, _digest = _sent(world, sender, recipients=[("内蒙古师范大学党委", "主送")])
    answer = refused("unknown_recipient", lambda: sender.post(client, sender.body(envelope, files)), receiver)
    assert answer["message"] == "本系统没有收文单位“内蒙古师范大学党委”。"
    # A recipient that is itself hosted elsewhere, or not active, does not receive here.
    for unit, change in ((world.other, {"peer": sender.peer}), (world.university, {"is_active": False})):
        addressed = copy.deepcopy(envelope)
        addressed["to"] = [{"unit": unit.name, "role": "主送"}]
        Unit.objects.filter(pk=unit.pk).update(**change)
        answer = refused("not_accepted", lambda: sender.post(client, sender.body(addressed, files)), receiver)  # noqa: B023
        assert answer["message"] == f"收文单位“{unit.name}”不在本系统接收公文。"
    # The department, no longer a unit A hosts, does not send through A.
    hosted_elsewhere = copy.deepcopy(envelope)
    hosted_elsewhere["to"] = [{"unit": world.education.name, "role": "主送"}]
    Unit.objects.filter(pk=world.department.pk).update(peer=None)
    answer = refused("not_accepted", lambda: sender.post(client, sender.body(hosted_elsewhere, files)), receiver)
    assert answer["message"] == "发文单位“自治区党委组织部”不是对端系统“A”的单位。"


def test_limits_per_peer(client, world, sender, receiver, refused):
    envelope, files, _digest = _sent(world, sender)
    body = sender.body(envelope, files)
    Peer.objects.filter(pk=sender.peer.pk).update(max_bytes=len(body) - 1)
    answer = refused("too_large", lambda: sender.post(client, body), receiver)
    assert answer["message"] == f"消息超过 {len(body) - 1} 字节的上限。"
    Peer.objects.filter(pk=sender.peer.pk).update(max_bytes=len(body), per_minute=0)
    refused("rate_limited", lambda: sender.post(client, body), receiver)


def test_the_endpoint_is_off_without_an_installation_name(client, world, sender, settings):
    envelope, files, _digest = _sent(world, sender)
    settings.EXCHANGE_INSTALLATION = ""
    assert sender.post(client, sender.body(envelope, files)).status_code == 404
    assert client.get(reverse("exchange-consignments")).status_code == 405


def test_a_number_not_in_its_printed_form_would_change_the_digest_here_and_is_refused(
    client, world, sender, receiver, refused
):
    """The digest covers the number as printed. "〔2022〕05号" parses as 5 and would be stored (and
    printed, and digested) as "〔2022〕5号": another document than the one A signed."""
    envelope, files, _digest = _sent(world, sender)
    entry = envelope["documents"][-1]
    padded = entry["number"].replace("〕", "〕0")
    assert padded != entry["number"]
    entry["number"] = padded
    entry["digest"] = envelope["document"] = hashlib.sha256(
        canonical_bytes(
            number=padded,
            elements=entry["elements"],
            attachments=[(a["name"], a["size"], a["sha256"]) for a in entry["attachments"]],
            enclosure_digests=entry["enclosures"],
        )
    ).hexdigest()
    answer = refused("digest_mismatch", lambda: sender.post(client, sender.body(envelope, files)), receiver)
    assert answer["message"] == f"公文{padded}在本系统中存储后的摘要与信封不符。"
