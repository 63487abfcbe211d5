"""The demo's other clerks: they sign for what reaches their units, each after a delay of its own,
so a person trying the system watches the universities sign on the outbox.

Demo only (the `demo_clerks` command, started by `make run`). A third of the units never sign, so
the chain page has stalled units to show. It acts only on deliveries created after it started, so
the replayed seed chain stays as the seed tells it, and only for units none of whose clerks can
log in (the demo logins' units are left to the people trying it).
"""

import datetime

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Exists, OuterRef

from units.models import Role, UnitUserObjectPermission
from workflow import services
from workflow.models import Delivery


def _stalls(unit_id: int) -> bool:
    return unit_id % 3 == 0


def _delay(unit_id: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=5 + unit_id % 40)


def demo_clerks_sign(*, since: datetime.datetime, now: datetime.datetime) -> int:
    """Open and sign every due delivery as its unit's demo clerk. Returns how many were signed."""
    clerks = UnitUserObjectPermission.objects.filter(
        permission__codename=Role.CLERK, permission__content_type__app_label="units"
    )
    can_log_in = clerks.filter(content_object=OuterRef("unit_id")).exclude(
        user__password__startswith=UNUSABLE_PASSWORD_PREFIX
    )
    due = (
        Delivery.objects.filter(state=Delivery.State.PENDING, created_at__gte=since)
        .exclude(Exists(can_log_in))
        .order_by("created_at", "id")
    )
    signed = 0
    for delivery in due:
        if _stalls(delivery.unit_id) or now - delivery.created_at < _delay(delivery.unit_id):
            continue
        grant = clerks.filter(content_object_id=delivery.unit_id).select_related("user").first()
        if grant is None:
            continue
        services.delivery_open(actor=grant.user, delivery=delivery)
        services.delivery_sign_for(actor=grant.user, delivery_id=delivery.pk)
        signed += 1
    return signed
