"""Small presentation helpers for the page templates."""

import datetime

from django import template
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import pgettext_lazy

from units.display import display_list, list_separator
from web.charts import duration_text
from web.selectors import person_side
from workflow.models import Delivery

register = template.Library()

# Audit verbs as a clerk reads them (AuditVerb values are stable English codes). Events that happened:
# in English "Drafted", "Signed off", "Signed for", where the same Chinese word on a button is the
# action ("Draft", "Sign off", "Sign for"), hence their own context.
VERB_LABELS = {
    "DELIVERED": pgettext_lazy("audit event", "送达"),
    "FORWARDED": pgettext_lazy("audit event", "转发"),
    "UNIT_CREATED": pgettext_lazy("audit event", "建立单位"),
    "MEMBER_ADDED": pgettext_lazy("audit event", "加入单位"),
    "MEMBER_REMOVED": pgettext_lazy("audit event", "退出单位"),
    "ROLE_GRANTED": pgettext_lazy("audit event", "授予角色"),
    "ROLE_REVOKED": pgettext_lazy("audit event", "收回角色"),
    "RECIPIENT_GROUP_SAVED": pgettext_lazy("audit event", "保存收文对象组"),
    "NUMBER_SERIES_SET": pgettext_lazy("audit event", "设置发文字号序列"),
    "DOCUMENT_DRAFTED": pgettext_lazy("audit event", "拟稿"),
    "DOCUMENT_UPDATED": pgettext_lazy("audit event", "修改"),
    "ATTACHMENT_ADDED": pgettext_lazy("audit event", "添加附件"),
    "DOCUMENT_SIGNED_OFF": pgettext_lazy("audit event", "签发"),
    "DOCUMENT_ISSUED": pgettext_lazy("audit event", "印发"),
    "DOCUMENT_FORWARDED": pgettext_lazy("audit event", "拟转发通知"),
    "DOCUMENT_SHARED": pgettext_lazy("audit event", "共享"),
    "DELIVERIES_CREATED": pgettext_lazy("audit event", "分发送达"),
    "DISPATCH_ROUTED": pgettext_lazy("audit event", "分发完成"),
    "DISPATCH_NOTIFIED": pgettext_lazy("audit event", "通知收文单位"),
    "DELIVERY_READ": pgettext_lazy("audit event", "打开阅读"),
    "DELIVERY_SIGNED": pgettext_lazy("audit event", "签收"),
    "DEADLINE_POLICY_SET": pgettext_lazy("audit event", "设置办理时限"),
    "CALENDAR_DAY_SET": pgettext_lazy("audit event", "设置节假日"),
    "CALENDAR_DAY_REMOVED": pgettext_lazy("audit event", "删除节假日"),
    "DELIVERY_REMINDED": pgettext_lazy("audit event", "催办"),
    "DELIVERY_ESCALATED": pgettext_lazy("audit event", "催办升级（告知上级单位）"),
    "DISPATCH_RECALLED": pgettext_lazy("audit event", "撤回全部分发"),
    "DELIVERY_RECALLED": pgettext_lazy("audit event", "撤回"),
    "DELIVERIES_WITHDRAWN": pgettext_lazy("audit event", "撤回所收回的送达"),
    "DELIVERY_RETURNED": pgettext_lazy("audit event", "退文"),
    "DELIVERY_COMPLETED": pgettext_lazy("audit event", "办结"),
    "DOCUMENT_REGISTERED": pgettext_lazy("audit event", "登记外来公文"),
    "UNIT_SIGN_OFF_POLICY_SET": pgettext_lazy("audit event", "设置签发规则"),
    "UNIT_LETTERHEAD_SET": pgettext_lazy("audit event", "设置单位版头与印章"),
    "DELIVERY_LOGGED": pgettext_lazy("audit event", "收文登记"),
    "HANDLING_PROPOSED": pgettext_lazy("audit event", "拟办"),
    "HANDLING_INSTRUCTED": pgettext_lazy("audit event", "批办"),
    "ASSIGNMENT_ACCEPTED": pgettext_lazy("audit event", "接办"),
    "ASSIGNMENT_REPORTED": pgettext_lazy("audit event", "报送承办情况"),
    "ASSIGNMENT_FINISHED": pgettext_lazy("audit event", "承办办毕"),
    "ASSIGNMENT_REMINDED": pgettext_lazy("audit event", "承办催办"),
    "ASSIGNMENT_ESCALATED": pgettext_lazy("audit event", "承办催办升级（告知批办领导）"),
    "READING_OPENED": pgettext_lazy("audit event", "传阅送达"),
    "READING_DONE": pgettext_lazy("audit event", "已阅"),
    "READING_PASSED_ON": pgettext_lazy("audit event", "转阅"),
    "REPLY_DRAFTED": pgettext_lazy("audit event", "拟答复"),
    "DELEGATION_GRANTED": pgettext_lazy("audit event", "委托代理"),
    "DELEGATION_WITHDRAWN": pgettext_lazy("audit event", "收回代理"),
    "API_CLIENT_CREATED": pgettext_lazy("audit event", "创建接口客户端"),
    "API_CLIENT_REVOKED": pgettext_lazy("audit event", "停用接口客户端"),
    "WEBHOOK_SUBSCRIPTION_CREATED": pgettext_lazy("audit event", "创建事件订阅"),
    "WEBHOOK_SUBSCRIPTION_DEACTIVATED": pgettext_lazy("audit event", "停用事件订阅"),
    "WEBHOOK_DELIVERY_RESENT": pgettext_lazy("audit event", "重发事件通知"),
    "CONSIGNMENT_ACCEPTED": pgettext_lazy("audit event", "接收交换公文"),
    "CONSIGNMENT_REFUSED": pgettext_lazy("audit event", "拒收交换公文"),
    "CONSIGNMENT_SENT": pgettext_lazy("audit event", "交换公文已送达"),
    "CONSIGNMENT_FAILED": pgettext_lazy("audit event", "交换公文未送达"),
    "RECEIPT_ACCEPTED": pgettext_lazy("audit event", "接收交换回执"),
    "RECEIPT_REFUSED": pgettext_lazy("audit event", "拒收交换回执"),
    "RECEIPT_SENT": pgettext_lazy("audit event", "交换回执已送达"),
    "RECEIPT_FAILED": pgettext_lazy("audit event", "交换回执未送达"),
    "RECALL_ACCEPTED": pgettext_lazy("audit event", "接收交换撤回"),
    "RECALL_REFUSED": pgettext_lazy("audit event", "拒收交换撤回"),
    "RECALL_SENT": pgettext_lazy("audit event", "交换撤回已送达"),
    "RECALL_FAILED": pgettext_lazy("audit event", "交换撤回未送达"),
    "REPORT_ACCEPTED": pgettext_lazy("audit event", "接收对端转发情况"),
    "REPORT_REFUSED": pgettext_lazy("audit event", "拒收对端转发情况"),
    "REPORT_SENT": pgettext_lazy("audit event", "转发情况已报送"),
    "REPORT_FAILED": pgettext_lazy("audit event", "转发情况未送达"),
    "PEER_SAVED": pgettext_lazy("audit event", "设置对端系统"),
    "PEER_REVOKED": pgettext_lazy("audit event", "吊销对端系统"),
    "UNIT_HOSTED": pgettext_lazy("audit event", "设置单位所在系统"),
}

