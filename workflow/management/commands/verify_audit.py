from django.core.management.base import BaseCommand

from workflow.audit import audit_verify


class Command(BaseCommand):
    help = (
        "Recompute the audit log's hash chain and check it against every signed checkpoint; exit 1 naming "
        "the first broken event or the first checkpoint that disagrees. --since CHECKPOINT trusts that "
        "checkpoint (its signature checked) and verifies only the events after it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", metavar="CHECKPOINT", help="a checkpoint file (name or path)")

    def handle(self, *args, since: str | None, **options):
        result = audit_verify(since=since)
        if result.is_intact:
            line = f"ok {result.events} events, {result.checkpoints} checkpoints"
            if result.since:
                line += f", {result.events - result.trusted} since {result.since}"
            self.stdout.write(line)
            return
        if result.checkpoint:
            self.stdout.write(f"{result.checkpoint}: {result.reason}")
        else:
            self.stdout.write(f"broken at event {result.first_broken_seq}: {result.reason}")
        raise SystemExit(1)
