"""The admin, for system administrators. It is a door like any view: every change goes through the
workflow services, so it is audited; what cannot be changed that way (a unit's identity, anything
issued, the audit log) is read-only here. It lives in workflow/ because it calls workflow services
(units and documents import nothing from workflow).

The admin shows no document content: a document is listed by number, title, unit, state and dates
only, with no body, attachment, telegram header or any other element, and no file is linked. Free
text that may quote a document is hidden too: 办结 feedback (Completion.feedback), a return's
explanation (DeliveryReturn.text), notification texts and audit payloads. Superusers have no bypass
in the pages, and the admin is not one either; reading content is for the pages, through the door.
"""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from documents.models import Document, NumberSeries
from documents.rendering import seal_data_url
from units.display import display_list
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
    unit_letterhead_set,
    unit_sign_off_policy_set,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ServiceAdmin(admin.ModelAdmin):
    """An admin whose add and change forms write through a workflow service.

    The service runs while the form validates, in a savepoint of the admin's own transaction: a
    DomainError becomes an error on the form, so the page comes back (status 200) with the message
    and nothing written; a success is kept, and the admin only logs it and redirects. These admins
    have no editable inlines, so nothing can be refused after the service has run.
    """

    def run_service(self, request, form):
        """Call the service with the form's cleaned data; return the saved row."""
        raise NotImplementedError

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        run_service = self.run_service

        class ServiceForm(form_class):
            def _post_clean(self):
                super()._post_clean()
                if self.errors:
                    return
                try:
                    with transaction.atomic():
                        self.saved = run_service(request, self)
                except DomainError as error:
                    self.add_error(None, error.message)

        return ServiceForm

    def save_form(self, request, form, change):
        return form.saved

    def save_model(self, request, obj, form, change):
        pass  # written by the service while the form validated

    def save_related(self, request, form, formsets, change):
        pass  # likewise (a recipient group's members)

    def construct_change_message(self, request, form, formsets, add=False):
        # The inlines of these admins are read-only and never saved: the log names the form's fields.
        return super().construct_change_message(request, form, [], add)

    def has_delete_permission(self, request, obj=None):
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
        fields = ["name", "short_name", "mongolian_name", "kind", "parent", "allows_self_sign_off", "is_illustrative"]


class UnitLetterheadForm(forms.ModelForm):
    """An existing unit's page changes how it prints, and nothing else: its Mongolian name and its
    seal image (unit_letterhead_set)."""

    seal_png = forms.FileField(
        label=_("上传新印章图像"),
        required=False,
        help_text=_("PNG，红色印章、透明底，接近正方形，边长 200–4000 像素，不超过 2 MB；替换现有印章图像。"),
    )
    remove_seal = forms.BooleanField(label=_("删除印章图像"), required=False)

    class Meta:
        model = Unit
        fields = ["mongolian_name"]
        help_texts = {
            "mongolian_name": _("按本单位的写法填写蒙古文（Unicode 蒙古文字符）；不知道时留空，系统不代为转写。")
        }


