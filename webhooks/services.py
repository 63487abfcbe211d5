"""Webhooks: subscribing, turning audit events into calls, sending them, and sending one again.

- `webhook_subscription_create` / `_deactivate`: the administrator's acts, audited.
- `webhook_events_derive` (beat, webhooks queue): the audit events after the cursor become calls,
  one INSERT … SELECT per batch of events (webhooks/sql.py), whatever the number of deliveries and
  subscribers; the cursor moves in the same transaction, so a crash repeats a batch and the unique
  (subscription, event id) skips what exists.
- `webhook_deliveries_send` (enqueued after a derivation, and by the beat for retries): claims the
  calls that are due, in a short transaction that counts the attempt and leases the row; posts them
  outside any transaction (a thread per call of the batch); records each answer with a
  conditional UPDATE. At least once: a worker that dies mid-call leaves the call pending, and it is
  retried when the lease ends. A call waits while an earlier call of its subscription about the
  same delivery is pending (sent or dead lets it go): per delivery, calls leave in audit order.
- `webhook_delivery_resend`: the administrator's "send again" of a sent or dead call, audited.
"""

import json
import logging
import secrets
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Max, Min, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiClient, Scope
from units.display import display_list
from units.errors import Conflict, InvalidInput, NotFound
from webhooks import sql
from webhooks.destinations import Answer, DestinationRefused, destination_check, post
from webhooks.enqueue import enqueue_send
from webhooks.models import EventType, WebhookCursor, WebhookDelivery, WebhookSubscription
from webhooks.selectors import CALL_RELATED, webhook_body, webhook_reachable
from webhooks.signing import SecretUnreadable, headers, secret_generate, secret_open, secret_seal
from workflow.audit import audit_record
from workflow.models import AuditEvent, AuditVerb
from workflow.services.directory import require_administrator
from workflow.services.notifications import notice_language

logger = logging.getLogger(__name__)

# Audit events read per statement by the derivation: a routing chunk or a recall names up to 2,000
# deliveries an event, so one statement inserts at most a few million rows.
DERIVE_BATCH = 1000
# Calls claimed at a time by the sender, each posted at once by a thread of its own, so that a claim's
# lease need only cover one call: connecting and answering (WEBHOOK_TIMEOUT_SECONDS each), and the
# moments around them.
SEND_BATCH = 16
LEASE_MARGIN_SECONDS = 5
URL_MAX_LENGTH = 2000

_random = secrets.SystemRandom()


def webhook_subscription_create(
    *, actor: AbstractBaseUser | None, client: ApiClient, url: str, event_types: Iterable[str]
) -> tuple[WebhookSubscription, str]:
    """Subscribe `client` to these event types at `url`; returns the subscription and its signing
    secret, which is shown this once and kept sealed (webhooks.signing).

    Preconditions: the actor is an administrator; the client is not revoked and holds the webhooks
    scope; the event types are known (at least one); the URL passes `destination_check` (https, a
    host of WEBHOOK_ALLOWED_HOSTS, a name resolving to allowed addresses). Only events recorded
    after this one are sent to it.
    Errors: NotAllowed, InvalidInput (naming the problem). Nothing is written on error.
    """
    require_administrator(actor)
    url, event_types = url.strip(), list(event_types)
    unknown = sorted(set(event_types) - set(EventType.values))
    if unknown:
        raise InvalidInput(_("事件类型“%(types)s”不存在。") % {"types": display_list(unknown)})
    if not event_types:
        raise InvalidInput(_("请至少选择一种事件类型。"))
    if len(url) > URL_MAX_LENGTH:
        raise InvalidInput(_("推送地址过长（上限 %(limit)d 个字符）。") % {"limit": URL_MAX_LENGTH})
    try:
        destination_check(url)
    except DestinationRefused as refused:
        raise InvalidInput(refused.message) from None
    event_types = [event_type for event_type in EventType.values if event_type in event_types]
    secret = secret_generate()
    with transaction.atomic():
        client = ApiClient.objects.select_for_update().get(pk=client.pk)  # against a revocation meanwhile
        if client.revoked_at is not None:
            raise InvalidInput(_("接口客户端“%(name)s”已吊销。") % {"name": client.name})
        if not client.has_scope(Scope.WEBHOOKS):
            raise InvalidInput(_("接口客户端“%(name)s”没有“事件推送（Webhook）”权限范围。") % {"name": client.name})
        try:
            with transaction.atomic():
                subscription = WebhookSubscription.objects.create(
                    client=client,
                    url=url,
                    event_types=event_types,
                    sealed_secret=secret_seal(secret),
                    since_seq=0,
                    created_by=actor,
                )
        except IntegrityError:
            raise InvalidInput(_("接口客户端“%(name)s”已订阅这个推送地址。") % {"name": client.name}) from None
        event = audit_record(
            actor=actor,
            verb=AuditVerb.WEBHOOK_SUBSCRIPTION_CREATED,
            object_type="WebhookSubscription",
            object_id=subscription.pk,
            unit=client.unit_id,
            payload={"client_id": client.pk, "url": url, "event_types": event_types},
        )
        # The events after its own creation are its events.
        WebhookSubscription.objects.filter(pk=subscription.pk).update(since_seq=event.seq)
        subscription.since_seq = event.seq
    return subscription, secret


