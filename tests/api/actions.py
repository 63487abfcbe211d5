"""What the write endpoints answer, written out for exact comparisons (tests/api/test_drafting.py,
test_handling.py, test_action_permissions.py)."""

import datetime

from django.utils import timezone

from documents.elements import ELEMENTS
from documents.models import Document
from units.models import RecipientGroup, Unit


def moment(value: datetime.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def recipient(target: Unit | RecipientGroup) -> dict:
    kind = "group" if isinstance(target, RecipientGroup) else "unit"
    return {"type": kind, "id": target.pk, "name": target.name}


def document_json(
    document: Document,
    *,
    actions: list[str],
    main: list = (),
    cc: list = (),
    attachments: list[dict] = (),
    forward: dict | None = None,
) -> dict:
    """The answer for `document` as stored now (read it again first)."""
    elements = {}
    for element in ELEMENTS:
        value = getattr(document, element.name)
        elements[element.name] = value.isoformat() if isinstance(value, datetime.date) else value
    return {
        "id": document.pk,
        "state": document.state,
        "issuer": {"id": document.issuing_unit_id, "name": document.issuing_unit.name},
        "number": document.number,
        "number_prefix": document.number_prefix,
        **elements,
        "main_recipients": [recipient(target) for target in main],
        "cc_recipients": [recipient(target) for target in cc],
        "attachments": list(attachments),
        "forward": forward,
        "created_at": moment(document.created_at),
        "signed_off_at": moment(document.signed_off_at),
        "issued_at": moment(document.issued_at),
        "digest": document.digest,
        "actions": sorted(actions),
    }


def attachment_json(attachment) -> dict:
    return {
        "id": attachment.pk,
        "position": attachment.position,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "download_url": f"/api/v1/attachments/{attachment.pk}/content",
    }


def not_found(path: str, detail: str) -> dict:
    return {"type": "/api/v1/problems/not-found", "title": "未找到", "status": 404, "detail": detail, "instance": path}


def problem(path: str, slug: str, title: str, status: int, detail: str, **members) -> dict:
    return {
        "type": f"/api/v1/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": path,
        **members,
    }
