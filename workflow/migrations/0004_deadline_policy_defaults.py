"""The default 办理时限 by urgency (editable in the admin afterwards).

Neither the 条例 nor GB/T 9704 gives numbers; these follow common telegram-handling practice
(特提 within a day, 特急 3, 加急 5, 平急 10 days) with a sign-for clock before it. Copied here, not
imported, because a migration must not change when the code does.
"""

from django.db import migrations

DEFAULTS = [
    # urgency, sign-for (amount, unit), completion (amount, unit)
    ("特提", 30, "minutes", 1, "working_days"),
    ("特急", 2, "hours", 3, "working_days"),
    ("加急", 4, "hours", 5, "working_days"),
    ("平急", 1, "working_days", 10, "working_days"),
    ("普通", 1, "working_days", 10, "working_days"),
]


def create_defaults(apps, schema_editor):
    DeadlinePolicy = apps.get_model("workflow", "DeadlinePolicy")
    DeadlinePolicy.objects.bulk_create(
        [
            DeadlinePolicy(
                urgency=urgency,
                sign_for_amount=sign_amount,
                sign_for_unit=sign_unit,
                complete_amount=complete_amount,
                complete_unit=complete_unit,
            )
            for urgency, sign_amount, sign_unit, complete_amount, complete_unit in DEFAULTS
        ],
        ignore_conflicts=True,
    )


def remove_defaults(apps, schema_editor):
    apps.get_model("workflow", "DeadlinePolicy").objects.filter(urgency__in=[row[0] for row in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("workflow", "0003_deadlines_reminders_recall_return_complete")]
    operations = [migrations.RunPython(create_defaults, remove_defaults)]
