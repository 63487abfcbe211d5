"""The exchange endpoint (README, "公文交换"): peers POST consignments here. No session, no CSRF:
the door is the peer's signature (exchange.services). Every answer is JSON, signed with this
installation's key in the same three headers as a request."""

import json
import time

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from exchange import keys
from exchange.services import consignment_receive


def signed_response(answer: dict, status: int) -> HttpResponse:
    body = json.dumps(answer, ensure_ascii=False, sort_keys=True).encode("utf-8")
    response = HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
    timestamp = str(int(time.time()))
    response[keys.INSTALLATION_HEADER] = settings.EXCHANGE_INSTALLATION
    response[keys.TIMESTAMP_HEADER] = timestamp
    response[keys.SIGNATURE_HEADER] = keys.message_signature(keys.signing_key(), timestamp, body)
    return response


def _header(request, name: str) -> str:
    return request.headers.get(name, "")[:200]


def _length(request) -> int:
    """The body's declared length (read no further than it); 0 when absent or not a number. The
    exchange is off (404) without EXCHANGE_INSTALLATION."""
    if not settings.EXCHANGE_INSTALLATION:
        raise Http404
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _receive(request, receive) -> HttpResponse:
    length = _length(request)
    # Read only once the peer's limit is known (the service checks `length` first); a body longer
    # than it says is cut at what it said, and then does not verify.
    answer = receive(
        installation=_header(request, keys.INSTALLATION_HEADER),
        timestamp=_header(request, keys.TIMESTAMP_HEADER),
        signature=_header(request, keys.SIGNATURE_HEADER),
        body=lambda: request.read(length),
        length=length,
    )
    return signed_response(answer.as_json(), answer.status)


@csrf_exempt
@require_POST
def consignments(request):
    return _receive(request, consignment_receive)


@csrf_exempt
@require_POST
def receipts(request):
    from exchange.receipts import receipt_receive

    return _receive(request, receipt_receive)


@csrf_exempt
@require_POST
def recalls(request):
    from exchange.recalls import recall_receive

    return _receive(request, recall_receive)


@csrf_exempt
@require_POST
def reports(request):
    from exchange.reports import report_receive

    return _receive(request, report_receive)


@csrf_exempt
@require_http_methods(["PUT"])
def files(request, sha256: str):
    from exchange.files import file_receive

    length = _length(request)
    answer = file_receive(
        installation=_header(request, keys.INSTALLATION_HEADER),
        timestamp=_header(request, keys.TIMESTAMP_HEADER),
        signature=_header(request, keys.SIGNATURE_HEADER),
        body=lambda: request.read(length),
        length=length,
        sha256=sha256[:64],
        content_range=request.headers.get("Content-Range", "")[:100],
    )
    return signed_response(answer.as_json(), answer.status)
