"""The role rule written out as SQL, and the helpers every hand-written statement names things with.

The product's other hand-written statements are in workflow/sql.py. This one stays in units/
because `unit_list_with_role` (units/selectors.py) embeds it, and dependencies point one way
(units <- documents <- workflow): units may not import from workflow. workflow/sql.py imports it.

Table and column names come from the models' _meta, quoted; values are always parameters. Every
line ruff flags as S608 says why it is safe; tests/test_sql.py refuses such a line anywhere but in
the two sql modules, and has PostgreSQL plan every statement, so a renamed column fails a test.
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.expressions import RawSQL

from units.models import Role, Unit, UnitGroupObjectPermission, UnitUserObjectPermission


def quoted(name: str) -> str:
    """An identifier quoted as standard SQL writes it, which PostgreSQL and SQLite both read (as
    Django does: a name that is a keyword, such as Notification.round, stays a name)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A constant of the code (a state, an app label) as an SQL string literal. Never for input."""
    return "'" + value.replace("'", "''") + "'"


def table(model: type[models.Model]) -> str:
    return quoted(model._meta.db_table)


def column(model: type[models.Model], field_name: str, alias: str = "") -> str:
    """The column of `model`'s field, as `alias."column"` when an alias is given. A field renamed
    in the model fails here, when the statement is built, not in the database."""
    name = quoted(model._meta.get_field(field_name).column)
    return f"{alias}.{name}" if alias else name


def pk(model: type[models.Model], alias: str = "") -> str:
    name = quoted(model._meta.pk.column)
    return f"{alias}.{name}" if alias else name


@functools.cache
def granted_unit_ids_sql(user: str, role: str) -> str:
    """The ids of the units on which a person holds a role, granted to them or to a group they are in.

    `user` and `role` are the placeholders of the person's id and of the role's codename: "%s" in
    a queryset's RawSQL (parameters user, role, user, role), "%(user_id)s" and "%(role)s" in a
    statement with named parameters (role_params). Written out rather than built by the ORM: every
    door and role check embeds it, and building the same two joined subqueries through the ORM
    cost about 3 ms a check (make bench, receipts).
    """
    direct, via_group = UnitUserObjectPermission, UnitGroupObjectPermission
    memberships = get_user_model().groups
    member, group = quoted(memberships.field.m2m_column_name()), quoted(memberships.field.m2m_reverse_name())
    codename = column(Permission, "codename", "p")

    def granted(grants: type[models.Model]) -> str:
        """The grants' table `g` joined to the permissions of units' roles, `p`."""
        return (
            f"{table(grants)} g JOIN {table(Permission)} p "
            f"ON {pk(Permission, 'p')} = {column(grants, 'permission', 'g')} "
            f"JOIN {table(ContentType)} ct ON {pk(ContentType, 'ct')} = {column(Permission, 'content_type', 'p')} "
            f"AND {column(ContentType, 'app_label', 'ct')} = {literal(Unit._meta.app_label)}"
        )

    return (
        f"SELECT {column(direct, 'content_object', 'g')} FROM {granted(direct)} "  # noqa: S608 (names from _meta, values are parameters)
        f"WHERE {column(direct, 'user', 'g')} = {user} AND {codename} = {role} "
        f"UNION ALL SELECT {column(via_group, 'content_object', 'g')} FROM {granted(via_group)} "
        f"JOIN {table(memberships.through)} m ON m.{group} = {column(via_group, 'group', 'g')} "
        f"WHERE m.{member} = {user} AND {codename} = {role}"
    )


def granted_unit_ids(user_id: int, role: Role | str) -> RawSQL:
    """`granted_unit_ids_sql` as a subquery for a queryset (`pk__in=`)."""
    return RawSQL(granted_unit_ids_sql("%s", "%s"), [user_id, str(role), user_id, str(role)])  # noqa: S611 (names from _meta, values are parameters)


@functools.cache
def role_condition_sql(unit_column: str) -> str:
    """The rule of `unit_list_with_role` as a condition of a statement with named parameters:
    whether the person holds the role on the active unit whose id is in `unit_column`. Its
    parameters are `role_params`'s."""
    return (
        f"{unit_column} IN (SELECT {pk(Unit, 'ru')} FROM {table(Unit)} ru "  # noqa: S608 (names from _meta, values are parameters)
        f"WHERE {column(Unit, 'is_active', 'ru')} AND {pk(Unit, 'ru')} IN "
        f"({granted_unit_ids_sql('%(user_id)s', '%(role)s')}))"
    )


def role_params(user: AbstractBaseUser | AnonymousUser | None, role: Role | str) -> dict:
    """The parameters of `role_condition_sql`. Nobody, or a deactivated person, is passed as NULL,
    which no grant's person equals: the condition is false, as `unit_list_with_role` is empty for
    them, and the statement's text stays one (prepared once, whoever asks)."""
    active = user is not None and user.is_authenticated and user.is_active
    return {"user_id": user.pk if active else None, "role": str(role)}
