"""The forms of the pages: they parse and check input only; the services decide what is allowed."""

import datetime
import re

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from documents.attachments import check_attachment, human_size
from documents.content import DocumentContent
from documents.elements import DRAFTED_ELEMENTS, Element, Value
from documents.importing.corrections import CORRECTABLE, normalised_number
from documents.importing.patterns import kind_of_title
from documents.models import Classification, Kind, Urgency
from units.display import display_list
from units.errors import InvalidInput
from units.models import RecipientGroup, Unit
from web.selectors import forward_recipient_options, number_prefix_list_for_unit
from workflow.deadlines import CALENDAR_ZONE
from workflow.models import DeliveryReturn, ReadingMode, ReturnReason
from workflow.selectors import InboxFilters


class InboxSearchForm(forms.Form):
    # Any part of the number, in any bracket form (web.selectors.number_matches).
    number = forms.CharField(
        label=_("发文字号"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"placeholder": _("任一部分，如 〔2022〕11号")}),
    )
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


class ListSearchForm(forms.Form):
    """The one search box of a list (发文, 流转链): words of the title, or any part of the 发文字号 in
    any bracket form (web.selectors.words_match)."""

    q = forms.CharField(
        label=_("标题或发文字号"),
        required=False,
        max_length=100,
        error_messages={"max_length": _("查找内容最多 %(limit_value)d 个字符（现有 %(show_value)d 个）。")},
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("如 11号、电明字〔2022〕、防汛")}),
    )

    def words(self) -> str:
        """What to look for; nothing when the box is empty or its input was refused."""
        return self.cleaned_data["q"].strip() if self.is_valid() else ""


class SearchForm(forms.Form):
    """全文检索: the words, and the filters (workflow.search.SearchFilters). The issuer is a unit's
    name as the directory spells it; the view looks it up."""

    q = forms.CharField(
        label=_("检索内容"),
        required=False,
        max_length=200,
        error_messages={"max_length": _("检索内容最多 %(limit_value)d 个字符（现有 %(show_value)d 个）。")},
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("标题、正文、发文字号、发文机关、附件名，如 疫情防控"),
                "autofocus": True,
            }
        ),
    )
    kind = forms.ChoiceField(label=_("文种"), required=False, choices=[("", _("全部")), *Kind.choices])
    urgency = forms.ChoiceField(label=_("紧急程度"), required=False, choices=[("", _("全部")), *Urgency.choices])
    issuer = forms.CharField(label=_("发文机关"), required=False, max_length=200)
    date_from = forms.DateField(
        label=_("日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    state = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部")), ("draft", _("草稿")), ("issued", _("已印发")), ("recalled", _("已撤回"))],
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("起始日期晚于截止日期。"))
        return data


class _BeijingDateTimeField(forms.DateTimeField):
    """A date and time typed without a zone, read as Beijing time whatever zone is active."""

    def to_python(self, value):
        with timezone.override(CALENDAR_ZONE):
            return super().to_python(value)


def _minute(moment: datetime.datetime) -> str:
    return f"{moment.astimezone(CALENDAR_ZONE):%Y-%m-%d %H:%M}"


# The earliest moment the chain page replays: no 公文 of this system is older than the PRC.
EARLIEST_AS_OF = datetime.datetime(1949, 10, 1, tzinfo=CALENDAR_ZONE)


