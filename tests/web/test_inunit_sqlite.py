"""The in-unit pages on `make run`'s database (SQLite), over the demo's 内蒙古大学党委 (issue 14).

One subprocess, on a file of its own (as tests/workflow/test_chain_as_of_sqlite.py): migrate, the
demo, then each of the demo's six people inside the university opens their 待办, their 已办, the
delivery of the finished 办理单 and its printable sheet, and the 代理 page. What PostgreSQL accepts
and SQLite refuses (an ORDER BY inside a UNION's parts, for one) would show here as a 500.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

SCRIPT = """
import json
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from workflow.models import HandlingRecord

record = HandlingRecord.objects.select_related("delivery").order_by("registered_at").first()
answers = {}
for username in ("imu-office", "imu-leader", "imu-zzb", "imu-xcb", "imu-reader1", "imu-reader2"):
    client = Client(HTTP_HOST="localhost")
    person = get_user_model().objects.get(username=username)
    client.force_login(person, backend="django.contrib.auth.backends.ModelBackend")
    pages = [
        reverse("todo"),
        reverse("todo") + "?tab=done",
        reverse("delivery", args=[record.delivery_id]),
        reverse("handling-sheet", args=[record.delivery_id]),
        reverse("delegations"),
    ]
    answers[username] = [client.get(page).status_code for page in pages]
print(json.dumps({"answers": answers, "number": str(record)}, ensure_ascii=False))
"""


def test_the_demos_people_open_their_pages_on_the_embedded_sqlite_database(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "1",
        "SECRET_KEY": "embedded-test",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "-v0")
    manage("demo")
    result = json.loads(manage("shell", "-c", SCRIPT).strip().splitlines()[-1])

    assert result["number"] == "收〔2022〕1号"  # the seed's forward, registered on 2022-10-14
    # Everyone of the unit's record sees it: the office and the leader as members, the departments
    # by their assignments, the readers by their slips.
    assert result["answers"] == {username: [200] * 5 for username in result["answers"]}
