"""A person's in-app notifications: marking them read.

Whether a person has seen a notification is their own reading state, not a step of the document's
flow, so it writes no audit event; the step it stands for (a delivery opened, signed for) is
audited by its own service (delivery_open, delivery_sign_for).
"""

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from workflow.models import Notification


def notification_mark_read(*, actor: AbstractBaseUser, delivery_id: int | None = None) -> int:
    """Mark the actor's unread notifications read: those about one delivery, or all of them.

    Touches only the actor's own rows. Returns how many were marked.
    """
    unread = Notification.objects.filter(user=actor, read_at__isnull=True)
    if delivery_id is not None:
        unread = unread.filter(delivery_id=delivery_id)
    return unread.update(read_at=timezone.now())