class ChainAsOfForm(forms.Form):
    """流转链 as it stood at a moment (?as_of=YYYY-MM-DDTHH:MM, Beijing time): empty for now, never
    a moment still to come."""

    as_of = _BeijingDateTimeField(
        label=_("查看时刻"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60}, format="%Y-%m-%dT%H:%M"),
        help_text=_("北京时间，精确到分钟；不填即为现在。"),
        error_messages={"invalid": _("时刻的格式不对：请写成“年-月-日T时:分”，例如 2022-10-13T09:30。")},
    )

    def __init__(self, *args, now: datetime.datetime, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.now = now
        # The browser's picker offers no moment to come, nor one before the earliest.
        self.fields["as_of"].widget.attrs.update(
            {"min": f"{EARLIEST_AS_OF:%Y-%m-%dT%H:%M}", "max": f"{now.astimezone(CALENDAR_ZONE):%Y-%m-%dT%H:%M}"}
        )

    def clean_as_of(self) -> datetime.datetime | None:
        moment = self.cleaned_data["as_of"]
        if moment is None:
            return None
        # Compared in one zone first: a year-1 moment cannot be carried over to UTC.
        if moment.replace(tzinfo=None) < EARLIEST_AS_OF.replace(tzinfo=None):
            raise forms.ValidationError(_("请选择 1949年10月1日 以后的时刻。"))
        if moment > self.now:
            raise forms.ValidationError(
                _("%(moment)s 还没有到：流转链只能查看已经过去的时刻（现在是 %(now)s）。")
                % {"moment": _minute(moment), "now": _minute(self.now)}
            )
        return moment

    def moment(self) -> datetime.datetime | None:
        """The moment chosen; None for now, and when the input was refused (see `errors`)."""
        return self.cleaned_data["as_of"] if self.is_valid() else None


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
    # The cover is a 通知: only the levels a 通知 carries (特提 and 平急 are telegrams', Urgency.carried_by).
    urgency = forms.ChoiceField(
        label=_("紧急程度"),
        choices=[(value, label) for value, label in Urgency.choices if Urgency.carried_by(Kind.NOTICE, value) == value],
    )
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


# --- files ----------------------------------------------------------------------------------------


class _MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files in one input. Each is checked like the services check it (type by its bytes,
    size, not empty), so that every bad file is named at once, before anything is written."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", _MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list:
        files = [file for file in (data if isinstance(data, list | tuple) else [data]) if file]
        errors = []
        for file in files:
            try:
                check_attachment(file.name, file)
            except InvalidInput as error:
                errors.append(error.message)
        if errors:
            raise forms.ValidationError(errors)
        return files


def allowed_attachment_help() -> str:
    return _("可选。每个文件不超过 %(size)s，一次合计不超过 %(total)s，类型：%(types)s。") % {
        "size": human_size(settings.ATTACHMENT_MAX_BYTES),
        "total": human_size(settings.UPLOAD_MAX_REQUEST_BYTES),
        "types": display_list(settings.ATTACHMENT_ALLOWED_EXTENSIONS),
    }


# --- 退文, 办结, 撤回 -------------------------------------------------------------------------------


class ReturnForm(forms.Form):
    """退文: a reason code, and a text (required for 其他)."""

    reason = forms.ChoiceField(label=_("退文理由"), choices=ReturnReason.choices, widget=forms.RadioSelect)
    text = forms.CharField(
        label=_("具体说明"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("理由为“其他”时必填。"),
    )

    def clean(self):
        data = super().clean()
        if data.get("reason") == ReturnReason.OTHER and not (data.get("text") or "").strip():
            self.add_error("text", _("退文理由为“其他”时，请写明具体理由。"))
        return data


class CompleteForm(forms.Form):
    """办结: the 落实情况 and optional files."""

    feedback = forms.CharField(label=_("落实情况"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
    attachments = AttachmentsField(label=_("附件"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = allowed_attachment_help()


class RecallForm(forms.Form):
    reason = forms.CharField(label=_("撤回原因"), required=False, max_length=200)


# --- 印发 ------------------------------------------------------------------------------------------


def end_of_day(day: datetime.date) -> datetime.datetime:
    """A deadline given as a day means the end of that day (24时) in Asia/Shanghai, as the policy's
    working-day deadlines do: stored as the first late moment, the next midnight."""
    return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), CALENDAR_ZONE)


class IssueForm(forms.Form):
    """印发: optionally the 退文 this corrected document answers, and an earlier completion deadline."""

    answers_return = forms.TypedChoiceField(label=_("答复退文"), coerce=int, required=False, empty_value=None)
    complete_by = forms.DateField(
        label=_("办结时限（可提前）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("不填则按紧急程度的规定时限；只能提前，不能推后。"),
    )

    def __init__(self, *args, returns: list[DeliveryReturn] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["answers_return"].choices = [
            ("", _("不答复退文")),
            *(
                (
                    returned.pk,
                    _("%(unit)s退回的%(number)s（%(reason)s）%(answered)s")
                    % {
                        "unit": returned.unit.short_name,
                        "number": returned.delivery.document.number,
                        "reason": returned.get_reason_display(),
                        "answered": _("，已答复过") if returned.is_answered else "",
                    },
                )
                for returned in returns
            ),
        ]

    def complete_by_moment(self) -> datetime.datetime | None:
        day = self.cleaned_data.get("complete_by")
        return end_of_day(day) if day else None


# --- 拟稿 ------------------------------------------------------------------------------------------

# What a draft may be: 公开 and 内部 only; this system is no channel for classified documents.
DRAFT_CLASSIFICATIONS = [(level.value, level.label) for level in (Classification.PUBLIC, Classification.INTERNAL)]


def _element_field(element: Element, **options) -> forms.Field:
    """The form field of a 公文 element, from its definition (label, required, length, range, choices);
    `options` are the page's own (another initial value, a narrower choice)."""
    match element.value:
        case Value.LINE:
            field_class, kwargs = forms.CharField, {"max_length": element.max_length}
        case Value.TEXT:
            field_class, kwargs = forms.CharField, {"widget": forms.Textarea(attrs={"rows": 10})}
        case Value.DATE:
            field_class, kwargs = (
                forms.DateField,
                {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")},
            )
        case Value.COUNT:
            field_class, kwargs = forms.IntegerField, {"min_value": 1, "max_value": element.max_value}
        case Value.CHOICE:
            field_class, kwargs = forms.ChoiceField, {"choices": element.choices.choices}
    kwargs = {"label": element.label, "required": element.required, "initial": element.default, **kwargs}
    return field_class(**{**kwargs, **options})


# What the draft page does otherwise than the elements' definitions.
_DRAFT_FIELD_OPTIONS = {
    "kind": {"initial": Kind.NOTICE},
    "classification": {"choices": DRAFT_CLASSIFICATIONS},
    "body": {"max_length": 50000},
    # Asked for on the page (today by default); a draft made otherwise may leave it to 签发.
    "written_on": {"required": True},
    "seal_note": {
        "help_text": _("加盖印章的公文填写印章名称（如“内蒙古自治区党委组织部印”），按加盖印章的格式印制；不盖章留空。")
    },
}

# The elements the drafter writes on the draft page (documents.elements: drafted), in their order.
_DraftElements = type(
    "_DraftElements",
    (forms.Form,),
    {
        element.name: _element_field(element, **_DRAFT_FIELD_OPTIONS.get(element.name, {}))
        for element in DRAFTED_ELEMENTS
    },
)


class DraftForm(_DraftElements):
    """拟稿: the elements a drafter writes (those the definitions mark drafted), 主送 and 抄送 (the
    unit's recipient groups and any active unit found by searching), and attachments. The number is
    allocated at issue."""

    number_prefix = forms.ChoiceField(label=_("发文字号前缀"))
    main_groups = _GroupChoice(
        label=_("主送：收文对象组"),
        queryset=RecipientGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    main_units = forms.ModelMultipleChoiceField(
        label=_("主送：单位"),
        queryset=Unit.objects.filter(is_active=True),
        required=False,
        widget=forms.MultipleHiddenInput,
    )
    cc_groups = _GroupChoice(
        label=_("抄送：收文对象组"),
        queryset=RecipientGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    cc_units = forms.ModelMultipleChoiceField(
        label=_("抄送：单位"),
        queryset=Unit.objects.filter(is_active=True),
        required=False,
        widget=forms.MultipleHiddenInput,
    )
    attachments = AttachmentsField(label=_("附件"))

    def __init__(self, *args, unit: Unit, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.unit = unit
        groups, _children = forward_recipient_options(unit)
        # Read once for both fieldsets; the querysets still check what is posted.
        choices = [(group.pk, self.fields["main_groups"].label_from_instance(group)) for group in groups]
        for name in ("main_groups", "cc_groups"):
            self.fields[name].queryset = groups
            self.fields[name].choices = choices
        prefixes = [prefix.prefix for prefix in number_prefix_list_for_unit(unit)]
        self.fields["number_prefix"].choices = [(prefix, prefix) for prefix in prefixes]
        if prefixes:
            self.fields["number_prefix"].initial = prefixes[0]
        self.fields["written_on"].initial = timezone.localdate()
        self.fields["attachments"].help_text = allowed_attachment_help()

    def clean_title(self) -> str:
        return " ".join(self.cleaned_data["title"].split())

    def clean(self):
        data = super().clean()
        if not any(data.get(name) for name in ("main_groups", "main_units", "cc_groups", "cc_units")):
            raise forms.ValidationError(_("请至少选择一个主送或抄送的收文对象组或单位。"))
        return data

    def chosen_units(self, name: str) -> list[Unit]:
        """The units chosen so far in `main_units` or `cc_units`, to show them checked again."""
        ids = [value for value in (self[name].value() or []) if str(value).isdigit()]
        return list(Unit.objects.filter(pk__in=ids, is_active=True).order_by("path")) if ids else []

    def recipients(self) -> tuple[list, list]:
        data = self.cleaned_data
        return [*data["main_groups"], *data["main_units"]], [*data["cc_groups"], *data["cc_units"]]

    def content(self) -> DocumentContent:
        """The elements as written, for the services (which check them again)."""
        return DocumentContent(**{element.name: self.cleaned_data[element.name] for element in DRAFTED_ELEMENTS})


# --- inside a recipient unit: 登记, 拟办, 批办, 承办, 传阅, 答复, 代理 ---------------------------------
# The choices (departments, readers, deputies) come from web.selectors.handling_options; what the
# person may do at all, and whether a choice is allowed, the services decide.


class _Department(forms.ModelMultipleChoiceField):
    def label_from_instance(self, unit: Unit) -> str:
        return unit.short_name or unit.name


class _Person(forms.ModelMultipleChoiceField):
    def label_from_instance(self, user) -> str:
        return user.get_full_name() or user.get_username()


class _PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        return user.get_full_name() or user.get_username()


def _checkboxes(label, queryset, field_class=_Department, **kwargs) -> forms.Field:
    return field_class(label=label, queryset=queryset, required=False, widget=forms.CheckboxSelectMultiple, **kwargs)


class RegisterForm(forms.Form):
    """收文登记: how many copies came, and a remark; the 收文编号 is the register's next."""

    copies = forms.IntegerField(label=_("份数"), min_value=1, max_value=999, initial=1)
    remark = forms.CharField(label=_("备注"), required=False, max_length=500)


class ProposeForm(forms.Form):
    """拟办: the office's proposal and the departments it suggests."""

    text = forms.CharField(label=_("拟办意见"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    departments = _checkboxes(_("建议承办部门"), Unit.objects.none())

    def __init__(self, *args, departments=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.fields["departments"].queryset = departments


class InstructForm(forms.Form):
    """批办: the leader's instruction, the 主办 and 协办 departments, the readers (传阅, in the order
    listed when they read one after another), whether readers may pass it on, and a deadline."""

    text = forms.CharField(label=_("批示"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    lead_departments = _checkboxes(_("主办部门"), Unit.objects.none())
    assist_departments = _checkboxes(_("协办部门"), Unit.objects.none())
    readers = _checkboxes(_("传阅人"), Unit.objects.none(), field_class=_Person)
    reading_mode = forms.ChoiceField(
        label=_("传阅方式"), choices=ReadingMode.choices, initial=ReadingMode.SEQUENTIAL, widget=forms.RadioSelect
    )
    readers_may_pass_on = forms.BooleanField(label=_("阅文人可转阅他人"), required=False)
    deadline = forms.DateField(
        label=_("办理时限"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("可选；不晚于来文的办结时限。"),
    )

    def __init__(self, *args, departments=None, readers=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.fields["lead_departments"].queryset = departments
            self.fields["assist_departments"].queryset = departments
        if readers is not None:
            self.fields["readers"].queryset = readers

    def deadline_moment(self) -> datetime.datetime | None:
        day = self.cleaned_data.get("deadline")
        return end_of_day(day) if day else None


class ReportForm(forms.Form):
    """承办情况: what the department did, with files; 办毕 when its part is done."""

    text = forms.CharField(label=_("承办情况"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    files = AttachmentsField(label=_("附件"))
    finish = forms.BooleanField(label=_("本部门已办毕"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = allowed_attachment_help()


class ReadForm(forms.Form):
    """已阅, with a remark (empty: 已阅)."""

    remark = forms.CharField(
        label=_("阅文意见"), required=False, max_length=500, help_text=_("可不填；不填即记为“已阅”。")
    )


class PassOnForm(forms.Form):
    """转阅: more readers, after this one."""

    readers = _checkboxes(_("转阅给"), Unit.objects.none(), field_class=_Person)

    def __init__(self, *args, readers=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if readers is not None:
            self.fields["readers"].queryset = readers


class ReplyForm(forms.Form):
    """答复: the reply document's title and text, drafted for the unit (then 签发 and 印发)."""

    title = forms.CharField(label=_("标题"), max_length=200)
    body = forms.CharField(label=_("正文"), max_length=50000, widget=forms.Textarea(attrs={"rows": 6}))


class DelegationForm(forms.Form):
    """代理: who acts for me in one of my units, from when until when (Beijing time)."""

    unit = forms.ModelChoiceField(label=_("单位"), queryset=Unit.objects.none())
    deputy = _PersonChoice(label=_("代理人"), queryset=Unit.objects.none())
    starts_at = _BeijingDateTimeField(
        label=_("开始时间"),
        input_formats=["%Y-%m-%dT%H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60}, format="%Y-%m-%dT%H:%M"),
    )
    ends_at = _BeijingDateTimeField(
        label=_("结束时间"),
        input_formats=["%Y-%m-%dT%H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60}, format="%Y-%m-%dT%H:%M"),
        help_text=_("北京时间。"),
    )

    def __init__(self, *args, units=None, people=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if units is not None:
            self.fields["unit"].queryset = units
        if people is not None:
            self.fields["deputy"].queryset = people


# --- 收文登记 from a file ---------------------------------------------------------------------------


class ReceivedFileForm(forms.Form):
    """The file that arrived (text, .docx, PDF, OFD, a scan), for the importer to read."""

    file = forms.FileField(label=_("来文文件"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "纯文本、Word（.docx）、PDF、OFD 或扫描件（PDF、PNG、JPEG、TIFF），不超过 %(size)s。"
        ) % {"size": human_size(settings.IMPORT_MAX_BYTES)}


def _names(text: str) -> list[str]:
    """One name a line, as the clerk typed them (a 主送 such as 各省、自治区、直辖市人民政府 is one name)."""
    return [line.strip().rstrip("，,。；;：:") for line in text.splitlines() if line.strip().rstrip("，,。；;：:")]


class _NamesField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def clean(self, value):
        return _names(super().clean(value) or "")


class RegistrationReviewForm(forms.Form):
    """What the importer read, for the clerk to check against the file and correct before 登记.

    Each field starts as read (documents.importing.corrections.reading) and shows the importer's
    findings about it beside it (`warnings`); `token` carries the uploaded file (signed: web.views.receiving).
    """

    token = forms.CharField(widget=forms.HiddenInput)
    issuer = forms.CharField(label=_("发文机关"), max_length=200, required=False)
    number = forms.CharField(label=_("发文字号"), max_length=60)
    title = forms.CharField(label=_("标题"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=[("", _("（无）")), *Urgency.choices], required=False)
    main_recipients = _NamesField(label=_("主送机关"), required=False, help_text=_("每行一个机关"))
    cc = _NamesField(label=_("抄送机关"), required=False, help_text=_("每行一个机关"))
    signatory = forms.CharField(label=_("发文机关署名"), max_length=200, required=False)
    date = forms.DateField(
        label=_("成文日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    attachments = _NamesField(label=_("附件"), required=False, help_text=_("每行一个附件名称"))

    FIELDS = CORRECTABLE

    def __init__(self, *args, warnings: dict[str, list[str]] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.warnings = warnings or {}
        for name, messages in self.warnings.items():
            if messages and name in self.fields:
                self.fields[name].widget.attrs["aria-describedby"] = f"review-{name}-warnings"

    def rows(self):
        """(bound field, the importer's findings about it), in the order of the form."""
        return [(self[name], self.warnings.get(name, [])) for name in self.FIELDS]

    def clean_number(self) -> str:
        number = normalised_number(self.cleaned_data["number"])
        if number is None:
            raise forms.ValidationError(
                _("发文字号应为“机关代字〔年份〕序号号”，例如 内教工委函〔2022〕90号。"), code="number"
            )
        return number

    def clean_title(self) -> str:
        title = re.sub(r"\s", "", self.cleaned_data["title"])
        if kind_of_title(title) is None:
            raise forms.ValidationError(_("标题应以文种结尾（如 …的通知、…的函），请按来文填写。"), code="kind")
        return title

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS}
