"""The webhooks in the admin, for the administrator who manages API clients: subscriptions (created
through the audited service, the signing secret shown once on the page that follows), and the log
of calls per subscription with "send again". Like every admin of the product, a door that writes
only through the services (workflow.admin.ServiceAdmin); a call's body holds no document content
(webhooks.selectors), so it is shown.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from api.models import ApiClient
from units.display import display_list
from units.errors import DomainError
from webhooks.models import EventType, WebhookDelivery, WebhookSubscription
from webhooks.services import webhook_delivery_resend, webhook_subscription_create, webhook_subscription_deactivate
from workflow.admin import ReadOnlyAdmin, ServiceAdmin


class SubscriptionForm(forms.ModelForm):
    client = forms.ModelChoiceField(
        queryset=ApiClient.objects.filter(revoked_at__isnull=True).select_related("unit"),
        label=_("接口客户端"),
        help_text=_("须具有“事件推送（Webhook）”权限范围。"),
    )
    url = forms.CharField(
        label=_("推送地址"),
        max_length=2000,
        help_text=_("https:// 开头；主机须在 WEBHOOK_ALLOWED_HOSTS 中。"),
    )
    event_types = forms.MultipleChoiceField(
        label=_("事件类型"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookSubscription
        fields = ["client", "url", "event_types"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ServiceAdmin):
    """Added here (webhook_subscription_create, its secret shown once); shown, never changed;
    stopped by the list's action (webhook_subscription_deactivate)."""

    list_display = ["client", "unit", "url", "events", "is_active", "created_at", "log"]
    list_filter = ["is_active"]
    list_select_related = ["client__unit"]
    search_fields = ["url", "client__name", "client__unit__name"]
    actions = ["deactivate"]
    form = SubscriptionForm
    readonly_fields = [
        "client",
        "unit",
        "url",
        "events",
        "is_active",
        "created_at",
        "created_by",
        "deactivated_at",
        "deactivated_by",
        "log",
    ]

    @admin.display(description=_("所属单位"))
    def unit(self, subscription):
        return subscription.client.unit

    @admin.display(description=_("事件类型"))
    def events(self, subscription):
        labels = dict(EventType.choices)
        return display_list(labels.get(event_type, event_type) for event_type in subscription.event_types)

    @admin.display(description=_("推送记录"))
    def log(self, subscription):
        url = reverse("admin:webhooks_webhookdelivery_changelist") + f"?subscription__id__exact={subscription.pk}"
        return format_html('<a href="{}">{}</a>', url, _("查看推送记录"))

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj else ["client", "url", "event_types"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def has_change_permission(self, request, obj=None):
        return False

    def run_service(self, request, form):
        subscription, secret = webhook_subscription_create(
            actor=request.user,
            client=form.cleaned_data["client"],
            url=form.cleaned_data["url"],
            event_types=form.cleaned_data["event_types"],
        )
        request.webhook_secret = secret  # for response_add, this request only: never stored
        return subscription

    def response_add(self, request, obj, post_url_continue=None):
        """The one page that shows the signing secret. Not a message: messages are kept in the
        session or a cookie until read, and the secret must not be kept anywhere in clear."""
        return TemplateResponse(
            request,
            "admin/webhooks/webhooksubscription/secret.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("事件推送订阅已创建"),
                "subscription": obj,
                "secret": request.webhook_secret,
                "list_url": reverse("admin:webhooks_webhooksubscription_changelist"),
            },
        )

    @admin.action(description=_("停用所选订阅"))
    def deactivate(self, request, queryset):
        try:
            with transaction.atomic():  # all or none
                stopped = sum(
                    webhook_subscription_deactivate(actor=request.user, subscription=subscription)
                    for subscription in queryset.order_by("pk")
                )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("已停用 %(count)d 个订阅。") % {"count": stopped})


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The log of calls: what was sent to whom, how each attempt went; "send again" for a call that
    was sent or died (webhook_delivery_resend)."""

    list_display = [
        "event_id",
        "event_type",
        "subscription",
        "delivery",
        "state",
        "attempts",
        "last_attempt_at",
        "last_status",
        "last_error",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["state", "event_type", "subscription"]
    search_fields = ["event_id"]
    list_select_related = ["subscription__client", "delivery__document", "delivery__unit"]
    actions = ["send_again"]
    fields = [
        "event_id",
        "event_type",
        "subscription",
        "delivery",
        "audit_event",
        "state",
        "attempts",
        "window_started_at",
        "last_attempt_at",
        "last_status",
        "last_error",
        "next_attempt_at",
        "sent_at",
        "created_at",
        "body",
    ]
    readonly_fields = fields

    @admin.display(description=_("内容"))
    def body(self, call):
        if call.payload is None:
            return _("（首次发送时生成）")
        return format_html("<pre>{}</pre>", json.dumps(call.payload, ensure_ascii=False, indent=2, sort_keys=True))

    @admin.action(description=_("再次发送所选推送"))
    def send_again(self, request, queryset):
        try:
            with transaction.atomic():  # all or none
                for call in queryset.order_by("audit_event_id", "pk"):
                    webhook_delivery_resend(actor=request.user, call_id=call.pk)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("已安排再次发送 %(count)d 条推送。") % {"count": queryset.count()})
