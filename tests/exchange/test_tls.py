"""公文交换 (issue 17) over mutual TLS: a peer whose web server asks for a client certificate gets
this installation's (EXCHANGE_TLS_CERT_FILE), and checks nothing else differently; without it, or
with a server certificate no configured authority signed, the send fails and is retried."""

import datetime
import ipaddress
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from exchange.models import OutgoingConsignment, Peer
from exchange.outgoing import consignment_send
from tests.exchange.conftest import PeerServer
from tests.factories import issue
from units.models import Unit
from workflow.checkpoints import public_key_pem_of


def _certificate(name: str, issuer_key, issuer_name, public_key, *, ca: bool, ip: str | None = None):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path, key, certificate) -> tuple[str, str]:
    key_path, cert_path = path.with_suffix(".key"), path.with_suffix(".crt")
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return str(cert_path), str(key_path)


@pytest.fixture
def pki(tmp_path):
    """A region's authority, B's server certificate for 127.0.0.1, and A's client certificate."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "公文交换 CA")])
    ca = _certificate("公文交换 CA", ca_key, ca_name, ca_key.public_key(), ca=True)
    ca_file, _ = _write(tmp_path / "ca", ca_key, ca)
    made = {"ca": ca_file}
    for name, ip in (("server", "127.0.0.1"), ("client", None)):
        key = ec.generate_private_key(ec.SECP256R1())
        made[name] = _write(
            tmp_path / name, key, _certificate(name, ca_key, ca_name, key.public_key(), ca=False, ip=ip)
        )
    return made


@pytest.fixture
def tls_peer(world, tmp_path, installation_a, pki):
    server = PeerServer(tmp_path, installation_a.public_key())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*pki["server"])
    context.load_verify_locations(pki["ca"])
    context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: no client certificate, no connection
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    peer = Peer.objects.create(
        name="B",
        base_url=server.url.replace("http://", "https://"),
        public_key=public_key_pem_of(server.key.public_key()),
    )
    Unit.objects.filter(pk=world.university.pk).update(peer=peer)
    yield server
    server.stop()


def test_a_peer_asking_for_a_client_certificate_gets_this_installations(world, tls_peer, pki, settings):
    issue(world.zzb, world.department, main=[world.university])
    outgoing = OutgoingConsignment.objects.get()
    # Without a client certificate the peer's server closes the handshake: retried later.
    settings.EXCHANGE_TLS_CA_FILE = pki["ca"]
    assert consignment_send(outgoing_id=outgoing.pk) == "pending"
    assert tls_peer.received == []
    outgoing.refresh_from_db()
    assert outgoing.last_error.startswith("连接失败：")
    OutgoingConsignment.objects.filter(pk=outgoing.pk).update(next_attempt_at=outgoing.created_at)
    settings.EXCHANGE_TLS_CERT_FILE, settings.EXCHANGE_TLS_KEY_FILE = pki["client"]
    assert consignment_send(outgoing_id=outgoing.pk) == "accepted"
    assert len(tls_peer.received) == 1


def test_a_server_certificate_no_configured_authority_signed_is_refused(world, tls_peer, pki, settings):
    issue(world.zzb, world.department, main=[world.university])
    settings.EXCHANGE_TLS_CERT_FILE, settings.EXCHANGE_TLS_KEY_FILE = pki["client"]
    settings.EXCHANGE_TLS_CA_FILE = ""  # the system's authorities: they never signed the test's CA
    outgoing = OutgoingConsignment.objects.get()
    assert consignment_send(outgoing_id=outgoing.pk) == "pending"
    outgoing.refresh_from_db()
    assert "CERTIFICATE_VERIFY_FAILED" in outgoing.last_error
    assert tls_peer.received == []
