#!/usr/bin/env python3
import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
VENV = BASE_DIR / ".venv"


def _use_the_project_virtualenv() -> None:
    """Started by another Python (`python manage.py …` with the system's python), run again with the
    project's .venv, where Django and the pinned packages are: the README's commands then work as
    printed. Nothing happens when this already is the .venv's Python, when there is no .venv (a
    deployment that installs the packages its own way), or after one re-run (never a loop)."""
    python = VENV / "bin" / "python"
    # sys.prefix names the virtualenv even though its bin/python links to the base interpreter.
    if Path(sys.prefix).resolve() == VENV.resolve():
        os.environ.pop("GONGWEN_VENV_REEXEC", None)  # so that a manage.py this one starts decides afresh
        return
    if not python.exists() or os.environ.get("GONGWEN_VENV_REEXEC"):
        return
    os.environ["GONGWEN_VENV_REEXEC"] = "1"
    os.execv(python, [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])  # noqa: S606 (this script, again)


if __name__ == "__main__":
    _use_the_project_virtualenv()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
