"""API clients in the admin: created through api_client_create, whose key is shown once on the page
that answers the creation (never stored, never put in a message or a cookie), and revoked through
api_client_revoke. Existing clients are shown, not changed; the key's digest is never shown."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from api.models import ApiClient, Scope
from api.services import KEY_PREFIX, api_client_create, api_client_revoke
from units.errors import DomainError
from units.models import Unit
from workflow.admin import ServiceAdmin


class ApiClientCreationForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("权限范围"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    unit = forms.ModelChoiceField(label=_("所属单位"), queryset=Unit.objects.filter(is_active=True).order_by("path"))

    class Meta:
        model = ApiClient
        fields = ["name", "unit", "scopes", "rate_limit_per_minute"]


@admin.register(ApiClient)
class ApiClientAdmin(ServiceAdmin):
    list_display = ["name", "unit", "scope_list", "key_hint", "rate_limit_per_minute", "created_at", "revoked_at"]
    list_filter = ["revoked_at"]
    list_select_related = ["unit"]
    search_fields = ["name", "unit__name", "key_id"]
    actions = ["revoke"]
    readonly_fields = [
        "name",
        "unit",
        "scope_list",
        "key_hint",
        "rate_limit_per_minute",
        "user",
        "created_at",
        "created_by",
        "revoked_at",
        "revoked_by",
    ]
    fields = readonly_fields

    @admin.display(description=_("权限范围"))
    def scope_list(self, client):
        return "、".join(str(Scope(scope).label) for scope in client.scopes if scope in Scope.values)

    @admin.display(description=_("密钥标识"))
    def key_hint(self, client):
        # Which key it is (its public id), not the key: the secret was shown once, at creation.
        return f"{KEY_PREFIX}_{client.key_id}_…"

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiClientCreationForm
            kwargs["fields"] = ApiClientCreationForm.Meta.fields
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return self.fields if obj else ApiClientCreationForm.Meta.fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def has_change_permission(self, request, obj=None):
        return False

    def run_service(self, request, form):
        data = form.cleaned_data
        client, key = api_client_create(
            actor=request.user,
            unit=data["unit"],
            name=data["name"],
            scopes=data["scopes"],
            rate_limit_per_minute=data["rate_limit_per_minute"],
        )
        request._api_client_key = key  # for response_add, this request only
        return client

    def response_add(self, request, obj, post_url_continue=None):
        """The key, once: on this page, which the browser must not keep (no-store, PrivateCacheMiddleware)."""
        return TemplateResponse(
            request,
            "admin/api/apiclient/key_once.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "client": obj,
                "key": request._api_client_key,
                "title": _("接口客户端已创建"),
            },
        )

    @admin.action(description=_("吊销所选接口客户端的密钥"))
    def revoke(self, request, queryset):
        try:
            revoked = sum(api_client_revoke(actor=request.user, client=client) for client in queryset.order_by("pk"))
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("已吊销 %(count)d 个接口客户端。") % {"count": revoked})
