"""`make run`'s database is SQLite: the statements written out by hand (签收, the audit INSERT, the
recall's notices) run there too. One subprocess, on a file of its own: migrate, the demo, then a
sign-for (first and repeat), a recall, a signed checkpoint (the Merkle tree's table) and the audit
chain against it, as a clerk, an issuer and the beat would, and the webhook calls they make; and
SQLite plans every hand-written statement that runs on it (tests/test_sql.py lists them)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.test_sql import statements

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import json
from django.contrib.auth import get_user_model
from django.db import connection
from tests.test_sql import statements
from workflow import services
from workflow.audit import audit_verify
from workflow.models import Delivery, Dispatch, Notification
from workflow.demo import DRILL_TITLE

users = get_user_model().objects
drill = Delivery.objects.get(document__title=DRILL_TITLE, unit__group__user__username="jygw")
from api.services import api_client_create
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_events_derive, webhook_subscription_create
oa, _key = api_client_create(actor=users.get(username="admin"), unit=drill.unit, name="OA", scopes=["webhooks"])
webhook_subscription_create(
    actor=users.get(username="admin"), client=oa, url="https://10.20.3.4/hooks", event_types=["signed", "recalled"]
)
first = services.delivery_sign_for(actor=users.get(username="jygw"), delivery_id=drill.pk)
again = services.delivery_sign_for(actor=users.get(username="jygw"), delivery_id=drill.pk)
recalled = services.dispatch_recall(actor=users.get(username="zzb"), dispatch_id=drill.dispatch_id, reason="演练结束")
from workflow.audit_tree import tree_head
from workflow.checkpoints import checkpoint_write
from workflow.models import AuditEvent
written = checkpoint_write()
since = audit_verify(since=written.checkpoint.name)
full = audit_verify()
webhook_calls = [webhook_events_derive(), webhook_events_derive()]
planned = []
with connection.cursor() as cursor:
    for name, build in sorted(statements("sqlite").items()):
        sql, params = build()
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        planned.append(name)
print(json.dumps({
    "same_receipt": first.pk == again.pk,
    "signed_at_aware": first.signed_at.utcoffset() is not None and again.signed_at == first.signed_at,
    "receipt_unit": again.unit.name,
    "number": again.delivery.document.number,
    "recalled": recalled,
    "told": Notification.objects.filter(kind="recalled", delivery__dispatch_id=drill.dispatch_id).count(),
    "audit": audit_verify().is_intact,
    "checkpoint": [written.checkpoint.tree_size == AuditEvent.objects.count(), full.checkpoints, since.is_intact],
    "root": written.checkpoint.root_hash == tree_head(written.checkpoint.tree_size).hex(),
    "planned": planned,
    "webhook_calls": webhook_calls + sorted(WebhookDelivery.objects.values_list("event_type", flat=True)),
}))
"""


def test_sign_for_recall_and_audit_work_on_the_embedded_sqlite_database(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "1",
        "SECRET_KEY": "embedded-test",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": str(tmp_path / "media"),
        # Not the project's var/checkpoints, nor a demo key named in its .env.
        "AUDIT_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
        "AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit-signing.key"),
        "AUDIT_PUBLIC_KEY_FILE": "",
        "WEBHOOK_ALLOWED_HOSTS": "10.20.3.4",
    }
    # The broker stays this run's Redis prefix (its keys are deleted at the end): what is tested here
    # is the database, and the filesystem broker would leave messages in the project's var/.

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "-v0")
    manage("demo")
    manage("audit_keygen", env["AUDIT_SIGNING_KEY_FILE"])
    result = json.loads(manage("shell", "-c", SCRIPT).strip().splitlines()[-1])

    assert result == {
        "same_receipt": True,
        "signed_at_aware": True,
        "receipt_unit": "中共内蒙古自治区教育工作委员会",
        "number": result["number"],
        # The drill went to three units: jygw's signed for it (held), the two others had not.
        "recalled": {"withdrawn": 2, "held": 1, "downstream": 0},
        "told": 3,
        "audit": True,
        "checkpoint": [True, 1, True],  # a checkpoint signed, checked by both verifications, on SQLite
        "root": True,
        "planned": sorted(statements("sqlite")),
        # The webhooks' derivation, written out for both databases: the sign-for and the recall.
        "webhook_calls": [2, 0, "recalled", "signed"],
    }
    assert result["number"].startswith("内组电明字〔")
