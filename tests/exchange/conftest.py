"""A peer installation at the other end of the wire, for the sending side's tests: an HTTP server
on loopback that checks each request's signature with the sender's public key, keeps what it was
sent, and answers what the test scripts, signed with its own key, as the protocol says. The
receiving side of this code base is tested on its own (test_receive.py)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from exchange import keys
from tests.exchange.elsewhere import received, sender  # noqa: F401 (fixtures of tests/exchange)
from workflow.checkpoints import key_generate


class PeerServer:
    def __init__(self, tmp_path, sender_public) -> None:
        self.key = key_generate(tmp_path / "peer-B.pem")
        self.sender_public = sender_public
        self.received: list[dict] = []
        # Each request takes the next answer; the last one repeats. (status, code or None, signed)
        self.answers: list[tuple[int, str | None, bool]] = [(201, "accepted", True)]
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                verified = keys.message_verifies(
                    server.sender_public, self.headers[keys.SIGNATURE_HEADER], self.headers[keys.TIMESTAMP_HEADER], body
                )
                server.received.append(
                    {
                        "path": self.path,
                        "installation": self.headers[keys.INSTALLATION_HEADER],
                        "verified": verified,
                        "message": json.loads(body),
                    }
                )
                status, code, signed = server.answers.pop(0) if len(server.answers) > 1 else server.answers[0]
                content = json.dumps({"code": code, "message": f"scripted {code}"}).encode() if code else b"oops"
                stamp = str(int(time.time()))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.send_header(keys.INSTALLATION_HEADER, "B")
                self.send_header(keys.TIMESTAMP_HEADER, stamp)
                signer = server.key if signed else key_generate(tmp_path / f"stranger-{time.monotonic_ns()}.pem")
                self.send_header(keys.SIGNATURE_HEADER, keys.message_signature(signer, stamp, content))
                self.end_headers()
                self.wfile.write(content)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/exchange/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver(settings, tmp_path):
    """This installation is B, with a key of its own for its answers."""
    settings.EXCHANGE_INSTALLATION = "B"
    settings.EXCHANGE_SIGNING_KEY_FILE = str(tmp_path / "B.pem")
    return key_generate(settings.EXCHANGE_SIGNING_KEY_FILE)


@pytest.fixture
def installation_a(settings, tmp_path):
    """This installation is A, with its key."""
    settings.EXCHANGE_INSTALLATION = "A"
    settings.EXCHANGE_SIGNING_KEY_FILE = str(tmp_path / "A.pem")
    return key_generate(settings.EXCHANGE_SIGNING_KEY_FILE)


@pytest.fixture
def peer_server(tmp_path, installation_a):
    server = PeerServer(tmp_path, installation_a.public_key())
    yield server
    server.stop()
