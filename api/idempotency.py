"""`Idempotency-Key` on every POST: a retry with the same key gets the first answer, once.

The caller (a person, or a client's service account) names a request with a key of its choosing. The
first request with that key inserts its row (api.models.IdempotencyKey) and then acts, in one
transaction; its answer is stored in the row before commit. A second request with the key:

- while the first is still running, waits on the row's unique index (PostgreSQL holds its INSERT
  until the first commits or rolls back), then replays the stored answer, so the two never both act;
- afterwards, replays it at once: the same status and body, with `Idempotent-Replayed: true`;
- with another method, path or body (another fingerprint), is refused with 422
  (idempotency-key-reused): a key names one request.

Answers of 500 and above are not stored: the transaction rolls back with the key, and a retry acts
again. Refusals that come before the action (401, 403 scope, 429) are not stored either: nothing was
attempted. Keys are kept API_IDEMPOTENCY_HOURS: an older row counts as absent (deleted when its key
comes again), and the beat purges the rest (api.tasks.purge_idempotency_keys).
"""

import datetime
import hashlib
import json
import re
from collections.abc import Callable

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from api.models import IdempotencyKey
from api.problems import IDEMPOTENCY_KEY_REUSED, Problem

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Printable ASCII, as the IETF draft's examples (a UUID, a random token); at most the column's length.
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def _canonical(value):
    """The parsed body as plain JSON values: a multipart form's fields as lists, each file as its
    name, size and SHA-256 (the boundary a client draws anew on each retry changes nothing)."""
    if isinstance(value, QueryDict):
        return {key: [_canonical(item) for item in value.getlist(key)] for key in sorted(value)}
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "size": value.size, "sha256": digest.hexdigest()}
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def fingerprint(request) -> str:
    """SHA-256 over the method, the path with its query, and the parsed body."""
    text = json.dumps(
        [request.method, request.get_full_path(), _canonical(request.data)],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _replay(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(row.body), status=row.status_code, content_type=row.content_type or None)
    response[REPLAYED_HEADER] = "true"
    return response


def respond(request, key: str, act: Callable[[], HttpResponse]) -> HttpResponse:
    """The answer to this POST under `key`: the stored one, or `act()`'s (rendered), stored."""
    if not _KEY.fullmatch(key):
        raise ValidationError({HEADER: [_("Idempotency-Key 须为 1 至 255 个可打印的 ASCII 字符。")]})
    digest = fingerprint(request)
    now = timezone.now()
    with transaction.atomic():
        mine = IdempotencyKey.objects.filter(user=request.user, key=key)
        mine.filter(created_at__lt=now - datetime.timedelta(hours=settings.API_IDEMPOTENCY_HOURS)).delete()
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(user=request.user, key=key, fingerprint=digest, created_at=now)
        except IntegrityError:
            # Taken: by a request that has finished, or that was running and has now committed.
            row = mine.get()
            if row.fingerprint != digest:
                raise Problem(
                    IDEMPOTENCY_KEY_REUSED,
                    _("Idempotency-Key“%(key)s”已用于另一请求（不同的地址或请求体）。") % {"key": key},
                ) from None
            return _replay(row)
        response = act()
        if response.status_code >= 500:
            transaction.set_rollback(True)  # the key is not kept: a retry acts again
            return response
        row.status_code, row.content_type, row.body = response.status_code, response["Content-Type"], response.content
        row.save(update_fields=["status_code", "content_type", "body"])
    return response


def idempotency_keys_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the keys older than API_IDEMPOTENCY_HOURS; how many went. Not audited: a key is a
    cache of an answer, not a change of anything."""
    cutoff = (now or timezone.now()) - datetime.timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    deleted, _by_model = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
