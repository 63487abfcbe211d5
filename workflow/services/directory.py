"""Changes to the directory: units, members, roles, recipient groups and number series.

These are the system administrator's actions: `actor` is a superuser, or None for the system
itself (a management command such as `demo`). Each writes its audit event in its transaction.
"""

import hashlib
import io
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm
from PIL import Image, UnidentifiedImageError

from documents.models import Document, NumberSeries
from units.display import display_list
from units.errors import Conflict, InvalidInput, NotAllowed
from units.models import NumberPrefix, RecipientGroup, Role, Unit, UnitGroupObjectPermission, UnitUserObjectPermission
from workflow.audit import audit_record
from workflow.models import AuditVerb


def require_administrator(actor: AbstractBaseUser | None) -> None:
    if actor is not None and not (actor.is_active and actor.is_superuser):
        raise NotAllowed(_("只有系统管理员可以维护单位目录和角色。"))


def unit_create(
    *,
    actor: AbstractBaseUser | None,
    name: str,
    short_name: str,
    kind: str = Unit.Kind.OTHER,
    parent: Unit | None = None,
    mongolian_name: str = "",
    number_prefixes: Iterable[str] = (),
    is_illustrative: bool = False,
    allows_self_sign_off: bool = False,
) -> Unit:
    """Create a unit, its members' group and its number prefixes (the first is its default).

    Errors: NotAllowed (not an administrator); InvalidInput for an empty or duplicate name, a
    non-Mongolian Mongolian name, a prefix already used by another unit.
    """
    require_administrator(actor)
    return unit_insert(
        actor=actor,
        name=name,
        short_name=short_name,
        kind=kind,
        parent=parent,
        mongolian_name=mongolian_name,
        number_prefixes=number_prefixes,
        is_illustrative=is_illustrative,
        allows_self_sign_off=allows_self_sign_off,
    )


def unit_insert(
    *,
    actor: AbstractBaseUser | None,
    name: str,
    short_name: str,
    kind: str = Unit.Kind.OTHER,
    parent: Unit | None = None,
    mongolian_name: str = "",
    number_prefixes: Iterable[str] = (),
    is_illustrative: bool = False,
    allows_self_sign_off: bool = False,
) -> Unit:
    """`unit_create` without its administrator check, for a service that has checked who may
    create this unit itself (a clerk creating a department of their unit: inunit.department_create).

    Errors: InvalidInput, as `unit_create`.
    """
    name, short_name = name.strip(), short_name.strip() or name.strip()
    if not name:
        raise InvalidInput(_("单位全称不能为空。"))
    if kind not in Unit.Kind.values:
        raise InvalidInput(_("单位类别“%(kind)s”不存在。") % {"kind": kind})
    if kind == Unit.Kind.INNER_DEPARTMENT and (parent is None or parent.kind == Unit.Kind.INNER_DEPARTMENT):
        raise InvalidInput(_("内设机构“%(name)s”必须设在一个单位之下（不能设在内设机构之下）。") % {"name": name})
    prefixes = [prefix.strip() for prefix in number_prefixes]
    if any(not prefix or any(ch.isspace() for ch in prefix) for prefix in prefixes):
        raise InvalidInput(_("发文字号前缀不能为空，也不能包含空格。"))
    unit = Unit(name=name, short_name=short_name, kind=kind, parent=parent, mongolian_name=mongolian_name)
    unit.is_illustrative = is_illustrative
    unit.allows_self_sign_off = allows_self_sign_off
    try:
        unit.full_clean(exclude=["path", "group"], validate_unique=False)
    except ValidationError as error:
        raise InvalidInput("；".join(error.messages)) from None
    with transaction.atomic():
        if Unit.objects.filter(name=name).exists():
            raise InvalidInput(_("单位“%(name)s”已经存在。") % {"name": name})
        taken = list(NumberPrefix.objects.filter(prefix__in=prefixes).values_list("prefix", flat=True))
        if taken:
            raise InvalidInput(_("发文字号前缀“%(prefix)s”已被其他单位使用。") % {"prefix": taken[0]})
        unit.group = Group.objects.create(name=f"unit:{name}")
        unit.path = "/"  # completed below, once the id is known
        unit.save()
        unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
        Unit.objects.filter(pk=unit.pk).update(path=unit.path)
        NumberPrefix.objects.bulk_create(
            NumberPrefix(unit=unit, prefix=prefix, is_default=(i == 0)) for i, prefix in enumerate(prefixes)
        )
        payload = {
            "name": name,
            "parent_id": parent.pk if parent else None,
            "number_prefixes": prefixes,
            "allows_self_sign_off": allows_self_sign_off,
        }
        if kind == Unit.Kind.INNER_DEPARTMENT:
            payload["kind"] = kind
        audit_record(
            actor=actor, verb=AuditVerb.UNIT_CREATED, object_type="Unit", object_id=unit.pk, unit=unit, payload=payload
        )
    return unit


