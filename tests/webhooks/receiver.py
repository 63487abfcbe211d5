"""A webhook receiver on loopback, as another office system would run one: http.server in a thread.

It answers its first calls as told (`script`: an HTTP status, or "timeout" to answer only after the
caller has given up), and the first calls of an event as told (`answers[event id]`), then 204. It
keeps every request it got, and verifies signatures the way the Standard Webhooks spec tells a
receiver to, written here from the spec (not with webhooks.signing).
"""

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int | str

    @property
    def event_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    def signature_valid(self, secret: str) -> bool:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"{self.headers['webhook-id']}.{self.headers['webhook-timestamp']}.".encode() + self.body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        given = [part.split(",", 1)[1] for part in self.headers["webhook-signature"].split() if part.startswith("v1,")]
        return any(hmac.compare_digest(expected, signature) for signature in given)


class Receiver:
    def __init__(self, *, script: list[int | str] = (), hold_seconds: float = 3.0):
        self.script = list(script)
        self.answers: dict[str, list[int | str]] = {}
        self.hold_seconds = hold_seconds
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    planned = receiver.answers.get(self.headers.get("webhook-id", ""), [])
                    answer = planned.pop(0) if planned else receiver.script.pop(0) if receiver.script else 204
                    receiver.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, answer)
                    )
                if answer == "timeout":
                    time.sleep(receiver.hold_seconds)
                    answer = 204
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hooks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def calls(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def unique(self) -> list[Received]:
        """The calls after deduplication by webhook-id, in the order of their first arrival."""
        seen, unique = set(), []
        for call in self.calls():
            if call.event_id not in seen:
                seen.add(call.event_id)
                unique.append(call)
        return unique

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