def webhook_subscription_deactivate(*, actor: AbstractBaseUser | None, subscription: WebhookSubscription) -> bool:
    """Stop a subscription: no more calls are derived for it, and its pending calls die (a call in
    flight still lands). False when it was stopped already. Errors: NotAllowed."""
    require_administrator(actor)
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().select_related("client").get(pk=subscription.pk)
        if not subscription.is_active:
            return False
        now = timezone.now()
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            is_active=False, deactivated_at=now, deactivated_by=actor
        )
        with notice_language():
            dropped = WebhookDelivery.objects.filter(
                subscription=subscription, state=WebhookDelivery.State.PENDING
            ).update(state=WebhookDelivery.State.DEAD, last_error=_("订阅已停用。"))
        audit_record(
            actor=actor,
            verb=AuditVerb.WEBHOOK_SUBSCRIPTION_DEACTIVATED,
            object_type="WebhookSubscription",
            object_id=subscription.pk,
            unit=subscription.client.unit_id,
            payload={"pending_dropped": dropped},
        )
    return True


def webhook_events_derive() -> int:
    """Turn every audit event after the cursor into the calls it makes; returns how many were made.

    DERIVE_BATCH events per transaction: the cursor row locked (one derivation at a time), the
    chain's head read, one INSERT … SELECT (webhooks/sql.py), the cursor moved. Events are committed
    in seq order (the audit chain's lock), so every event up to the head read is there to be read.
    Events before the oldest active subscription are skipped unread. Enqueues the sender on commit.
    """
    created = 0
    while True:
        with transaction.atomic():
            WebhookCursor.objects.bulk_create([WebhookCursor(pk=1)], ignore_conflicts=True)
            last_seq = WebhookCursor.objects.select_for_update().values_list("last_seq", flat=True).get(pk=1)
            head = AuditEvent.objects.aggregate(head=Max("seq"))["head"] or 0
            first = WebhookSubscription.objects.filter(is_active=True, client__revoked_at__isnull=True).aggregate(
                since=Min("since_seq")
            )["since"]
            if first is None:  # nobody to tell
                after = upto = max(last_seq, head)
            else:
                after = max(last_seq, first)
                upto = max(after, min(head, after + DERIVE_BATCH))
            if upto > after:
                with connection.cursor() as cursor:
                    cursor.execute(
                        sql.events_insert_select(connection.vendor),
                        {
                            "after": after,
                            "upto": upto,
                            "now": connection.ops.adapt_datetimefield_value(timezone.now()),
                            "state": WebhookDelivery.State.PENDING,
                        },
                    )
                    made = cursor.rowcount
                if made:
                    created += made
                    enqueue_send()
            if upto != last_seq:
                WebhookCursor.objects.filter(pk=1).update(last_seq=upto)
        if upto >= head:
            return created