def unit_sign_off_policy_set(*, actor: AbstractBaseUser | None, unit: Unit, allows_self_sign_off: bool) -> bool:
    """Whether a signer of the unit may sign off (签发) a draft they wrote or changed themselves.

    Off by default: 核稿 and 签发 by two people. Returns False when the unit already had that policy
    (nothing written). Errors: NotAllowed (not an administrator).
    """
    require_administrator(actor)
    with transaction.atomic():
        changed = (
            Unit.objects.filter(pk=unit.pk)
            .exclude(allows_self_sign_off=allows_self_sign_off)
            .update(allows_self_sign_off=allows_self_sign_off)
        )
        if changed:
            unit.allows_self_sign_off = allows_self_sign_off
            audit_record(
                actor=actor,
                verb=AuditVerb.UNIT_SIGN_OFF_POLICY_SET,
                object_type="Unit",
                object_id=unit.pk,
                unit=unit,
                payload={"allows_self_sign_off": allows_self_sign_off},
            )
    return bool(changed)


# A seal as an office scans it: one PNG, red on a transparent ground, printed 42 mm square
# (documents/static/documents/official.css), so its sides may differ by a tenth at most.
SEAL_MAX_BYTES = 2 * 1024 * 1024
SEAL_MIN_PX, SEAL_MAX_PX = 200, 4000
SEAL_MAX_ASPECT = 1.1


def unit_letterhead_set(
    *,
    actor: AbstractBaseUser | None,
    unit: Unit,
    mongolian_name: str,
    seal_png: bytes | None = None,
    remove_seal: bool = False,
) -> bool:
    """Set how a unit prints: its Mongolian name (under the mark) and its seal image (over the 署名
    and 成文日期 of a sealed document). `seal_png` replaces the seal, `remove_seal` takes it away,
    neither keeps it.

    The name is taken as the office writes it (Unicode Mongolian, nothing transliterated). The
    seal is stored under a name of its own (seals/<unit>-<sha256[:12]>.png); the old file is
    deleted once the change is committed. Returns False when nothing changes (nothing written).
    Errors: NotAllowed (not an administrator); InvalidInput for a name that is not Mongolian, a
    seal that is not a transparent, square-ish PNG within the limits, or a seal both given and removed.
    """
    require_administrator(actor)
    mongolian_name = _valid_mongolian_name(mongolian_name)
    if seal_png is not None and remove_seal:
        raise InvalidInput(_("不能同时上传新印章图像和删除印章图像。"))
    seal = _valid_seal(seal_png) if seal_png is not None else None
    with transaction.atomic():
        current = Unit.objects.select_for_update().get(pk=unit.pk)
        old_seal = current.seal_image.name
        changes = {}
        if mongolian_name != current.mongolian_name:
            changes["mongolian_name"] = mongolian_name
        if remove_seal and old_seal:
            changes["seal_image"] = ""
        if seal is not None and seal["sha256"] != _stored_sha256(current):
            changes["seal_image"] = current.seal_image.storage.save(
                f"seals/{unit.pk}-{seal['sha256'][:12]}.png", ContentFile(seal_png)
            )
        if not changes:
            return False
        try:
            _write_letterhead(actor, current, changes, seal)
        except BaseException:
            if changes.get("seal_image"):
                current.seal_image.storage.delete(changes["seal_image"])
            raise
        if "seal_image" in changes and old_seal:
            transaction.on_commit(lambda: current.seal_image.storage.delete(old_seal))
    unit.mongolian_name, unit.seal_image = mongolian_name, changes.get("seal_image", old_seal)
    return True


