from django.core.management.base import BaseCommand, CommandError

from exchange import keys
from exchange.models import ReceivedConsignment, ReceivedRecall, ReceivedReceipt, ReceivedReport


class Command(BaseCommand):
    help = (
        "Check that every message kept from a peer (公文交换: consignments, receipts, recalls, reports) is, byte "
        "for byte, what that peer signed: each envelope's signature against the peer's public key as "
        "this installation knows it now. Prints 'ok …' or names each message that does not verify, and "
        "exits 1."
    )

    def handle(self, *args, **options):
        counts, broken = {}, []
        for label, model, field in (
            ("consignments", ReceivedConsignment, "consignment_id"),
            ("receipts", ReceivedReceipt, "receipt_id"),
            ("recalls", ReceivedRecall, "recall_id"),
            ("reports", ReceivedReport, "report_id"),
        ):
            counts[label] = 0
            for row in model.objects.select_related("peer").order_by("pk").iterator(chunk_size=500):
                counts[label] += 1
                public = keys.public_key_of(row.peer.public_key)
                if public is None or not keys.verifies(public, row.signature, bytes(row.envelope)):
                    broken.append(f"{label[:-1]} {getattr(row, field)} from {row.peer.name}")
        for line in broken:
            self.stderr.write(f"does not verify: {line}")
        summary = ", ".join(f"{count} {label}" for label, count in counts.items())
        if broken:
            raise CommandError(f"{len(broken)} of {sum(counts.values())} kept messages do not verify ({summary})")
        self.stdout.write(f"ok {summary}: every one as its peer signed it")
