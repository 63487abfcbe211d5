#!/usr/bin/env python
"""make bench: the engine against the physical limits of this machine's PostgreSQL and Redis.

Creates its own database (gongwen_bench_run, dropped at the end) next to the one DATABASE_URL
names, uses its own Redis key prefix on the Redis REDIS_URL names (its keys deleted at the end),
starts its own workers and gunicorn, prints a table and writes bench/results.json, bench/fanout.png
and bench/urgent.png. `--quick` runs every section at small sizes (checks the harness, not the
engine). README.md, "Benchmarks", says what each number means.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Its own database; BENCH_DATABASE names another (two benches at once must not drop each other's).
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "gongwen_bench_run")


def _database_urls() -> tuple[str, str]:
    """(the bench database's URL, the maintenance database's URL), from DATABASE_URL."""
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gongwen")
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("make bench needs DATABASE_URL to name a PostgreSQL server")
    return urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}")), urlunsplit(parts._replace(path="/postgres"))


def _recreate_database(maintenance_url: str, *, create: bool) -> None:
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        if create:
            conn.execute(f"CREATE DATABASE {BENCH_DATABASE}")


def _configure() -> dict:
    bench_url, maintenance_url = _database_urls()
    prefix = f"gongwen-bench-{os.getpid()}:"
    os.environ.update(
        {
            "DATABASE_URL": bench_url,
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "BROKER_KEY_PREFIX": prefix,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-secret",
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    return {"bench_url": bench_url, "maintenance_url": maintenance_url, "prefix": prefix}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check the harness in a minute")
    parser.add_argument(
        "--sections", default="fanout,urgent,receipts,api_receipts,chain_view,audit_verify,evidence,importing,exchange"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the benchmark database and its working directory (the bundles)"
    )
    args = parser.parse_args()
    config = _configure()
    print(f"load before: {_load()}", flush=True)
    _recreate_database(config["maintenance_url"], create=True)
    workdir = Path(tempfile.mkdtemp(prefix="gongwen-bench-"))
    try:
        import django

        django.setup()
        from bench import sections

        results = sections.run_all(args, workdir)
    finally:
        _cleanup(config, workdir, keep=args.keep)
    out = ROOT / "bench" / "results.json"
    # make bench-scale's figures ("scale") stay: the two benches write one file.
    previous = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    if "scale" in previous:
        results["scale"] = previous["scale"]
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}, bench/fanout.png, bench/urgent.png")
    return 0


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} cores"


def _cleanup(config: dict, workdir: Path, *, keep: bool) -> None:
    try:
        from django.db import connections

        connections.close_all()
    except Exception as error:  # cleaning up after a failure must not hide it
        print(f"closing connections: {error}", file=sys.stderr)
    try:
        import redis

        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        keys = list(client.scan_iter(match=f"{config['prefix']}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    except Exception as error:
        print(f"deleting the Redis keys {config['prefix']}*: {error}", file=sys.stderr)
    if not keep:
        _recreate_database(config["maintenance_url"], create=False)
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"kept {BENCH_DATABASE} and {workdir}", flush=True)


if __name__ == "__main__":
    # The sections run workers and servers as child processes; a stray thread must not hold the exit.
    code = main()
    sys.stdout.flush()
    os._exit(code) if threading.active_count() > 1 else sys.exit(code)
