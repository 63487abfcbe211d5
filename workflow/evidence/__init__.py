"""The evidence bundle (证据包) of a chain: what an auditor checks offline, years later, without the
server.

`python manage.py export_evidence NUMBER OUT.zip` and the chain page's 下载审计证据包
(/documents/<id>/evidence.zip) write it (workflow/evidence/export.py); `python verify.py BUNDLE.zip`
checks it with Python 3.11 and the `cryptography` package alone (workflow/evidence/verify.py, copied
into every bundle). Format gongwen-evidence/1, a zip of:

- README.txt — how to verify, in Chinese (not evidence);
- verify.py — the verifier;
- checkpoint.json — the newest signed checkpoint that covers every event of the chain, byte for byte
  its file (workflow/checkpoints.py: the signed bytes and the file's format), and public_key.pem, the
  published public key(s) (PEM, SubjectPublicKeyInfo); the key's id is the SHA-256 of its raw bytes;
- documents/<digest>.json — each document's canonical serialisation, byte for byte what
  documents/digest.py digests, named by its SHA-256 (its content digest); documents.jsonl indexes
  them by id: {"depth", "digest", "enclosures", "forwarded_from", "id", "issuing_unit_id", "number"},
  depth 0 for the chain's top, n for a cover letter n forwards below, null for a document above that
  the top encloses;
- files/<sha256> — every attachment of those documents and every file of the chain's 办结 feedback;
- deliveries.jsonl — every delivery of the chain's documents (and the one the top was forwarded
  from), by id, with its receipt: unit, role, state, times, deadlines, reminders, recall, and the
  receipt's signer, time and content digest;
- events.jsonl — the chain's audit events by seq, each line exactly the bytes its hash covers
  (workflow/audit.py event_hash): every event of the chain's documents; of the documents above, the
  event that fixed each one's digest, those of the upstream delivery and the recalls that reached
  into the chain;
- proofs.bin — each event's RFC 9162 inclusion proof in the checkpoint's tree, in the order of
  events.jsonl, 32-byte hashes one after the other (binary: half the size of hex, nothing to parse;
  how many a proof has follows from the event's seq and the tree's size);
- exchange.jsonl and peers.jsonl (公文交换, only when the chain crossed installations) — every
  message a peer sent that an event of the chain took in, its envelope as the peer signed it, and
  those peers' public keys (exchange/evidence.py);
- directory.jsonl — the names of the units and people the records name by id (labels, no hash covers
  them);
- manifest.json — every other entry with its SHA-256 and size, the checkpoint, the counts.

Every .jsonl line is written as canonical JSON (keys sorted, no whitespace, non-ASCII kept); times are UTC
"YYYY-MM-DDTHH:MM:SS.ffffffZ". verify.py's docstring spells out each field and every check.
"""

from workflow.evidence.export import EvidenceError, EvidenceExport, evidence_document

__all__ = ["EvidenceError", "EvidenceExport", "evidence_document"]