def _write_letterhead(actor: AbstractBaseUser | None, unit: Unit, changes: dict, seal: dict | None) -> None:
    Unit.objects.filter(pk=unit.pk).update(**changes)
    payload = {"mongolian_name": changes.get("mongolian_name", unit.mongolian_name)}
    if "seal_image" in changes:
        payload["seal"] = seal if changes["seal_image"] else "removed"
    audit_record(
        actor=actor,
        verb=AuditVerb.UNIT_LETTERHEAD_SET,
        object_type="Unit",
        object_id=unit.pk,
        unit=unit,
        payload=payload,
    )


def _valid_mongolian_name(name: str) -> str:
    """The name through the model field's own checks (Mongolian script only, its length)."""
    name = name.strip()
    try:
        Unit._meta.get_field("mongolian_name").clean(name, None)
    except ValidationError as error:
        raise InvalidInput("；".join(error.messages)) from None
    return name


def _valid_seal(data: bytes) -> dict:
    """What the audit keeps of a seal (sha256, size, width, height), once the PNG has passed every
    check; the image itself is never in the audit log."""
    if len(data) > SEAL_MAX_BYTES:
        raise InvalidInput(
            _("印章图像不能超过 %(limit)d MB（此文件 %(size).1f MB）。")
            % {"limit": SEAL_MAX_BYTES // (1024 * 1024), "size": len(data) / (1024 * 1024)}
        )
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise InvalidInput(_("印章图像不是图片文件，请上传 PNG 图像。")) from None
    except Image.DecompressionBombError:  # a few bytes that would inflate to more pixels than allowed
        raise InvalidInput(_("印章图像的像素过多。")) from None
    if image.format != "PNG":
        raise InvalidInput(_("印章图像须为 PNG 格式（此文件是 %(format)s）。") % {"format": image.format})
    width, height = image.size
    if min(width, height) < SEAL_MIN_PX or max(width, height) > SEAL_MAX_PX:
        raise InvalidInput(
            _("印章图像的边长须在 %(min)d 至 %(max)d 像素之间（此图 %(width)d×%(height)d）。")
            % {"min": SEAL_MIN_PX, "max": SEAL_MAX_PX, "width": width, "height": height}
        )
    if max(width, height) > SEAL_MAX_ASPECT * min(width, height):
        raise InvalidInput(
            _("印章图像须接近正方形（按 42 毫米见方印出；此图 %(width)d×%(height)d）。")
            % {"width": width, "height": height}
        )
    if not _has_transparent_ground(image):
        raise InvalidInput(_("印章图像须为透明底（带透明通道的 PNG），此图没有透明部分。"))
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "width": width, "height": height}


def _has_transparent_ground(image: Image.Image) -> bool:
    """An alpha channel or a tRNS colour, and at least one pixel it makes transparent: a scan on
    white would cover the 署名 and the date it is printed over."""
    if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
        return False
    try:
        alpha = image.convert("RGBA").getchannel("A")
    except OSError:  # truncated or corrupt pixel data
        raise InvalidInput(_("印章图像已损坏，无法读取。")) from None
    return alpha.getextrema()[0] < 255