# Notification kinds as badges: what needs acting on is red or amber, what closes a matter green.
NOTIFICATION_CLASSES = {
    "reminder": "pill pill-amber",
    "escalation": "pill pill-red",
    "recalled": "pill pill-grey",
    "returned": "pill pill-red",
    "completed": "pill pill-green",
}

URGENT = {"特提", "特急"}

# The fields a clerk may correct at 收文登记 (documents.importing.corrections.CORRECTABLE), by their keys.
IMPORTED_FIELD_LABELS = {
    "issuer": pgettext_lazy("imported field", "发文机关"),
    "number": pgettext_lazy("imported field", "发文字号"),
    "title": pgettext_lazy("imported field", "标题"),
    "urgency": pgettext_lazy("imported field", "紧急程度"),
    "main_recipients": pgettext_lazy("imported field", "主送机关"),
    "cc": pgettext_lazy("imported field", "抄送机关"),
    "signatory": pgettext_lazy("imported field", "发文机关署名"),
    "date": pgettext_lazy("imported field", "成文日期"),
    "attachments": pgettext_lazy("imported field", "附件"),
}


@register.filter
def verb_label(verb: str) -> str:
    return VERB_LABELS.get(verb, verb)


@register.filter
def imported_field_label(name: str) -> str:
    return IMPORTED_FIELD_LABELS.get(name, name)


