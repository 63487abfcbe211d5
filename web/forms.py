"""The forms of the pages: they parse and check input only; the services decide what is allowed."""

from django import forms
from django.utils.translation import gettext_lazy as _

from documents.models import Urgency
from units.models import RecipientGroup, Unit
from workflow.selectors_pages import InboxFilters, forward_recipient_options, number_prefix_list_for_unit


class InboxSearchForm(forms.Form):
    number = forms.CharField(label=_("发文字号"), required=False, max_length=60)
    words = forms.CharField(label=_("标题关键词"), required=False, max_length=100)
    issuer = forms.CharField(label=_("发文机关"), required=False, max_length=100)
    date_from = forms.DateField(
        label=_("收文日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    urgency = forms.ChoiceField(label=_("紧急程度"), required=False, choices=[("", _("全部")), *Urgency.choices])

    def filters(self) -> InboxFilters:
        if not self.is_valid():
            return InboxFilters()
        data = self.cleaned_data
        return InboxFilters(
            number=data["number"].strip(),
            words=data["words"].strip(),
            issuer=data["issuer"].strip(),
            date_from=data["date_from"],
            date_to=data["date_to"],
            urgency=data["urgency"],
        )


class _GroupChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, group: RecipientGroup) -> str:
        return _("%(name)s（%(count)d 个单位）") % {"name": group.name, "count": group.member_count}


class _UnitChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, unit: Unit) -> str:
        return unit.name


class ForwardForm(forms.Form):
    """转发: recipients from the unit's groups and child units, urgency, number prefix and cover text."""

    groups = _GroupChoice(
        label=_("收文对象组"),
        queryset=RecipientGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    units = _UnitChoice(
        label=_("下级单位"), queryset=Unit.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices)
    number_prefix = forms.ChoiceField(label=_("发文字号前缀"))
    body = forms.CharField(label=_("转发通知正文"), widget=forms.Textarea(attrs={"rows": 5}), max_length=5000)

    def __init__(self, *args, unit: Unit, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        groups, children = forward_recipient_options(unit)
        self.fields["groups"].queryset = groups
        self.fields["units"].queryset = children
        prefixes = [prefix.prefix for prefix in number_prefix_list_for_unit(unit)]
        self.fields["number_prefix"].choices = [(prefix, prefix) for prefix in prefixes]
        if prefixes:
            self.fields["number_prefix"].initial = prefixes[0]

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError(_("转发通知正文不能为空。"))
        return body

    def clean(self):
        data = super().clean()
        if not data.get("groups") and not data.get("units"):
            raise forms.ValidationError(_("请至少选择一个收文对象组或下级单位。"))
        return data

    def recipients(self) -> list:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return [*data.get("groups", []), *data.get("units", [])]