@admin.register(Unit)
class UnitAdmin(ServiceAdmin):
    """Units are added here (unit_create); an existing unit is shown, not changed, but for how it
    prints (its page: unit_letterhead_set) and its sign-off policy, set by the actions of the list
    (unit_sign_off_policy_set)."""

    list_display = ["name", "short_name", "kind", "parent", "is_active", "allows_self_sign_off", "is_illustrative"]
    list_filter = ["kind", "is_active", "allows_self_sign_off", "is_illustrative"]
    actions = ["allow_self_sign_off", "forbid_self_sign_off"]
    search_fields = ["name", "short_name"]
    readonly_fields = [
        "name",
        "short_name",
        "kind",
        "parent",
        "path",
        "group",
        "is_active",
        "allows_self_sign_off",
        "is_illustrative",
        "members",
        "current_seal",
    ]
    letterhead_fields = ["mongolian_name", "current_seal", "seal_png", "remove_seal"]
    inlines = [NumberPrefixInline, UserRoleInline, GroupRoleInline]

    @admin.action(description=_("允许所选单位的签发人签发本人起草的公文"))
    def allow_self_sign_off(self, request, queryset):
        self._set_sign_off_policy(request, queryset, allows=True)

    @admin.action(description=_("所选单位的公文须由起草人以外的签发人签发（默认）"))
    def forbid_self_sign_off(self, request, queryset):
        self._set_sign_off_policy(request, queryset, allows=False)

    def _set_sign_off_policy(self, request, queryset, *, allows: bool):
        try:
            changed = sum(
                unit_sign_off_policy_set(actor=request.user, unit=unit, allows_self_sign_off=allows)
                for unit in queryset.order_by("pk")
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("已修改 %(count)d 个单位的签发规定。") % {"count": changed})

    @admin.display(description=_("成员"))
    def members(self, unit):
        return display_list(unit.group.user_set.order_by("username").values_list("username", flat=True)) or "—"

    @admin.display(description=_("当前印章图像"))
    def current_seal(self, unit):
        url = seal_data_url(unit)
        if not url:
            return _("未上传（加盖印章的公文不印印章）")
        return format_html('<img src="{}" alt="{}" width="120" height="120">', url, _("印章"))

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = UnitLetterheadForm if obj else UnitCreationForm
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return super().get_fieldsets(request, obj)
        identity = [field for field in self.readonly_fields if field not in self.letterhead_fields]
        return [(None, {"fields": identity}), (_("版头与印章"), {"fields": self.letterhead_fields})]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def run_service(self, request, form):
        data = form.cleaned_data
        if form.instance.pk is not None:
            seal = data["seal_png"]
            unit_letterhead_set(
                actor=request.user,
                unit=form.instance,
                mongolian_name=data["mongolian_name"],
                seal_png=seal.read() if seal else None,
                remove_seal=data["remove_seal"],
            )
            return form.instance
        return unit_create(
            actor=request.user,
            name=data["name"],
            short_name=data["short_name"],
            kind=data["kind"],
            parent=data["parent"],
            mongolian_name=data["mongolian_name"],
            number_prefixes=data["number_prefixes"].split(),
            is_illustrative=data["is_illustrative"],
            allows_self_sign_off=data["allows_self_sign_off"],
        )


class RoleGrantAdminForm(forms.ModelForm):
    unit = forms.ModelChoiceField(queryset=Unit.objects.all(), label=_("单位"))
    role = forms.ChoiceField(choices=Role.choices, label=_("角色"))

    class Meta:
        model = UnitUserObjectPermission
        fields = ["user"]


@admin.register(UnitUserObjectPermission)
class UserRoleAdmin(ServiceAdmin):
    """Who holds which role where. Grants and revocations go through the audited services."""

    list_display = ["user", "content_object", "permission"]
    list_filter = ["permission"]
    search_fields = ["user__username", "content_object__name"]
    actions = ["revoke"]

    form = RoleGrantAdminForm

    def has_change_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        return ["user", "unit", "role"]

    def run_service(self, request, form):
        unit, role, user = form.cleaned_data["unit"], form.cleaned_data["role"], form.cleaned_data["user"]
        role_grant(actor=request.user, unit=unit, role=role, user=user)
        return UnitUserObjectPermission.objects.get(user=user, content_object=unit, permission__codename=role)

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(request, _("已授予角色。"))
        return self.response_post_save_add(request, obj)

    @admin.action(description=_("收回所选角色"))
    def revoke(self, request, queryset):
        try:
            with transaction.atomic():  # all or none
                for grant in queryset.select_related("user", "content_object", "permission"):
                    role_revoke(
                        actor=request.user, unit=grant.content_object, role=grant.permission.codename, user=grant.user
                    )
        except DomainError as error:
            messages.error(request, error.message)


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
class RecipientGroupAdmin(ServiceAdmin):
    list_display = ["name", "owner", "member_count"]
    search_fields = ["name", "owner__name"]
    filter_horizontal = ["members"]
    form = RecipientGroupForm

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner").annotate(member_total=Count("members"))

    @admin.display(description=_("成员单位数"), ordering="member_total")
    def member_count(self, group):
        return group.member_total

    def run_service(self, request, form):
        return recipient_group_save(
            actor=request.user,
            owner=form.cleaned_data["owner"],
            name=form.cleaned_data["name"],
            members=form.cleaned_data["members"],
        )


class NumberSeriesForm(forms.ModelForm):
    class Meta:
        model = NumberSeries
        fields = ["prefix", "year", "last_serial"]


