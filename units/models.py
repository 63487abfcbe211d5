"""The directory: who sends and receives (units), the collective names of 主送 (recipient groups), and
who may act for a unit (roles, as django-guardian object permissions on the unit)."""

from django.contrib.auth.models import Group
from django.core.validators import FileExtensionValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class Role(models.TextChoices):
    """What a person may do for a unit. Each is a permission codename on `Unit`."""

    CLERK = "clerk", _("收发员")  # 签收, 转发, 发文
    DRAFTER = "drafter", _("拟稿人")
    SIGNER = "signer", _("签发人")
    AUDITOR = "auditor", _("审计")  # scope: the unit's whole subtree
    # Inside a recipient unit (workflow.services.inunit): the office's clerk registers (登记) and
    # proposes (拟办); a leader instructs (批办) and reads; a department's handler handles (承办); a
    # reader reads what is passed to them (传阅).
    LEADER = "leader", _("领导")  # on the unit
    HANDLER = "handler", _("承办人")  # on a department (内设机构)
    READER = "reader", _("阅文人")  # on the unit


class Unit(models.Model):
    class Kind(models.TextChoices):
        PARTY_COMMITTEE = "party_committee", _("党委")
        DEPARTMENT = "department", _("党委工作部门")
        WORK_COMMITTEE = "work_committee", _("直属党（工）委")
        UNIVERSITY_COMMITTEE = "university_committee", _("高校党委")
        COLLEGE_COMMITTEE = "college_committee", _("院系党组织")
        GOVERNMENT = "government", _("政府机关")
        # 内设机构: an office or department inside a unit (党委办公室, 组织部); its parent is the unit.
        # It receives nothing from outside; its work comes from its unit's instructions (批办).
        INNER_DEPARTMENT = "inner_department", _("内设机构")
        OTHER = "other", _("其他")

    name = models.CharField(_("全称"), max_length=200, unique=True)
    short_name = models.CharField(_("简称"), max_length=100)
    # Unicode Mongolian (U+1800–U+18AF), printed under the Chinese name in the issuer mark.
    # Left empty rather than invented when no verified form is known.
    mongolian_name = models.CharField(
        _("蒙古文名称"),
        max_length=200,
        blank=True,
        validators=[RegexValidator(r"^[\u1800-\u18AF\u202F ]*$", _("蒙古文名称只能包含蒙古文字符（U+1800–U+18AF）。"))],
    )
    kind = models.CharField(_("类别"), max_length=30, choices=Kind.choices, default=Kind.OTHER)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Materialised path of ids, "/1/4/17/": the subtree of a unit is one indexed prefix match.
    path = models.CharField(max_length=255, editable=False, db_index=True)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="unit", editable=False)
    is_active = models.BooleanField(_("启用"), default=True)
    # An external unit: hosted by another installation and reached through the exchange (公文交换).
    # Null for the units of this installation.
    peer = models.ForeignKey(
        "exchange.Peer",
        verbose_name=_("所在系统"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="units",
    )
    # Demo data whose name follows the usual pattern but was not read in a public document.
    is_illustrative = models.BooleanField(_("示例数据"), default=False)
    # 核稿 and 签发 by two people (四眼原则): a signer may not sign off a draft they wrote or changed,
    # unless the unit allows it (a one-person office).
    allows_self_sign_off = models.BooleanField(
        _("允许签发本人起草的公文"),
        default=False,
        help_text=_("不勾选（默认）：起草或修改过公文的人不能签发这份公文，须由另一位签发人签发。"),
    )

    # 印章: the unit's seal as the office scanned it (a PNG, red on a transparent ground), printed over
    # the 署名 and 成文日期 of a sealed document (documents.rendering). Without it nothing is drawn.
    seal_image = models.FileField(
        _("印章图像"),
        upload_to="seals/",
        blank=True,
        validators=[FileExtensionValidator(["png"])],
        help_text=_("PNG，红色印章、透明底；加盖印章的公文在署名和成文日期上印出。不上传则不印。"),
    )

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["path"]
        permissions = [(role.value, role.label) for role in Role]
        default_permissions = ("add", "change", "view")
        indexes = [
            models.Index(fields=["path"], name="unit_path_prefix", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(path__startswith="/"), name="unit_path_absolute"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2


class UnitUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Unit, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("个人角色")
        verbose_name_plural = _("个人角色")


class UnitGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Unit, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("组角色")
        verbose_name_plural = _("组角色")


class NumberPrefix(models.Model):
    """A document-number prefix (发文机关代字) a unit issues under: 内组电明字, 内教工委函, …"""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="number_prefixes")
    prefix = models.CharField(_("发文字号前缀"), max_length=40, unique=True)
    is_default = models.BooleanField(_("默认"), default=False)

    class Meta:
        verbose_name = _("发文字号前缀")
        verbose_name_plural = _("发文字号前缀")
        ordering = ["unit", "-is_default", "prefix"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit"], condition=models.Q(is_default=True), name="one_default_prefix_per_unit"
            ),
            models.CheckConstraint(condition=~models.Q(prefix=""), name="prefix_not_empty"),
        ]

    def __str__(self) -> str:
        return self.prefix


class RecipientGroup(models.Model):
    """A collective name as written in 主送 (各高等学校党委) and the units it stands for.

    Resolved to units when a document is issued; the resolved set is stored with the dispatch, so a
    later change of membership never changes who received an issued document.
    """

    name = models.CharField(_("名称"), max_length=100)
    owner = models.ForeignKey(
        Unit, verbose_name=_("所属单位"), on_delete=models.CASCADE, related_name="recipient_groups"
    )
    members = models.ManyToManyField(Unit, verbose_name=_("成员单位"), related_name="member_of_groups")

    class Meta:
        verbose_name = _("收文对象组")
        verbose_name_plural = _("收文对象组")
        ordering = ["owner", "name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="recipient_group_name_unique_per_owner"),
            models.CheckConstraint(condition=~models.Q(name=""), name="recipient_group_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name
