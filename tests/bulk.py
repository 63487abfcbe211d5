"""A large directory, built in bulk: thousands of units, each with one clerk, and a recipient group.

The fault tests and the benchmarks need 10^4 to 10^5 recipient units. Through the services (one
transaction, one group, one audit event and a permission check per unit) that takes minutes; here it
is a handful of bulk inserts. Only the directory is built this way: every document, dispatch,
delivery and receipt still goes through the real services.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction

from units.models import RecipientGroup, Role, Unit, UnitUserObjectPermission

BATCH = 5000


@dataclass
class BulkUnits:
    unit_ids: list[int]
    clerk_ids: list[int]
    group: RecipientGroup | None


def bulk_units(
    count: int, *, parent: Unit, label: str, group_owner: Unit | None = None, email_domain: str = "example.org"
) -> BulkUnits:
    """`count` active units under `parent`, each with one clerk (a member holding the clerk role).

    Names are `{label}-{n}`, usernames `{label}-clerk-{n}`. With `group_owner`, also a recipient
    group of that unit named `{label}` holding all of them.
    """
    user_model = get_user_model()
    password = make_password("bulk-password")  # one hash for all: hashing 10^5 times proves nothing
    clerk = Permission.objects.get(codename=Role.CLERK, content_type__app_label="units")
    unit_ids: list[int] = []
    clerk_ids: list[int] = []
    with transaction.atomic():
        for start in range(0, count, BATCH):
            numbers = range(start, min(start + BATCH, count))
            groups = Group.objects.bulk_create(Group(name=f"unit:{label}-{n}") for n in numbers)
            units = Unit.objects.bulk_create(
                Unit(name=f"{label}-{n}", short_name=f"{label}-{n}", parent=parent, path="/", group=group)
                for n, group in zip(numbers, groups, strict=True)
            )
            users = user_model.objects.bulk_create(
                user_model(username=f"{label}-clerk-{n}", email=f"{label}-clerk-{n}@{email_domain}", password=password)
                for n in numbers
            )
            user_model.groups.through.objects.bulk_create(
                user_model.groups.through(user_id=user.pk, group_id=group.pk)
                for user, group in zip(users, groups, strict=True)
            )
            UnitUserObjectPermission.objects.bulk_create(
                UnitUserObjectPermission(permission=clerk, user=user, content_object=unit)
                for user, unit in zip(users, units, strict=True)
            )
            unit_ids += [unit.pk for unit in units]
            clerk_ids += [user.pk for user in users]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Unit._meta.db_table} SET path = %s || id || '/' WHERE id = ANY(%s)",
                [parent.path, unit_ids],
            )
        group = None
        if group_owner is not None:
            group = RecipientGroup.objects.create(owner=group_owner, name=label)
            through = RecipientGroup.members.through
            through.objects.bulk_create(
                (through(recipientgroup_id=group.pk, unit_id=unit_id) for unit_id in unit_ids), batch_size=BATCH
            )
    return BulkUnits(unit_ids, clerk_ids, group)