def _claim(size: int) -> list[WebhookDelivery]:
    """Up to `size` calls that are due and not held back by an earlier pending call about the same
    delivery: their attempt counted and their row leased (next_attempt_at moved past the longest a
    call can take) in one short transaction. Rows another sender holds are skipped."""
    now = timezone.now()
    lease = timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 2 + LEASE_MARGIN_SECONDS)
    earlier = WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.PENDING,
        subscription_id=OuterRef("subscription_id"),
        delivery_id=OuterRef("delivery_id"),
        audit_event_id__lt=OuterRef("audit_event_id"),
    )
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now)
            .exclude(Exists(earlier))
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:size]
        )
        if not ids:
            return []
        WebhookDelivery.objects.filter(pk__in=ids).update(
            attempts=F("attempts") + 1, last_attempt_at=now, next_attempt_at=now + lease
        )
    return list(
        WebhookDelivery.objects.filter(pk__in=ids).select_related(*CALL_RELATED).order_by("audit_event_id", "id")
    )


def _backoff(attempts: int) -> timedelta:
    """After the n-th failed attempt: about WEBHOOK_RETRY_SECONDS × 2^(n-1), at most a quarter of
    the window, with jitter (between half and all of it), so that receivers coming back are not met
    by every call at once."""
    window = settings.WEBHOOK_RETRY_WINDOW_SECONDS
    delay = min(settings.WEBHOOK_RETRY_SECONDS * 2 ** min(attempts - 1, 40), window / 4)
    return timedelta(seconds=_random.uniform(delay / 2, delay))


def _finish(call: WebhookDelivery, answer: Answer, counts: dict[str, int]) -> None:
    """Record the attempt's answer: sent; or pending until the next attempt; or dead when the next
    one would fall outside the window. Conditional on the attempt still being the call's last."""
    now = timezone.now()
    calls = WebhookDelivery.objects.filter(pk=call.pk, state=WebhookDelivery.State.PENDING, attempts=call.attempts)
    if answer.is_success:
        calls.update(state=WebhookDelivery.State.SENT, sent_at=now, last_status=answer.status, last_error="")
        counts["sent"] += 1
        return
    due = now + _backoff(call.attempts)
    dead = due > call.window_started_at + timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)
    calls.update(
        state=WebhookDelivery.State.DEAD if dead else WebhookDelivery.State.PENDING,
        next_attempt_at=now if dead else due,
        last_status=answer.status,
        last_error=answer.error[:500],
    )
    counts["dead" if dead else "failed"] += 1
    logger.info("webhook %s to %s: %s%s", call.event_id, call.subscription.url, answer.error, " (dead)" if dead else "")


def _die(call: WebhookDelivery, reason: str, counts: dict[str, int]) -> None:
    """Give the call up unsent: retrying cannot help (its subscription was stopped, its delivery is
    no longer the client's to know of). Its admin may send it again once that changes."""
    WebhookDelivery.objects.filter(pk=call.pk, state=WebhookDelivery.State.PENDING, attempts=call.attempts).update(
        state=WebhookDelivery.State.DEAD, next_attempt_at=timezone.now(), last_status=None, last_error=reason[:500]
    )
    counts["dead"] += 1


