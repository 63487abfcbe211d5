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
    unit_letterhead_set,
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
from workflow.services.inunit import (
    assignment_accept,
    assignment_remind_overdue,
    assignment_report,
    delegation_grant,
    delegation_withdraw,
    delivery_register,
    department_create,
    handling_instruct,
    handling_propose,
    reading_done,
    reading_pass_on,
    reply_draft,
)
from workflow.services.notifications import notification_email_send, notification_mark_read
from workflow.services.recall import delivery_recall, dispatch_recall
from workflow.services.registration import (
    Registration,
    SourceFile,
    document_register_draft,
    document_register_received,
)
from workflow.services.reminders import delivery_remind, delivery_remind_overdue
from workflow.services.rules import HandlingActions, handling_actions

__all__ = [
    "FORWARD_BODY",
    "HandlingActions",
    "Registration",
    "SourceFile",
    "assignment_accept",
    "assignment_remind_overdue",
    "assignment_report",
    "attachment_add",
    "calendar_day_remove",
    "calendar_day_set",
    "deadline_policy_set",
    "delegation_grant",
    "delegation_withdraw",
    "delivery_complete",
    "delivery_open",
    "delivery_recall",
    "delivery_register",
    "delivery_remind",
    "delivery_remind_overdue",
    "delivery_return",
    "delivery_sign_for",
    "department_create",
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
    "handling_actions",
    "handling_instruct",
    "handling_propose",
    "notification_email_send",
    "notification_mark_read",
    "number_series_set",
    "reading_done",
    "reading_pass_on",
    "recipient_group_save",
    "reply_draft",
    "role_grant",
    "role_revoke",
    "unit_add_member",
    "unit_create",
    "unit_letterhead_set",
    "unit_remove_member",
    "unit_sign_off_policy_set",
]