@admin.register(NumberSeries)
class NumberSeriesAdmin(ServiceAdmin):
    """Where a series continues (an office adopting the system mid-year): set through the service."""

    list_display = ["prefix", "year", "last_serial"]
    form = NumberSeriesForm

    def get_readonly_fields(self, request, obj=None):
        return ["prefix", "year"] if obj else []

    def run_service(self, request, form):
        series = form.instance  # prefix and year from the form (add) or the row (change)
        return number_series_set(
            actor=request.user,
            prefix=series.prefix.prefix,
            year=series.year,
            last_serial=form.cleaned_data["last_serial"],
        )


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    """Number, title, unit, state and dates: no other element of the document, and no file."""

    list_display = ["number", "title", "issuing_unit", "state", "created_at", "written_on", "issued_at"]
    fields = ["number", "title", "issuing_unit", "state", "created_at", "written_on", "signed_off_at", "issued_at"]
    readonly_fields = fields
    list_filter = ["state"]
    search_fields = ["title", "number_prefix"]
    list_select_related = ["issuing_unit"]

    @admin.display(description=_("发文字号"), ordering="number_serial")
    def number(self, document):
        return document.number or "—"


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
class DeadlinePolicyAdmin(ServiceAdmin):
    """办理时限 by urgency. Changes go through the audited service and apply to later issues only."""

    list_display = ["urgency", "sign_for_amount", "sign_for_unit", "complete_amount", "complete_unit"]
    fields = ["urgency", "sign_for_amount", "sign_for_unit", "complete_amount", "complete_unit"]

    def get_readonly_fields(self, request, obj=None):
        return ["urgency"] if obj else []

    def run_service(self, request, form):
        policy = form.instance  # the urgency is read-only once the policy exists
        return deadline_policy_set(
            actor=request.user,
            urgency=policy.urgency,
            sign_for_amount=policy.sign_for_amount,
            sign_for_unit=policy.sign_for_unit,
            complete_amount=policy.complete_amount,
            complete_unit=policy.complete_unit,
        )


@admin.register(CalendarDay)
class CalendarDayAdmin(ServiceAdmin):
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

    def run_service(self, request, form):
        day = form.instance
        if day.pk is not None and "date" in form.changed_data:
            calendar_day_remove(actor=request.user, date=form.initial["date"])
        return calendar_day_set(
            actor=request.user, date=day.date, is_working_day=day.is_working_day, name=day.name, source=day.source
        )

    def has_delete_permission(self, request, obj=None):
        return super(ServiceAdmin, self).has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        calendar_day_remove(actor=request.user, date=obj.date)

    @admin.action(description=_("删除所选日期（恢复为普通周日程）"))
    def remove(self, request, queryset):
        try:
            with transaction.atomic():  # all or none
                for day in queryset.order_by("date"):
                    calendar_day_remove(actor=request.user, date=day.date)
        except DomainError as error:
            messages.error(request, error.message)


class CompletionAttachmentInline(ReadOnlyInline):
    model = CompletionAttachment
    fields = ["position", "name", "size", "sha256"]


@admin.register(Completion)
class CompletionAdmin(ReadOnlyAdmin):
    list_display = ["delivery", "unit", "completed_by", "completed_at"]
    exclude = ["feedback"]
    list_select_related = ["delivery__document", "unit", "completed_by"]
    inlines = [CompletionAttachmentInline]


@admin.register(DeliveryReturn)
class DeliveryReturnAdmin(ReadOnlyAdmin):
    list_display = ["delivery", "unit", "reason", "returned_by", "returned_at"]
    exclude = ["text"]
    list_filter = ["reason"]
    list_select_related = ["delivery__document", "unit", "returned_by"]


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ["delivery", "unit", "signed_by", "signed_at", "content_digest"]
    list_select_related = ["delivery__document", "unit", "signed_by"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Listed without their text (it quotes document titles and feedback), and with no page of their own:
    a notification's name is its text."""

    list_display = ["user", "kind", "created_at", "read_at", "emailed_at"]
    list_display_links = None

    def has_view_permission(self, request, obj=None):
        return obj is None and super().has_view_permission(request)

    list_filter = ["kind"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "occurred_at", "verb", "actor", "unit", "object_type", "object_id"]
    list_filter = ["verb"]
    exclude = ["payload"]


# django-otp's own admin shows a device's secret key and its QR code: this one shows the devices
# only, so that an administrator can delete a lost one (its owner then enrols again).
admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    fields = list_display
    search_fields = ["user__username"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