def _outgoing(calls: list[WebhookDelivery], counts: dict[str, int]) -> list[tuple[WebhookDelivery, dict, str]]:
    """The calls to post, each with its body and secret. A call whose subscription was stopped, or
    whose delivery the client's door no longer opens, dies unsent; a body is built at the first
    attempt and kept. One query per subscription (its door), one to keep the new bodies."""
    by_subscription: dict[int, list[WebhookDelivery]] = {}
    for call in calls:
        by_subscription.setdefault(call.subscription_id, []).append(call)
    outgoing, new_bodies = [], []
    with notice_language():
        for group in by_subscription.values():
            subscription = group[0].subscription
            if not subscription.is_active:
                refusal, reachable = _("订阅已停用。"), set()
            elif subscription.client.revoked_at is not None:
                refusal, reachable = _("接口客户端已吊销。"), set()
            else:
                refusal = _("接口客户端已无权查看这份送达。")
                reachable = set(
                    webhook_reachable(subscription, [call.delivery_id for call in group]).values_list("pk", flat=True)
                )
            try:
                secret = secret_open(subscription.sealed_secret)
            except SecretUnreadable:
                secret = None
            for call in group:
                if call.delivery_id not in reachable:
                    _die(call, refusal, counts)
                elif secret is None:
                    unreadable = _("签名密钥无法解开：SECRET_KEY 已更换，旧密钥未列入 SECRET_KEY_FALLBACKS。")
                    _finish(call, Answer(None, unreadable), counts)
                else:
                    if call.payload is None:
                        call.payload = webhook_body(call)
                        new_bodies.append(call)
                    outgoing.append((call, call.payload, secret))
    WebhookDelivery.objects.bulk_update(new_bodies, ["payload"])
    return outgoing


def _post(call: WebhookDelivery, body: dict, secret: str) -> Answer:
    data = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    with notice_language():
        return post(
            call.subscription.url,
            data,
            headers(secret, call.event_id, int(time.time()), data),
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        )


def webhook_deliveries_send(*, limit: int = 500) -> dict[str, int]:
    """Post the calls that are due, SEND_BATCH at a time, up to `limit` calls; enqueue another run
    when there may be more. Returns {"sent", "failed" (to be retried), "dead"}."""
    counts = {"sent": 0, "failed": 0, "dead": 0}
    claimed = 0
    while claimed < limit:
        calls = _claim(min(SEND_BATCH, limit - claimed))
        if not calls:
            return counts
        claimed += len(calls)
        outgoing = _outgoing(calls, counts)
        if outgoing:
            with ThreadPoolExecutor(max_workers=len(outgoing)) as pool:
                answers = list(pool.map(lambda item: _post(*item), outgoing))
            for (call, _body, _secret), answer in zip(outgoing, answers, strict=True):
                _finish(call, answer, counts)
    enqueue_send()
    return counts


def webhook_delivery_resend(*, actor: AbstractBaseUser | None, call_id: int) -> WebhookDelivery:
    """Send a sent or dead call again ("send again"): pending now, with the same event id and body
    (the receiver deduplicates by the id) and a new retry window. Audited.

    Errors: NotAllowed (not an administrator), NotFound, Conflict (still pending; the subscription
    was stopped). Nothing is written on error.
    """
    require_administrator(actor)
    with transaction.atomic():
        call = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription__client")
            .filter(pk=call_id)
            .first()
        )
        if call is None:
            raise NotFound(_("推送记录不存在。"))
        if call.state == WebhookDelivery.State.PENDING:
            raise Conflict(_("推送“%(event)s”尚在发送中，不必再次发送。") % {"event": call.event_id})
        if not call.subscription.is_active:
            raise Conflict(_("订阅已停用，推送“%(event)s”不能再次发送。") % {"event": call.event_id})
        now = timezone.now()
        previous = call.state
        WebhookDelivery.objects.filter(pk=call.pk).update(
            state=WebhookDelivery.State.PENDING, next_attempt_at=now, window_started_at=now, last_error=""
        )
        audit_record(
            actor=actor,
            verb=AuditVerb.WEBHOOK_DELIVERY_RESENT,
            object_type="WebhookDelivery",
            object_id=call.pk,
            unit=call.subscription.client.unit_id,
            payload={"event_id": call.event_id, "subscription_id": call.subscription_id, "previous_state": previous},
        )
        enqueue_send()
    call.refresh_from_db()
    return call
