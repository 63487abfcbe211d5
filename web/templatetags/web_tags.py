"""Small presentation helpers for the page templates."""

import datetime

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from web.charts import duration_text
from workflow.models import Delivery

register = template.Library()

# Audit verbs as a clerk reads them (AuditVerb values are stable English codes).
VERB_LABELS = {
    "DELIVERED": _("送达"),
    "FORWARDED": _("转发"),
    "UNIT_CREATED": _("建立单位"),
    "MEMBER_ADDED": _("加入单位"),
    "MEMBER_REMOVED": _("退出单位"),
    "ROLE_GRANTED": _("授予角色"),
    "ROLE_REVOKED": _("收回角色"),
    "RECIPIENT_GROUP_SAVED": _("保存收文对象组"),
    "NUMBER_SERIES_SET": _("设置发文字号序列"),
    "DOCUMENT_DRAFTED": _("拟稿"),
    "DOCUMENT_UPDATED": _("修改"),
    "ATTACHMENT_ADDED": _("添加附件"),
    "DOCUMENT_SIGNED_OFF": _("签发"),
    "DOCUMENT_ISSUED": _("印发"),
    "DOCUMENT_FORWARDED": _("拟转发通知"),
    "DOCUMENT_SHARED": _("共享"),
    "DELIVERIES_CREATED": _("分发送达"),
    "DISPATCH_ROUTED": _("分发完成"),
    "DISPATCH_NOTIFIED": _("通知收文单位"),
    "DELIVERY_READ": _("打开阅读"),
    "DELIVERY_SIGNED": _("签收"),
}

URGENT = {"特提", "特急"}


@register.filter
def verb_label(verb: str) -> str:
    return VERB_LABELS.get(verb, verb)


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
