from django.core.management.base import BaseCommand, CommandError

from workflow.checkpoints import CheckpointError, key_generate, key_id, public_key_pem_of


class Command(BaseCommand):
    help = (
        "Write a new Ed25519 key for signing audit checkpoints to PATH (mode 600, never over an existing "
        "file) and print its public key (PEM) to publish; point AUDIT_SIGNING_KEY_FILE at PATH."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", metavar="PATH")

    def handle(self, *args, path: str, **options):
        try:
            key = key_generate(path)
        except (CheckpointError, OSError) as error:
            raise CommandError(str(error)) from None
        public = key.public_key()
        self.stdout.write(public_key_pem_of(public), ending="")
        self.stderr.write(f"key id {key_id(public)}; private key written to {path}")
