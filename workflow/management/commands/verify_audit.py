from django.core.management.base import BaseCommand

from workflow.audit import audit_verify


class Command(BaseCommand):
    help = "Recompute the audit log's hash chain; exit 1 naming the first broken event."

    def handle(self, *args, **options):
        result = audit_verify()
        if result.is_intact:
            self.stdout.write(f"ok {result.events} events")
            return
        self.stdout.write(f"broken at event {result.first_broken_seq}: {result.reason}")
        raise SystemExit(1)
