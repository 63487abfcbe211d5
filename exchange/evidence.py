"""公文交换 in a chain's evidence bundle (workflow.evidence): the messages peers sent that the chain's
events took in, each as its peer signed it, and the peers' public keys, so that an auditor checks
offline, with verify.py, that every consignment, receipt, recall and report the chain rests on is
what its peer signed and is the one its audit event names.

    exchange.jsonl   one line per message, in the order of the events that took them in:
                     {"envelope": the envelope's canonical bytes as text, "id", "peer",
                      "seq" (of its *_ACCEPTED event, whose time is when it came), "signature",
                      "type"}
    peers.jsonl      one line per peer named: {"key_id", "name", "public_key" (PEM)}
"""

from collections.abc import Iterable, Iterator

from exchange import keys
from exchange.models import Peer, ReceivedConsignment, ReceivedRecall, ReceivedReceipt, ReceivedReport
from workflow.checkpoints import key_id, public_key_pem_of

EXCHANGE_ENTRY, PEERS_ENTRY = "exchange.jsonl", "peers.jsonl"
MODELS = {
    "consignment": (ReceivedConsignment, "consignment_id"),
    "receipt": (ReceivedReceipt, "receipt_id"),
    "recall": (ReceivedRecall, "recall_id"),
    "report": (ReceivedReport, "report_id"),
}
CHUNK = 1000


def kept_messages(events: list[tuple[int, str, dict]]) -> Iterator[tuple[dict, str]]:
    """(line of exchange.jsonl, peer name) for each event (seq, message type, payload) that took a
    peer's message in, in the events' order; the rows are read a thousand at a time."""
    for start in range(0, len(events), CHUNK):
        part = events[start : start + CHUNK]
        found = {}
        for kind, (model, field) in MODELS.items():
            ids = [payload[kind] for _seq, of, payload in part if of == kind]
            if ids:
                rows = model.objects.filter(**{f"{field}__in": ids}).select_related("peer")
                for row in rows:
                    found[(kind, str(getattr(row, field)), row.peer.name)] = row
        for seq, kind, payload in part:
            row = found.get((kind, str(payload[kind]), payload["peer"]))
            if row is None:  # verify.py names the event whose message is missing
                continue
            line = {
                "envelope": bytes(row.envelope).decode("utf-8"),
                "id": str(payload[kind]),
                "peer": row.peer.name,
                "seq": seq,
                "signature": row.signature,
                "type": kind,
            }
            yield line, row.peer.name


def peer_lines(names: Iterable[str]) -> Iterator[dict]:
    """peers.jsonl: each named peer's key as this installation knows it, with its key id (SHA-256
    of the raw key, as exchange_peer prints it)."""
    for peer in Peer.objects.filter(name__in=sorted(names)).order_by("name"):
        public = keys.public_key_of(peer.public_key)
        yield {"key_id": key_id(public), "name": peer.name, "public_key": public_key_pem_of(public)}
