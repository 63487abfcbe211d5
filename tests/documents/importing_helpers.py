"""Shared by the import tests: the seed, read from the tests' own copy (never from shared/)."""

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
SEED_NAME = "seed_000_cdb95329a9a2d0e5.txt"


def seed_text() -> str:
    return (DATA / SEED_NAME).read_text(encoding="utf-8")


def seed_bytes() -> bytes:
    return (DATA / SEED_NAME).read_bytes()
