"""公文交换 (issue 17): files ahead of their consignment, in chunks, resumable. The receiving side
through its endpoint; the sending side end to end in test_installations.py (files there always go
in chunks)."""

import hashlib
import json
import time

import pytest
from django.urls import reverse

from documents.models import Document
from exchange import keys
from exchange.models import Peer, StagedFile
from tests.exchange.elsewhere import Sender, _sent
from workflow.models import AuditEvent, AuditVerb


def _put(client, sender: Sender, sha256: str, chunk: bytes, content_range: str):
    stamp = str(int(time.time()))
    return client.put(
        reverse("exchange-files", args=[sha256]),
        data=chunk,
        content_type="application/octet-stream",
        HTTP_CONTENT_RANGE=content_range,
        HTTP_GONGWEN_INSTALLATION=sender.name,
        HTTP_GONGWEN_TIMESTAMP=stamp,
        HTTP_GONGWEN_SIGNATURE=keys.message_signature(sender.key, stamp, chunk),
    )


def _json(response) -> dict:
    return json.loads(response.content)


@pytest.fixture
def sender(world, receiver, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Sender(tmp_path)


def test_a_file_arrives_in_chunks_resumes_where_it_stopped_and_a_consignment_takes_it(
    client, world, sender, django_capture_on_commit_callbacks
):
    envelope, files, digest = _sent(world, sender)
    ((sha256, _inline),) = files.items()
    content = "名单.txt\n".encode()
    assert hashlib.sha256(content).hexdigest() == sha256
    size = len(content)
    probe = _put(client, sender, sha256, b"", f"bytes */{size}")
    assert (probe.status_code, _json(probe)["received"], _json(probe)["complete"]) == (201, 0, False)
    first = _put(client, sender, sha256, content[:4], f"bytes 0-3/{size}")
    assert _json(first)["received"] == 4
    # A chunk that does not start where the copy ends: resume from there, nothing written.
    early = _put(client, sender, sha256, content[2:6], f"bytes 2-5/{size}")
    assert (early.status_code, _json(early)["code"], _json(early)["received"]) == (409, "resume", 4)
    rest = _put(client, sender, sha256, content[4:], f"bytes 4-{size - 1}/{size}")
    assert (_json(rest)["received"], _json(rest)["complete"]) == (size, True)
    assert StagedFile.objects.get().completed_at is not None
    # The consignment comes without its file: the staged copy stands in, then goes.
    with django_capture_on_commit_callbacks(execute=True):
        response = sender.post(client, sender.body(envelope, {}))
    assert response.status_code == 201, response.content
    assert Document.objects.get(digest=digest).attachments.get().file.read() == content
    assert not StagedFile.objects.exists()


def test_a_file_that_is_not_its_sha256_is_thrown_away_and_limits_hold(client, world, sender, settings):
    sha256 = hashlib.sha256(b"the real one").hexdigest()
    answer = _put(client, sender, sha256, b"a forged one", "bytes 0-11/12")
    assert (answer.status_code, _json(answer)["code"]) == (422, "digest_mismatch")
    assert not StagedFile.objects.exists()
    settings.ATTACHMENT_MAX_BYTES = 10
    assert _json(_put(client, sender, sha256, b"", "bytes */12"))["code"] == "too_large"
    Peer.objects.filter(pk=sender.peer.pk).update(max_bytes=3)
    assert _json(_put(client, sender, sha256, b"abcd", "bytes 0-3/4"))["code"] == "too_large"
    assert _json(_put(client, sender, "not-a-sha", b"", "bytes */4"))["code"] == "malformed"
    # In the audit log, the three refusals of signed chunks; the one over the peer's limit was never read.
    assert AuditEvent.objects.filter(verb=AuditVerb.CONSIGNMENT_REFUSED).count() == 3
