"""The replay on `make run`'s database (SQLite), over the demo's history of October 2022.

One subprocess, on a file of its own (as tests/test_embedded_default.py): migrate, the demo, then
the seed's chain as of moments of its history. The demo's history goes through the services with
the clock moved (workflow.demo.history), so its events carry their own dates: the telegram issued on
2022-10-13 09:25, the forwards the next day, the deliveries nobody signed withdrawn on 10-14, the
last 办结 in by 10-17 18:00.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

SCRIPT = """
import datetime, json
from documents.models import Document
from workflow.demo.history import HISTORY_ENDS, TELEGRAM_ISSUED, at
from workflow.selectors import chain_as_of, chain_for_document

root = Document.objects.get(number_prefix="内组电明字", number_year=2022, number_serial=11)
present = chain_for_document(root)

def shape(tree):
    return [
        (node.depth + 1, node.number, sorted({delivery.state for delivery in node.deliveries}), len(node.deliveries))
        for node in tree.walk()
    ]

before = chain_as_of(root, moment=TELEGRAM_ISSUED - datetime.timedelta(seconds=1))
noon = chain_as_of(root, moment=at(10, 13, 12))
print(json.dumps({
    "before": before is None,
    "noon": shape(noon),
    "level_one": len(present.deliveries),
    "ended_is_present": chain_as_of(root, moment=HISTORY_ENDS).as_json() == present.as_json(),
    "now_is_present": chain_as_of(root, moment=datetime.datetime.now(datetime.UTC)).as_json() == present.as_json(),
    "present": shape(present),
}, ensure_ascii=False))
"""


def test_the_demo_chain_replays_on_the_embedded_sqlite_database(tmp_path):
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

    assert result["before"] is True
    # At noon on the 13th: the telegram alone, every unit of the first level reached, some signed
    # and none yet withdrawn (that came on the 14th), no forward issued yet (the 14th too).
    ((depth, number, states, count),) = result["noon"]
    assert (depth, number, count) == (1, "内组电明字〔2022〕11号", result["level_one"])
    assert set(states) <= {"pending", "signed", "completed"}
    assert "pending" in states
    assert "signed" in states or "completed" in states
    # Once the history is over, the replay is the chain as its rows say (and stays so until now).
    assert result["ended_is_present"] is True
    assert result["now_is_present"] is True
    assert [level for level, *_rest in result["present"]] == [1, 2, 3]
    assert {state for _level, _number, states, _count in result["present"] for state in states} == {
        "completed",
        "recalled",
    }
