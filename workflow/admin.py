"""The admin, for system administrators. It is a door like any view: every change goes through the
workflow services, so it is audited; what cannot be changed that way (a unit's identity, anything
issued, the audit log) is read-only here. It lives in workflow/ because it calls workflow services
(units and documents import nothing from workflow)."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from documents.models import Document, NumberSeries
from units.errors import DomainError
from units.models import NumberPrefix, RecipientGroup, Role, Unit, UnitGroupObjectPermission, UnitUserObjectPermission
from workflow.models import (
    AuditEvent,
    CalendarDay,
    Completion,
    CompletionAttachment,
    DeadlinePolicy,
    Delivery,
    DeliveryReturn,
    Dispatch,
    Notification,
    Receipt,
)
from workflow.services import (
    calendar_day_remove,
    calendar_day_set,
    deadline_policy_set,
    number_series_set,
    recipient_group_save,
    role_grant,
    role_revoke,
    unit_create,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class NumberPrefixInline(ReadOnlyInline):
    model = NumberPrefix
    fields = ["prefix", "is_default"]


class UserRoleInline(ReadOnlyInline):
    model = UnitUserObjectPermission
    fields = ["user", "permission"]
    verbose_name_plural = _("个人角色（谁在本单位担任什么角色）")


class GroupRoleInline(ReadOnlyInline):
    model = UnitGroupObjectPermission
    fields = ["group", "permission"]
    verbose_name_plural = _("组角色")


class UnitCreationForm(forms.ModelForm):
    number_prefixes = forms.CharField(
        label=_("发文字号前缀"),
        required=False,
        help_text=_("用空格分隔，第一个为默认前缀，例如：内教工委函 内教工委发"),
    )

    class Meta:
        model = Unit
        fields = ["name", "short_name", "mongolian_name", "kind", "parent", "is_illustrative"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "kind", "parent", "is_active", "is_illustrative"]
    list_filter = ["kind", "is_active", "is_illustrative"]
    search_fields = ["name", "short_name"]
    readonly_fields = [
        "name",
        "short_name",
        "mongolian_name",
        "kind",
        "parent",
        "path",
        "group",
        "is_active",
        "is_illustrative",
        "members",
    ]
    inlines = [NumberPrefixInline, UserRoleInline, GroupRoleInline]

    @admin.display(description=_("成员"))
    def members(self, unit):
        return "、".join(unit.group.user_set.order_by("username").values_list("username", flat=True)) or "—"

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = UnitCreationForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        try:
            created = unit_create(
                actor=request.user,
                name=obj.name,
                short_name=obj.short_name,
                kind=obj.kind,
                parent=obj.parent,
                mongolian_name=obj.mongolian_name,
                number_prefixes=form.cleaned_data["number_prefixes"].split(),
                is_illustrative=obj.is_illustrative,
            )
        except DomainError as error:
            messages.error(request, error.message)
            raise
        obj.pk, obj.path, obj.group = created.pk, created.path, created.group

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(UnitUserObjectPermission)
class UserRoleAdmin(admin.ModelAdmin):
    """Who holds which role where. Grants and revocations go through the audited services."""

    list_display = ["user", "content_object", "permission"]
    list_filter = ["permission"]
    search_fields = ["user__username", "content_object__name"]
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, **kwargs):
        return RoleGrantAdminForm

    def save_model(self, request, obj, form, change):
        unit, role, user = form.cleaned_data["unit"], form.cleaned_data["role"], form.cleaned_data["user"]
        role_grant(actor=request.user, unit=unit, role=role, user=user)
        grant = UnitUserObjectPermission.objects.get(user=user, content_object=unit, permission__codename=role)
        obj.pk, obj.content_object, obj.permission = grant.pk, unit, grant.permission

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(request, _("已授予角色。"))
        return self.response_post_save_add(request, obj)

    @admin.action(description=_("收回所选角色"))
    def revoke(self, request, queryset):
        for grant in queryset.select_related("user", "content_object", "permission"):
            role_revoke(actor=request.user, unit=grant.content_object, role=grant.permission.codename, user=grant.user)


class RoleGrantAdminForm(forms.ModelForm):
    unit = forms.ModelChoiceField(queryset=Unit.objects.all(), label=_("单位"))
    role = forms.ChoiceField(choices=Role.choices, label=_("角色"))

    class Meta:
        model = UnitUserObjectPermission
        fields = ["user"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(UnitGroupObjectPermission)
class GroupRoleAdmin(ReadOnlyAdmin):
    list_display = ["group", "content_object", "permission"]
    list_filter = ["permission"]


class RecipientGroupForm(forms.ModelForm):
    class Meta:
        model = RecipientGroup
        fields = ["owner", "name", "members"]


@admin.register(RecipientGroup)
class RecipientGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "member_count"]
    search_fields = ["name", "owner__name"]
    filter_horizontal = ["members"]
    form = RecipientGroupForm

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner").annotate(member_total=Count("members"))

    @admin.display(description=_("成员单位数"), ordering="member_total")
    def member_count(self, group):
        return group.member_total

    def save_model(self, request, obj, form, change):
        pass  # saved with its members in save_related, through the service

    def save_related(self, request, form, formsets, change):
        group = recipient_group_save(
            actor=request.user,
            owner=form.cleaned_data["owner"],
            name=form.cleaned_data["name"],
            members=form.cleaned_data["members"],
        )
        form.instance.pk = group.pk

    def has_delete_permission(self, request, obj=None):
        return False


class NumberSeriesForm(forms.ModelForm):
    class Meta:
        model = NumberSeries
        fields = ["prefix", "year", "last_serial"]


@admin.register(NumberSeries)
class NumberSeriesAdmin(admin.ModelAdmin):
    """Where a series continues (an office adopting the system mid-year): set through the service."""

    list_display = ["prefix", "year", "last_serial"]
    form = NumberSeriesForm

    def save_model(self, request, obj, form, change):
        series = number_series_set(
            actor=request.user, prefix=obj.prefix.prefix, year=obj.year, last_serial=obj.last_serial
        )
        obj.pk = series.pk

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "issuing_unit", "kind", "urgency", "state", "issued_at"]
    list_filter = ["state", "urgency", "kind"]
    search_fields = ["title", "number_prefix"]


@admin.register(Dispatch)
class DispatchAdmin(ReadOnlyAdmin):
    list_display = [
        "document",
        "queue",
        "recipient_count",
        "routed_at",
        "notified_at",
        "route_attempts",
        "deadline_sign_for",
        "deadline_complete",
        "recall",
    ]
    list_filter = ["queue"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "document",
        "unit",
        "role",
        "state",
        "read_at",
        "signed_at",
        "deadline_sign_for",
        "deadline_complete",
        "reminder_count",
        "completed_at",
    ]
    list_filter = ["state", "role"]
    list_select_related = ["document", "unit"]


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    """办理时限 by urgency. Changes go through the audited service and apply to later issues only."""

    list_display = ["urgency", "sign_for_amount", "sign_for_unit", "complete_amount", "complete_unit"]
    fields = ["urgency", "sign_for_amount", "sign_for_unit", "complete_amount", "complete_unit"]

    def get_readonly_fields(self, request, obj=None):
        return ["urgency"] if obj else []

    def save_model(self, request, obj, form, change):
        try:
            policy = deadline_policy_set(
                actor=request.user,
                urgency=obj.urgency,
                sign_for_amount=obj.sign_for_amount,
                sign_for_unit=obj.sign_for_unit,
                complete_amount=obj.complete_amount,
                complete_unit=obj.complete_unit,
            )
        except DomainError as error:
            messages.error(request, error.message)
            raise
        obj.pk = policy.pk

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """节假日与调休, from the State Council's notices. Every change goes through the audited services."""

    list_display = ["date", "is_working_day", "name", "source"]
    list_filter = ["is_working_day"]
    date_hierarchy = "date"
    search_fields = ["name", "source"]
    actions = ["remove"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        if change and "date" in form.changed_data:
            calendar_day_remove(actor=request.user, date=form.initial["date"])
        day = calendar_day_set(
            actor=request.user, date=obj.date, is_working_day=obj.is_working_day, name=obj.name, source=obj.source
        )
        obj.pk = day.pk

    def delete_model(self, request, obj):
        calendar_day_remove(actor=request.user, date=obj.date)

    @admin.action(description=_("删除所选日期（恢复为普通周日程）"))
    def remove(self, request, queryset):
        for day in queryset.order_by("date"):
            calendar_day_remove(actor=request.user, date=day.date)


class CompletionAttachmentInline(ReadOnlyInline):
    model = CompletionAttachment
    fields = ["position", "name", "size", "sha256"]


@admin.register(Completion)
class CompletionAdmin(ReadOnlyAdmin):
    list_display = ["delivery", "unit", "completed_by", "completed_at"]
    list_select_related = ["delivery__document", "unit", "completed_by"]
    inlines = [CompletionAttachmentInline]


@admin.register(DeliveryReturn)
class DeliveryReturnAdmin(ReadOnlyAdmin):
    list_display = ["delivery", "unit", "reason", "returned_by", "returned_at"]
    list_filter = ["reason"]
    list_select_related = ["delivery__document", "unit", "returned_by"]


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ["delivery", "unit", "signed_by", "signed_at", "content_digest"]
    list_select_related = ["delivery__document", "unit", "signed_by"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "text", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "occurred_at", "verb", "actor", "unit", "object_type", "object_id"]
    list_filter = ["verb"]
