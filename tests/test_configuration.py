"""The README and .env.example name every environment variable the settings read."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _variables_read() -> set[str]:
    settings = (ROOT / "config/settings.py").read_text(encoding="utf-8")
    return set(re.findall(r'env(?:\.[a-z_]+)?\("([A-Z_]+)"', settings))


def test_the_settings_read_the_variables_we_expect():
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "EMAIL_URL"} <= _variables_read()


def test_every_variable_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert sorted(name for name in _variables_read() if f"`{name}`" not in readme) == []


def test_every_variable_is_in_the_env_example():
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^([A-Z_]+)=", example, flags=re.MULTILINE))
    assert sorted(_variables_read() - listed) == []