@register.filter
def imported_value(value) -> str:
    """A value as read or as entered at 收文登记: names one after another (a name may hold 、)."""
    if isinstance(value, list):
        return "；".join(value) or "—"
    return value or "—"


@register.filter
def urgency_class(urgency: str) -> str:
    """CSS class of an urgency badge: 特提 and 特急 are red."""
    return "badge badge-red" if urgency in URGENT else ("badge badge-amber" if urgency in {"加急", "平急"} else "badge")


@register.filter
def state_class(state: str) -> str:
    return f"state state-{state}"


@register.filter
def state_label(state: str) -> str:
    """A delivery state's label, for rows read as plain values (the chain tree)."""
    return Delivery.State(state).label if state in Delivery.State.values else state


@register.filter
def duration(value: datetime.timedelta | None) -> str:
    return duration_text(value.total_seconds()) if value is not None else "—"


@register.filter
def short_digest(value: str) -> str:
    return f"{value[:12]}…{value[-6:]}" if value and len(value) > 20 else value or ""


@register.filter
def percent(value: float) -> str:
    return f"{value:.0%}"


@register.filter(needs_autoescape=True)
def paragraphs(text: str, autoescape: bool = True) -> str:
    """Each line of a document's text as its own paragraph (so that every one is indented two characters)."""
    escape = conditional_escape if autoescape else (lambda value: value)
    return mark_safe("".join(f"<p>{escape(line)}</p>" for line in (text or "").split("\n") if line.strip()))  # noqa: S308


@register.filter
def deadline(moment: datetime.datetime | None) -> str:
    """A deadline as offices write it: the end of a day reads "2022-10-14 24:00", not the next
    day's 00:00 (deadlines are stored as the first late moment, workflow.deadlines)."""
    if moment is None:
        return "—"
    local = timezone.localtime(moment)
    if local.hour == local.minute == local.second == 0:
        return f"{(local - datetime.timedelta(days=1)):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"


@register.filter
def late_by(moment: datetime.datetime | None, now: datetime.datetime | None) -> str:
    """How long before `now` (a moment, or when something was done) a deadline passed ("" when it
    had not, or either is missing)."""
    if moment is None or now is None or now < moment:
        return ""
    return duration_text((now - moment).total_seconds())


@register.filter
def sign_for_lateness(delivery, now: datetime.datetime) -> datetime.timedelta | None:
    """A chain delivery's sign-for lateness (workflow.selectors.ChainDelivery)."""
    return delivery.sign_for_lateness(now)


@register.filter
def completion_lateness(delivery, now: datetime.datetime) -> datetime.timedelta | None:
    return delivery.completion_lateness(now)


@register.filter
def notification_class(kind: str) -> str:
    return NOTIFICATION_CLASSES.get(kind, "pill pill-blue")


@register.filter
def side_of(nav, record) -> str:
    """The side of a delivery (or of a document) the person stands on: "inbox", "outbox" or
    "chain" (web.selectors.person_side), from the units the header has read (`nav`)."""
    if isinstance(record, Delivery):
        return person_side(nav.units, recipient_unit_id=record.unit_id, issuer_unit_id=record.document.issuing_unit_id)
    return person_side(nav.units, issuer_unit_id=record.issuing_unit_id)


@register.filter
def join_list(items) -> str:
    """甲、乙、丙 in Chinese, "A, B, C" in English (units.display): every list a page shows."""
    return display_list(items)


@register.simple_tag(name="list_separator")
def list_separator_tag() -> str:
    """The separator between the items of a list written out in a loop: 、 or ", "."""
    return list_separator()
