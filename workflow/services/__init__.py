"""Every state change of the product, one transaction each, with its audit event.

Import services from here: `from workflow.services import delivery_sign_for`.
"""

from workflow.services.calendar import calendar_day_remove, calendar_day_set, deadline_policy_set
from workflow.services.deliveries import delivery_open, delivery_sign_for
from workflow.services.directory import (
    number_series_set,
    recipient_group_save,
    role_grant,
    role_revoke,
    unit_add_member,
    unit_create,
    unit_remove_member,
    unit_sign_off_policy_set,
)
from workflow.services.dispatch import dispatch_notify, dispatch_route, dispatch_sweep
from workflow.services.documents import (
    FORWARD_BODY,
    attachment_add,
    document_draft,
    document_forward,
    document_issue,
    document_share,
    document_sign_off,
    document_update,
    forward_title,
)
from workflow.services.handling import delivery_complete, delivery_return
from workflow.services.notifications import notification_email_send, notification_mark_read
from workflow.services.recall import delivery_recall, dispatch_recall
from workflow.services.registration import (
    Registration,
    SourceFile,
    document_register_draft,
    document_register_received,
)
from workflow.services.reminders import delivery_remind, delivery_remind_overdue

__all__ = [
    "FORWARD_BODY",
    "Registration",
    "SourceFile",
    "attachment_add",
    "calendar_day_remove",
    "calendar_day_set",
    "deadline_policy_set",
    "delivery_complete",
    "delivery_open",
    "delivery_recall",
    "delivery_remind",
    "delivery_remind_overdue",
    "delivery_return",
    "delivery_sign_for",
    "dispatch_notify",
    "dispatch_recall",
    "dispatch_route",
    "dispatch_sweep",
    "document_draft",
    "document_forward",
    "document_issue",
    "document_register_draft",
    "document_register_received",
    "document_share",
    "document_sign_off",
    "document_update",
    "forward_title",
    "notification_email_send",
    "notification_mark_read",
    "number_series_set",
    "recipient_group_save",
    "role_grant",
    "role_revoke",
    "unit_add_member",
    "unit_create",
    "unit_remove_member",
    "unit_sign_off_policy_set",
]
