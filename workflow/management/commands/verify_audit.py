from django.core.management.base import BaseCommand

from workflow.audit import audit_verify
from workflow.receipt_audit import receipt_verify


class Command(BaseCommand):
    help = (
        "Check every receipt against its DELIVERY_SIGNED event, recompute the audit log's hash chain and check "
        "it against every signed checkpoint; exit 1 naming what is broken. --since CHECKPOINT trusts that "
        "checkpoint (its signature checked) and verifies only the events after it (not the receipts, a full pass)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", metavar="CHECKPOINT", help="a checkpoint file (name or path)")

    def handle(self, *args, since: str | None, **options):
        receipts = None if since else receipt_verify()  # printed first: the chain's line stays the last
        for line in receipts.lines() if receipts else ():
            self.stdout.write(line)
        result = audit_verify(since=since)
        if result.is_intact:
            line = f"ok {result.events} events, {result.checkpoints} checkpoints"
            if result.since:
                line += f", {result.events - result.trusted} since {result.since}"
            self.stdout.write(line)
        elif result.checkpoint:
            self.stdout.write(f"{result.checkpoint}: {result.reason}")
        else:
            self.stdout.write(f"broken at event {result.first_broken_seq}: {result.reason}")
        if not result.is_intact or (receipts is not None and not receipts.is_intact):
            raise SystemExit(1)
