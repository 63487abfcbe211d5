"""What another installation sends, made here (tests/exchange): the sending installation's
documents are made by the real services and then rolled back (`_elsewhere`), so that the receiving
database holds them only through the envelope; `Sender` is that installation as a peer here, with
its own key."""

import base64
import io
import json
import time
import uuid
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse

from documents.models import Attachment, Document
from exchange import keys
from exchange.directory import unit_host
from exchange.envelope import canonical, consignment_envelope
from exchange.models import Peer
from tests.factories import content, delivery_of, second_signer
from workflow import services
from workflow.checkpoints import key_generate, public_key_pem_of


class _RolledBack(Exception):
    pass


def _elsewhere(build):
    """What `build()` returns, with everything it wrote rolled back."""
    result = None
    try:
        with transaction.atomic():
            result = build()
            raise _RolledBack
    except _RolledBack:
        return result


def _files(document_ids: list[int]) -> dict[str, str]:
    return {
        attachment.sha256: base64.b64encode(attachment.file.read()).decode()
        for attachment in Attachment.objects.filter(document_id__in=document_ids)
    }


class Sender:
    """Installation A as the receiver (B) knows it: a peer row, and A's own key to sign with."""

    def __init__(self, tmp_path: Path, name: str = "A") -> None:
        self.name = name
        self.key = key_generate(tmp_path / f"{name}.pem")
        self.peer = Peer.objects.create(
            name=name,
            base_url=f"http://{name.lower()}.example/exchange/",
            public_key=public_key_pem_of(self.key.public_key()),
        )

    def body(self, envelope: dict, files: dict[str, str], *, key=None) -> bytes:
        signature = keys.envelope_signature(key or self.key, canonical(envelope))
        message = {"envelope": envelope, "signature": signature, "files": files}
        return json.dumps(message, ensure_ascii=False).encode()

    def post(self, client, body: bytes, *, timestamp: int | None = None, key=None, installation: str | None = None):
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        return client.post(
            reverse("exchange-consignments"),
            data=body,
            content_type="application/json",
            HTTP_GONGWEN_INSTALLATION=installation or self.name,
            HTTP_GONGWEN_TIMESTAMP=stamp,
            HTTP_GONGWEN_SIGNATURE=keys.message_signature(key or self.key, stamp, body),
        )


@pytest.fixture
def sender(world, tmp_path, receiver):
    return Sender(tmp_path)


def _issued(world, unit, actor, *, urgency: str, attachments: tuple[str, ...], main):
    document = services.document_draft(
        actor=actor,
        unit=unit,
        content=content(urgency=urgency, title="关于做好防汛工作的通知"),
        main_recipients=main,
    )
    for name in attachments:
        services.attachment_add(actor=actor, document=document, name=name, stream=io.BytesIO(f"{name}\n".encode()))
    services.document_sign_off(actor=second_signer(unit, actor), document=document)
    dispatch = services.document_issue(actor=actor, document=document)
    document.refresh_from_db()
    return document, dispatch


def _sent(world, sender: Sender, *, urgency="特提", recipients=None, attachments=("名单.txt",)):
    """The department (on A) issues a document to education (on B): its envelope, its files, and the
    digest A gave it. The department is then a unit that A hosts."""

    def build():
        document, dispatch = _issued(
            world, world.department, world.zzb, urgency=urgency, attachments=attachments, main=[world.education]
        )
        envelope = consignment_envelope(
            consignment_id=uuid.uuid4(),
            installation=sender.name,
            unit=world.department.name,
            document=document,
            recipients=recipients or [(world.education.name, "主送")],
            sign_for=dispatch.deadline_sign_for,
            complete=dispatch.deadline_complete,
        )
        return envelope, _files([document.pk]), document.digest

    sent = _elsewhere(build)
    unit_host(actor=None, unit=world.department, peer=sender.peer)
    return sent


@pytest.fixture
def received(client, world, receiver, tmp_path):
    """B has taken in A's consignment (the department, on A, to education, here) and routed it."""
    sender = Sender(tmp_path)
    envelope, files, digest = _sent(world, sender)
    assert sender.post(client, sender.body(envelope, files)).status_code == 201
    document = Document.objects.get(digest=digest)
    services.dispatch_route(dispatch_id=document.dispatches.get().pk)
    return sender, envelope, delivery_of(document, world.education)
