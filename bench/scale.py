#!/usr/bin/env python
"""make bench-scale: the pages at national scale (issue 18), in a database of their own.

Each section is a module `bench/scale_<name>.py` with

    def run(*, quick: bool, workdir: Path) -> dict

that builds its own data (by COPY, never one row at a time) in the empty, migrated benchmark
database, measures, prints its rows, and returns its figures. A section's figures may hold
"curves": {page name: [{"size": n, "p95_ms": x}, …]}; every curve is plotted, p95 against size, in
bench/scale.png. The figures go to bench/results.json under "scale" (the rest of the file, written
by `make bench`, is kept). `--quick` runs every section at small sizes (checks the harness).

    .venv/bin/python bench/scale.py                       # every section
    .venv/bin/python bench/scale.py --sections search     # one
"""

import argparse
import importlib
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import _cleanup, _configure, _load, _recreate_database  # noqa: E402 (the path above)

SECTIONS = ("lists", "chain", "search", "load")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check the harness")
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database and working directory")
    args = parser.parse_args()
    wanted = [name for name in args.sections.split(",") if name]
    unknown = sorted(set(wanted) - set(SECTIONS))
    if unknown:
        raise SystemExit(f"unknown sections: {', '.join(unknown)} (known: {', '.join(SECTIONS)})")
    config = _configure()
    print(f"load before: {_load()}", flush=True)
    _recreate_database(config["maintenance_url"], create=True)
    workdir = Path(tempfile.mkdtemp(prefix="gongwen-bench-scale-"))
    started = time.monotonic()
    load_before = [round(x, 2) for x in os.getloadavg()[:2]]
    results: dict = {}
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        for index, name in enumerate(wanted):
            if index:  # each section builds its own data in an empty database (the directory too)
                connections.close_all()
                _recreate_database(config["maintenance_url"], create=True)
                call_command("migrate", verbosity=0)
            print(f"\n== {name}", flush=True)
            module = importlib.import_module(f"bench.scale_{name}")
            results[name] = module.run(quick=args.quick, workdir=workdir)
        from bench.sections import machine

        results["machine"] = machine(started=started, load_before=load_before, quick=args.quick)
    finally:
        _cleanup(config, workdir, keep=args.keep)
    out = ROOT / "bench" / "results.json"
    existing = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    existing["scale"] = {**existing.get("scale", {}), **results}
    out.write_text(json.dumps(existing, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    _plot(existing["scale"])
    print(f'wrote {out.relative_to(ROOT)} ("scale") and bench/scale.png')
    return 0


def _plot(scale: dict) -> None:
    """p95 against size, one line a page, from every section's "curves"."""
    from bench.sections import _pyplot

    curves = {
        f"{section}: {page}": points
        for section, figures in scale.items()
        if isinstance(figures, dict)
        for page, points in figures.get("curves", {}).items()
        if points
    }
    if not curves:
        return
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 5))
    for label, points in sorted(curves.items()):
        points = sorted(points, key=lambda point: point["size"])
        axes.plot([p["size"] for p in points], [p["p95_ms"] for p in points], "o-", label=label)
    axes.set_xscale("log")
    axes.set_xlabel("size (rows the page stands on)")
    axes.set_ylabel("p95, ms")
    axes.set_title("Pages at scale: p95 against size")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(Path(__file__).parent / "scale.png", dpi=120)
    plt.close(figure)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code) if threading.active_count() > 1 else sys.exit(code)
