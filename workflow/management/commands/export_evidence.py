import hashlib
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from workflow.evidence.export import EvidenceError, EvidenceExport, evidence_document


class Command(BaseCommand):
    help = (
        "Write the evidence bundle of the chain at the document with this number (发文字号) to OUT.zip: "
        "its documents, files, deliveries with their receipts, audit events with their inclusion proofs, "
        "the signed checkpoint, the public key and verify.py. Signs a fresh checkpoint first when the "
        "chain's newest events are not covered yet (and a signing key is configured)."
    )

    def add_arguments(self, parser):
        parser.add_argument("number", help="e.g. 内组电明字〔2022〕11号")
        parser.add_argument("out", metavar="OUT.zip")

    def handle(self, *args, number: str, out: str, **options):
        # A command run on the server by an operator: every chain (the operator has the database
        # anyway). The pages go through workflow.access.access_chain.
        path = Path(out)
        partial = path.with_name(path.name + ".partial")
        digest, size = hashlib.sha256(), 0
        try:
            export = EvidenceExport(evidence_document(number))
            # The file first: a path that cannot be written is named before a checkpoint is signed.
            with partial.open("wb") as file:
                export.prepare()
                for chunk in export.chunks():
                    file.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                file.flush()
                os.fsync(file.fileno())
            partial.replace(path)
        except EvidenceError as error:
            partial.unlink(missing_ok=True)
            raise CommandError(error.message) from None
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise CommandError(
                _("无法写入 %(path)s：%(error)s") % {"path": path, "error": error.strerror or error}
            ) from None
        for written in export.signed:
            self.stdout.write(f"signed {written.path} ({written.checkpoint.tree_size} events)")
            for failure in written.failures:
                self.stderr.write(failure)
        counts, checkpoint = export.counts, export.checkpoint
        self.stdout.write(
            f"wrote {path}: {counts['documents']} documents, {counts['files']} files, "
            f"{counts['deliveries']} deliveries, {counts['receipts']} receipts, {counts['events']} events, "
            f"checkpoint {checkpoint['name']} ({checkpoint['tree_size']} events), "
            f"{size} bytes, sha256 {digest.hexdigest()}"
        )
