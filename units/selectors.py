"""Reads about who may do what for which unit. Every function returns a lazy queryset, so callers
embed it as a subquery; nothing here evaluates an id list."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Concat, Replace
from django.db.models.lookups import StartsWith
from django.utils.translation import gettext as _

from units.display import display_list
from units.errors import InvalidInput
from units.models import RecipientGroup, Role, Unit, UnitGroupObjectPermission, UnitUserObjectPermission
from units.sql import granted_unit_ids


def _is_active_user(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def unit_list_for_member(user: AbstractBaseUser | AnonymousUser | None) -> QuerySet[Unit]:
    """The units a person belongs to (members of the unit's group)."""
    if not _is_active_user(user):
        return Unit.objects.none()
    return Unit.objects.filter(group__user=user, is_active=True)


def unit_list_with_role(user: AbstractBaseUser | AnonymousUser | None, role: Role | str) -> QuerySet[Unit]:
    """The units for which a person holds a role, granted to them or to a group they are in.

    Superusers get no bypass: acting for a unit is always an explicit grant.
    """
    if not _is_active_user(user):
        return Unit.objects.none()
    return Unit.objects.filter(
        pk__in=granted_unit_ids(user.pk, role),
        is_active=True,
    )


def unit_has_role(user: AbstractBaseUser | AnonymousUser | None, unit_id: int, role: Role | str) -> bool:
    return unit_list_with_role(user, role).filter(pk=unit_id).exists()


def unit_roles(user: AbstractBaseUser | AnonymousUser | None, unit_ids: list[int]) -> dict[int, frozenset[str]]:
    """The roles a person holds on each of a few active units (granted to them or to a group of
    theirs): one query. Units where they hold none are absent."""
    if not _is_active_user(user) or not unit_ids:
        return {}
    grant = Q(
        content_object_id__in=unit_ids, content_object__is_active=True, permission__content_type__app_label="units"
    )
    direct = UnitUserObjectPermission.objects.filter(grant, user=user).values_list(
        "content_object_id", "permission__codename"
    )
    via_group = UnitGroupObjectPermission.objects.filter(grant, group__user=user).values_list(
        "content_object_id", "permission__codename"
    )
    roles: dict[int, set[str]] = {}
    for unit_id, codename in direct.union(via_group):
        roles.setdefault(unit_id, set()).add(codename)
    return {unit_id: frozenset(codenames) for unit_id, codenames in roles.items()}


def user_roles_in_units(user_ids: list[int], unit_ids: list[int]) -> dict[tuple[int, int], frozenset[str]]:
    """The roles each of a few active people holds on each of a few active units (granted to them
    or to a group of theirs), by (user id, unit id): one query. Pairs with no role are absent."""
    if not user_ids or not unit_ids:
        return {}
    grant = Q(
        content_object_id__in=unit_ids, content_object__is_active=True, permission__content_type__app_label="units"
    )
    direct = UnitUserObjectPermission.objects.filter(grant, user_id__in=user_ids, user__is_active=True).values_list(
        "user_id", "content_object_id", "permission__codename"
    )
    via_group = UnitGroupObjectPermission.objects.filter(
        grant, group__user__in=user_ids, group__user__is_active=True
    ).values_list("group__user__id", "content_object_id", "permission__codename")
    roles: dict[tuple[int, int], set[str]] = {}
    for user_id, unit_id, codename in direct.union(via_group):
        roles.setdefault((user_id, unit_id), set()).add(codename)
    return {key: frozenset(codenames) for key, codenames in roles.items()}


def audit_scope_covers(user: AbstractBaseUser | AnonymousUser | None, *paths: str) -> Expression:
    """Whether any unit whose path is one of `paths` (fields of the filtered model, such as
    "unit__path") is in the subtree of a unit the person audits.

    On PostgreSQL, `path LIKE ANY (ARRAY(the audited units' paths, as prefixes))`: the ARRAY does
    not depend on the row, so it is an InitPlan that runs once a statement, and each row pays one
    comparison per audited unit. As a correlated EXISTS it re-ran the role rule for every row: 15 µs
    a row, 150 ms of the chains list's 10^4 documents (issue 18). Never a list of every unit in scope.
    """
    audited = unit_list_with_role(user, Role.AUDITOR)
    if connection.vendor != "postgresql":
        # SQLite (the embedded default) has no arrays: the rule row by row.
        in_subtree = Q()
        for path in paths:
            in_subtree |= Q(StartsWith(ExpressionWrapper(OuterRef(path), output_field=CharField()), F("path")))
        return Exists(audited.filter(in_subtree))
    prefixes = audited.order_by().annotate(prefix=_like_prefix(F("path"))).values("prefix")
    covered = Q()
    for path in paths:
        covered |= Q(any_of(path, "LIKE", prefixes))
    return ExpressionWrapper(covered, output_field=BooleanField())


def any_of(field: str, operator: str, values: QuerySet) -> Func:
    """PostgreSQL: `field <operator> ANY (ARRAY(values))`, where `values` is a one-column queryset
    that does not depend on the row. The ARRAY is an InitPlan, run once a statement; an index on
    `field` takes `= ANY` as its condition. (`field IN (values)` PostgreSQL may plan as a join
    instead, or a hashed subplan, whichever it misjudges less.)"""
    return Func(
        F(field),
        ArraySubquery(values),
        template="%(expressions)s)",
        arg_joiner=f" {operator} ANY (",
        output_field=BooleanField(),
    )


def _like_prefix(text: F) -> Func:
    """A LIKE pattern that matches what starts with `text`: its \\, % and _ escaped, then %."""
    for special in ("\\", "%", "_"):
        text = Replace(text, Value(special), Value("\\" + special))
    return Concat(text, Value("%"), output_field=CharField())


def unit_list_in_audit_scope(user: AbstractBaseUser | AnonymousUser | None) -> QuerySet[Unit]:
    """Every unit in the subtree of a unit the person audits (the audited unit included).

    A unit is in scope when an audited unit's path is a prefix of its path (audit_scope_covers: on
    PostgreSQL each unit's path against the audited units' prefixes, computed once a statement).
    """
    return Unit.objects.filter(audit_scope_covers(user, "path"))


def unit_list_addressable() -> QuerySet[Unit]:
    """The units a document may be addressed to (主送, 抄送, a recipient group's members): the active
    units, departments (内设机构) excepted: a department receives nothing from outside, its work
    comes from its unit's 批办. Every recipient picker lists units from here."""
    return Unit.objects.filter(is_active=True).exclude(kind=Unit.Kind.INNER_DEPARTMENT)


def unit_list_directory(words: str = "") -> QuerySet[Unit]:
    """The directory: the units one may address (`unit_list_addressable`), in directory order (the
    tree, top down); with `words`, those whose full or short name holds every word typed (at most
    five words are read).

    The directory of units is not secret: anyone signed in may address any active unit (the drafting
    page searches it, the API lists it)."""
    units = unit_list_addressable()
    for word in words.split()[:5]:
        units = units.filter(Q(name__icontains=word) | Q(short_name__icontains=word))
    return units.order_by("path")


def recipient_group_list_for_user(user: AbstractBaseUser | AnonymousUser | None) -> QuerySet[RecipientGroup]:
    """The recipient groups of the units a person belongs to (what they may write in 主送), by name."""
    return RecipientGroup.objects.filter(owner__in=unit_list_for_member(user)).select_related("owner").order_by("name")


def user_list_with_role_in_units(units: QuerySet[Unit], role: Role | str) -> QuerySet:
    """(user id, unit id) pairs of the active people holding a role for any of the given units.

    Two indexed joins, one query, whatever the number of units: used to notify recipient clerks.
    Not for a unit another installation hosts (公文交换): its people are there, and its only clerk
    here is the peer's stand-in, who acts on receipts and reads nothing.
    """
    grant = Q(
        permission__codename=str(role),
        permission__content_type__app_label="units",
        content_object__peer__isnull=True,
    )
    direct = UnitUserObjectPermission.objects.filter(grant, content_object__in=units, user__is_active=True).values_list(
        "user_id", "content_object_id"
    )
    via_group = UnitGroupObjectPermission.objects.filter(
        grant, content_object__in=units, group__user__is_active=True
    ).values_list("group__user__id", "content_object_id")
    return direct.union(via_group)


def recipient_list_from_names(unit: Unit, names: list[str]) -> list[Unit | RecipientGroup]:
    """Read 主送/抄送 names as written (a unit's full or short name, or one of `unit`'s groups).

    Two queries whatever the number of names. Raises InvalidInput naming every name not found.
    """
    names = [name.strip() for name in names if name.strip()]
    groups = {group.name: group for group in RecipientGroup.objects.filter(owner=unit, name__in=names)}
    units: dict[str, Unit] = {}
    for candidate in unit_list_addressable().filter(Q(name__in=names) | Q(short_name__in=names)):
        units.setdefault(candidate.name, candidate)
        units.setdefault(candidate.short_name, candidate)
    unknown = [name for name in names if name not in groups and name not in units]
    if unknown:
        raise InvalidInput(_("未知的收文单位或收文对象组：%(names)s。") % {"names": display_list(unknown)})
    return [groups.get(name) or units[name] for name in names]