def _stored_sha256(unit: Unit) -> str | None:
    if not unit.seal_image:
        return None
    with unit.seal_image.open("rb") as stored:
        return hashlib.sha256(stored.read()).hexdigest()


def unit_add_member(*, actor: AbstractBaseUser | None, unit: Unit, user: AbstractBaseUser) -> bool:
    """Make a person a member of a unit. Returns False (and records nothing) when they already are."""
    require_administrator(actor)
    with transaction.atomic():
        if unit.group.user_set.filter(pk=user.pk).exists():
            return False
        unit.group.user_set.add(user)
        audit_record(
            actor=actor,
            verb=AuditVerb.MEMBER_ADDED,
            object_type="User",
            object_id=user.pk,
            unit=unit,
            payload={"username": user.get_username()},
        )
    return True


def unit_remove_member(*, actor: AbstractBaseUser | None, unit: Unit, user: AbstractBaseUser) -> bool:
    require_administrator(actor)
    with transaction.atomic():
        if not unit.group.user_set.filter(pk=user.pk).exists():
            return False
        unit.group.user_set.remove(user)
        audit_record(
            actor=actor,
            verb=AuditVerb.MEMBER_REMOVED,
            object_type="User",
            object_id=user.pk,
            unit=unit,
            payload={"username": user.get_username()},
        )
    return True


_NON_MEMBER_ROLES = (Role.AUDITOR, Role.READER)


def role_grant(
    *,
    actor: AbstractBaseUser | None,
    unit: Unit,
    role: Role | str,
    user: AbstractBaseUser | None = None,
    group: Group | None = None,
) -> bool:
    """Grant a role on a unit to a person or a group (a guardian object permission on the unit).

    Operational roles (clerk, drafter, signer, leader, handler) are for the unit's own people: the
    person is made a member first. An auditor need not be a member (auditors usually sit in an
    inspection office), nor a reader (阅文人): a member sees everything the unit received, a reader
    only what is passed to them to read (传阅).
    Inside a unit: 承办人 (handler) is a role on a department (内设机构) only; 领导 (leader) and 阅文人
    (reader) are roles on the unit, never on a department.
    Returns False when the grant already existed.
    """
    require_administrator(actor)
    if role not in Role.values:
        raise InvalidInput(_("角色“%(role)s”不存在。") % {"role": role})
    is_department = unit.kind == Unit.Kind.INNER_DEPARTMENT
    if role == Role.HANDLER and not is_department:
        raise InvalidInput(_("承办人只能是内设机构的角色，%(name)s不是内设机构。") % {"name": unit.name})
    if role in (Role.LEADER, Role.READER) and is_department:
        raise InvalidInput(
            _("%(role)s是单位的角色，不能授予内设机构%(name)s。") % {"role": Role(role).label, "name": unit.name}
        )
    if (user is None) == (group is None):
        raise InvalidInput(_("角色必须授予一个人或一个组。"))
    if not unit.is_active:
        # A role on an inactive unit would grant nothing (unit_list_with_role skips such units).
        raise InvalidInput(_("单位“%(name)s”已停用，不能授予角色。") % {"name": unit.name})
    holder = user if user is not None else group
    perm = f"units.{role}"
    with transaction.atomic():
        if user is not None and role not in _NON_MEMBER_ROLES:
            unit_add_member(actor=actor, unit=unit, user=user)
        if _holds(holder, unit, role):
            return False
        assign_perm(perm, holder, unit)
        audit_record(
            actor=actor,
            verb=AuditVerb.ROLE_GRANTED,
            object_type="User" if user else "Group",
            object_id=holder.pk,
            unit=unit,
            payload={"role": str(role), "holder": str(holder)},
        )
    return True


