"""The email outbox holds every kind of notification, DELIVERED included: notification_email_send
now sends all of them (dispatch_notify no longer emails), so its index covers every unsent row."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0007_recall_withdraws"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="notification",
            name="notification_unemailed",
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("emailed_at__isnull", True)), fields=["id"], name="notification_unemailed"
            ),
        ),
    ]
