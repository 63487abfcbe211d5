from django.core.management.base import BaseCommand, CommandError

from workflow.checkpoints import CheckpointError, checkpoint_write, public_key_pem


class Command(BaseCommand):
    help = (
        "Sign a checkpoint of the audit log now (its size, head hash and Merkle root) and write it under "
        "AUDIT_CHECKPOINT_DIR, then send its copies; --public-key prints the published public key instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--public-key", action="store_true", help="print the published public key (PEM)")

    def handle(self, *args, public_key: bool, **options):
        try:
            if public_key:
                self.stdout.write(public_key_pem(), ending="")
                return
            written = checkpoint_write()
        except CheckpointError as error:
            raise CommandError(str(error)) from None
        checkpoint = written.checkpoint
        self.stdout.write(f"wrote {written.path} ({checkpoint.tree_size} events, root {checkpoint.root_hash})")
        for place in written.sent:
            self.stdout.write(f"sent to {place}")
        if written.failures:
            raise CommandError("\n".join(written.failures))
