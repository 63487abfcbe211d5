"""Reads about who may do what for which unit. Every function returns a lazy queryset, so callers
embed it as a subquery; nothing here evaluates an id list."""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.lookups import StartsWith
from django.utils.translation import gettext as _

from units.display import display_list
from units.errors import InvalidInput
from units.models import RecipientGroup, Role, Unit, UnitGroupObjectPermission, UnitUserObjectPermission


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
        # Table names only in the text; every value is a parameter.
        pk__in=RawSQL(_granted_units_sql(), [user.pk, str(role), user.pk, str(role)]),  # noqa: S611
        is_active=True,
    )


@functools.cache
def _granted_units_sql() -> str:
    """The ids of the units on which a person holds a role, directly or through a group.

    Written out rather than built by the ORM: every door and role check embeds it, and building the
    same two joined subqueries through the ORM cost about 3 ms a check (make bench, receipts).
    """
    permission, content_type = Permission._meta.db_table, ContentType._meta.db_table
    memberships = get_user_model().groups.through._meta.db_table
    granted = (
        f"JOIN {permission} p ON p.id = g.permission_id JOIN {content_type} ct ON ct.id = p.content_type_id "
        "AND ct.app_label = 'units'"
    )
    return (
        f"SELECT g.content_object_id FROM {UnitUserObjectPermission._meta.db_table} g {granted} "
        "WHERE g.user_id = %s AND p.codename = %s "
        f"UNION ALL SELECT g.content_object_id FROM {UnitGroupObjectPermission._meta.db_table} g {granted} "
        f"JOIN {memberships} m ON m.group_id = g.group_id WHERE m.user_id = %s AND p.codename = %s"
    )


def unit_role_condition_sql(
    user: AbstractBaseUser | AnonymousUser | None, role: Role | str, unit_column: str
) -> tuple[str, list]:
    """The rule of `unit_list_with_role` as a condition for a hand-written statement: whether the
    person holds the role on the (active) unit whose id is in `unit_column`. Returns (SQL, params)."""
    if not _is_active_user(user):
        return "1 = 0", []
    sql = (
        f"{unit_column} IN (SELECT ru.id FROM {Unit._meta.db_table} ru "
        f"WHERE ru.is_active AND ru.id IN ({_granted_units_sql()}))"
    )
    return sql, [user.pk, str(role), user.pk, str(role)]


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


def audit_scope_covers(user: AbstractBaseUser | AnonymousUser | None, *paths: OuterRef) -> Exists:
    """Whether any unit whose path is one of `paths` (references into the outer query, such as
    `OuterRef("unit__path")`) is in the subtree of a unit the person audits.

    A correlated EXISTS over the person's few audited units, evaluated for the rows at hand: an
    access check on one row never lists every unit in scope.
    """
    in_subtree = Q()
    for path in paths:
        in_subtree |= Q(StartsWith(ExpressionWrapper(path, output_field=CharField()), F("path")))
    return Exists(unit_list_with_role(user, Role.AUDITOR).filter(in_subtree))


def unit_list_in_audit_scope(user: AbstractBaseUser | AnonymousUser | None) -> QuerySet[Unit]:
    """Every unit in the subtree of a unit the person audits (the audited unit included).

    A unit is in scope when an audited unit's path is a prefix of its path: one EXISTS, LIKE on the
    indexed path.
    """
    return Unit.objects.filter(audit_scope_covers(user, OuterRef("path")))


def user_list_with_role_in_units(units: QuerySet[Unit], role: Role | str) -> QuerySet:
    """(user id, unit id) pairs of the active people holding a role for any of the given units.

    Two indexed joins, one query, whatever the number of units: used to notify recipient clerks.
    """
    grant = Q(permission__codename=str(role), permission__content_type__app_label="units")
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
    for candidate in Unit.objects.filter(Q(name__in=names) | Q(short_name__in=names), is_active=True):
        units.setdefault(candidate.name, candidate)
        units.setdefault(candidate.short_name, candidate)
    unknown = [name for name in names if name not in groups and name not in units]
    if unknown:
        raise InvalidInput(_("未知的收文单位或收文对象组：%(names)s。") % {"names": display_list(unknown)})
    return [groups.get(name) or units[name] for name in names]
