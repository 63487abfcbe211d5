#!/usr/bin/env python
"""verify_audit's receipt check (workflow.receipt_audit.receipt_verify) over 100,000 receipts.

Creates a database of its own next to the one DATABASE_URL names (its name + "_receipt_check",
dropped at the end), migrates it, builds the tests' small world and 100,000 units with one clerk
each (tests/bulk.py), issues one document to them and routes it through the services (100,000
deliveries). Then every delivery is signed for in bulk, as `delivery_sign_for` would sign it (the
delivery moved to 已签收, its receipt, a DELIVERY_SIGNED event with the receipt's id, digest and time)
in one transaction under the chain's lock, the events appended by COPY with their hashes: signing
them one service call at a time would take minutes, and the check reads the rows, not how they came.
Prints the receipt check's time (best of three) and, for reference, the whole chain's audit_verify.

    .venv/bin/python bench/receipt_check.py [--receipts 100000]
"""

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _urls() -> tuple[str, str, str]:
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gongwen")
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("bench/receipt_check.py needs DATABASE_URL to name a PostgreSQL server")
    name = parts.path.lstrip("/") + "_receipt_check"
    return name, urlunsplit(parts._replace(path=f"/{name}")), urlunsplit(parts._replace(path="/postgres"))


def _recreate(maintenance_url: str, name: str, *, create: bool) -> None:
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


def _sign_all(world, dispatch, clerk_of: dict[int, int]) -> int:
    """Sign every delivery of `dispatch` for, in bulk, with what delivery_sign_for writes."""
    from django.db import connection, transaction
    from django.utils import timezone

    from workflow.audit import _AUDIT_LOCK_KEY, GENESIS_HASH, event_hash
    from workflow.models import AuditEvent, AuditVerb, Delivery
    from workflow.receipt_audit import signed_at_text

    digest = dispatch.document.digest
    deliveries = list(Delivery.objects.filter(dispatch=dispatch).order_by("id").values_list("id", "unit_id"))
    start = timezone.now()
    moments = [start + datetime.timedelta(microseconds=37 * n) for n in range(len(deliveries))]
    ids = [delivery_id for delivery_id, _unit in deliveries]
    units = [unit_id for _delivery, unit_id in deliveries]
    clerks = [clerk_of[unit_id] for unit_id in units]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_AUDIT_LOCK_KEY])
        cursor.execute(
            "UPDATE workflow_delivery d SET state = 'signed', signed_at = t.at, read_at = t.at, read_by_id = t.clerk "
            "FROM unnest(%s::bigint[], %s::timestamptz[], %s::bigint[]) AS t(id, at, clerk) WHERE d.id = t.id",
            [ids, moments, clerks],
        )
        cursor.execute(
            "INSERT INTO workflow_receipt (delivery_id, unit_id, signed_by_id, signed_at, content_digest) "
            "SELECT t.id, t.unit, t.clerk, t.at, %s "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::timestamptz[]) AS t(id, unit, clerk, at) "
            "ORDER BY t.id RETURNING id, delivery_id",
            [digest, ids, units, clerks, moments],
        )
        receipt_of = dict((delivery_id, receipt_id) for receipt_id, delivery_id in cursor.fetchall())
        head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first() or (0, GENESIS_HASH)
        seq, prev = head
        raw = connection.connection
        with (
            raw.cursor() as raw_cursor,
            raw_cursor.copy(
                "COPY workflow_auditevent (seq, occurred_at, actor_id, unit_id, verb, object_type, object_id, "
                "document_id, payload, prev_hash, hash) FROM STDIN"
            ) as copy,
        ):
            for delivery_id, unit_id, clerk_id, at in zip(ids, units, clerks, moments, strict=True):
                seq += 1
                fields = {
                    "seq": seq,
                    "occurred_at": at,
                    "actor_id": clerk_id,
                    "unit_id": unit_id,
                    "verb": AuditVerb.DELIVERY_SIGNED.value,
                    "object_type": "Delivery",
                    "object_id": str(delivery_id),
                    "document_id": dispatch.document_id,
                    "payload": {
                        "receipt_id": receipt_of[delivery_id],
                        "content_digest": digest,
                        "signed_at": signed_at_text(at),
                    },
                }
                digest_of_event = event_hash(**fields, prev_hash=prev)
                copy.write_row((*list(fields.values())[:8], json.dumps(fields["payload"]), prev, digest_of_event))
                prev = digest_of_event
    return len(ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    name, url, maintenance_url = _urls()
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-secret",
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "EMAIL_URL": "dummymail://",
            "LOG_LEVEL": "WARNING",
        }
    )
    print(f"load before: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores", flush=True)
    _recreate(maintenance_url, name, create=True)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        from tests.bulk import bulk_units
        from tests.factories import build_world, issue
        from workflow.audit import audit_verify
        from workflow.receipt_audit import receipt_verify

        call_command("migrate", verbosity=0)
        t = time.monotonic()
        world = build_world()
        pool = bulk_units(args.receipts, parent=world.region, label="r", group_owner=world.department)
        _document, dispatch = issue(world.zzb, world.department, main=[pool.group])
        signed = _sign_all(world, dispatch, dict(zip(pool.unit_ids, pool.clerk_ids, strict=True)))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"built {signed:,} signed deliveries in {time.monotonic() - t:.0f} s", flush=True)

        timings = []
        for _ in range(3):
            started = time.perf_counter()
            result = receipt_verify()
            timings.append(time.perf_counter() - started)
        if not result.is_intact:
            raise SystemExit("\n".join(result.lines()))
        seconds = min(timings)
        print(
            f"receipt_verify: {result.receipts:,} receipts and {result.events:,} DELIVERY_SIGNED events in "
            f"{seconds:.2f} s (runs {', '.join(f'{s:.2f}' for s in timings)}): "
            f"{result.events / seconds:,.0f} events/s"
        )
        started = time.perf_counter()
        chain = audit_verify()
        elapsed = time.perf_counter() - started
        print(f"audit_verify: {chain.events:,} events in {elapsed:.2f} s: {chain.events / elapsed:,.0f} events/s")
        connections.close_all()
    finally:
        if not args.keep:
            _recreate(maintenance_url, name, create=False)
    print(f"load after: {os.getloadavg()[0]:.2f} (1 min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