def role_revoke(
    *,
    actor: AbstractBaseUser | None,
    unit: Unit,
    role: Role | str,
    user: AbstractBaseUser | None = None,
    group: Group | None = None,
) -> bool:
    require_administrator(actor)
    if (user is None) == (group is None):
        raise InvalidInput(_("角色必须从一个人或一个组收回。"))
    holder = user if user is not None else group
    with transaction.atomic():
        if not _holds(holder, unit, role):
            return False
        remove_perm(f"units.{role}", holder, unit)
        audit_record(
            actor=actor,
            verb=AuditVerb.ROLE_REVOKED,
            object_type="User" if user else "Group",
            object_id=holder.pk,
            unit=unit,
            payload={"role": str(role), "holder": str(holder)},
        )
    return True


def _holds(holder: AbstractBaseUser | Group, unit: Unit, role: str) -> bool:
    model, key = (
        (UnitGroupObjectPermission, "group") if isinstance(holder, Group) else (UnitUserObjectPermission, "user")
    )
    return model.objects.filter(
        **{key: holder}, content_object=unit, permission__codename=role, permission__content_type__app_label="units"
    ).exists()


def recipient_group_save(
    *, actor: AbstractBaseUser | None, owner: Unit, name: str, members: Iterable[Unit]
) -> RecipientGroup:
    """Create or replace a recipient group (收文对象组) of a unit with exactly these member units."""
    require_administrator(actor)
    name = name.strip()
    members = list(members)
    if not name:
        raise InvalidInput(_("收文对象组名称不能为空。"))
    if not members:
        raise InvalidInput(_("收文对象组“%(name)s”没有成员单位。") % {"name": name})
    departments = [unit.name for unit in members if unit.kind == Unit.Kind.INNER_DEPARTMENT]
    if departments:
        # A department receives nothing from outside: its work comes from its unit's 批办.
        raise InvalidInput(_("内设机构不能作为收文单位：%(names)s。") % {"names": display_list(departments)})
    with transaction.atomic():
        group, _created = RecipientGroup.objects.get_or_create(owner=owner, name=name)
        group.members.set(members)
        audit_record(
            actor=actor,
            verb=AuditVerb.RECIPIENT_GROUP_SAVED,
            object_type="RecipientGroup",
            object_id=group.pk,
            unit=owner,
            payload={"name": name, "member_ids": sorted(unit.pk for unit in members)},
        )
    return group


def number_series_set(*, actor: AbstractBaseUser | None, prefix: str, year: int, last_serial: int) -> NumberSeries:
    """Set where a (prefix, year) series continues: the next issue gets last_serial + 1.

    For an office adopting the system mid-year. Refuses to move a series back below a number that
    was already issued in it (that would hand out the same number twice).
    """
    require_administrator(actor)
    if last_serial < 0:
        raise InvalidInput(_("序号不能为负数。"))
    with transaction.atomic():
        try:
            number_prefix = NumberPrefix.objects.get(prefix=prefix)
        except NumberPrefix.DoesNotExist:
            raise InvalidInput(_("发文字号前缀“%(prefix)s”不存在。") % {"prefix": prefix}) from None
        series, _created = NumberSeries.objects.select_for_update().get_or_create(prefix=number_prefix, year=year)
        highest = (
            Document.objects.filter(number_prefix=prefix, number_year=year).aggregate(top=Max("number_serial"))["top"]
            or 0
        )
        if last_serial < highest:
            raise Conflict(
                _("%(prefix)s〔%(year)d〕已经用到 %(highest)d 号，不能改回 %(serial)d。")
                % {"prefix": prefix, "year": year, "highest": highest, "serial": last_serial}
            )
        series.last_serial = last_serial
        series.save(update_fields=["last_serial"])
        audit_record(
            actor=actor,
            verb=AuditVerb.NUMBER_SERIES_SET,
            object_type="NumberSeries",
            object_id=series.pk,
            unit=number_prefix.unit_id,
            payload={"prefix": prefix, "year": year, "last_serial": last_serial},
        )
    return series
