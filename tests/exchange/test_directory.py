"""The peers and the units they host (公文交换): set by the administrator or the exchange_peer
command, each change audited; bad input named, nothing written."""

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import CommandError, call_command

from exchange.directory import peer_revoke, peer_save, unit_host
from exchange.models import Peer
from units.errors import InvalidInput, NotAllowed
from workflow.checkpoints import key_generate, key_id, public_key_pem_of
from workflow.models import AuditEvent, AuditVerb


@pytest.fixture
def pem(tmp_path):
    key = key_generate(tmp_path / "B.pem")
    path = tmp_path / "B.pub"
    path.write_text(public_key_pem_of(key.public_key()), encoding="ascii")
    return path, key


def test_a_peer_is_added_changed_revoked_and_hosts_units_all_audited(world, pem, capsys):
    path, key = pem
    call_command("exchange_peer", "add", "B", "https://b.example.gov.cn/exchange/", str(path), "--per-minute", "60")
    peer = Peer.objects.get()
    assert (peer.name, peer.base_url, peer.per_minute, peer.revoked_at) == (
        "B",
        "https://b.example.gov.cn/exchange/",
        60,
        None,
    )
    event = AuditEvent.objects.get(verb=AuditVerb.PEER_SAVED)
    assert event.payload["key_id"] == key_id(key.public_key())
    assert event.payload["created"] is True
    call_command("exchange_peer", "add", "B", "https://b2.example.gov.cn/exchange/", str(path))
    peer.refresh_from_db()
    assert (peer.base_url, peer.per_minute) == ("https://b2.example.gov.cn/exchange/", 60)
    call_command("exchange_peer", "host", "B", world.university.name, world.university_b.name)
    assert set(peer.units.values_list("name", flat=True)) == {world.university.name, world.university_b.name}
    assert AuditEvent.objects.filter(verb=AuditVerb.UNIT_HOSTED).count() == 2
    call_command("exchange_peer", "local", world.university_b.name)
    assert list(peer.units.values_list("name", flat=True)) == [world.university.name]
    capsys.readouterr()
    call_command("exchange_peer", "list")
    assert capsys.readouterr().out == f"B\tactive\thttps://b2.example.gov.cn/exchange/\t{world.university.name}\n"
    call_command("exchange_peer", "revoke", "B")
    peer.refresh_from_db()
    assert peer.revoked_at is not None
    assert not peer_revoke(actor=None, peer=peer)
    assert AuditEvent.objects.filter(verb=AuditVerb.PEER_REVOKED).count() == 1
    # Hosting what it already hosts changes nothing and writes nothing.
    before = AuditEvent.objects.count()
    assert not unit_host(actor=None, unit=world.university, peer=peer)
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    ("url", "key", "message"),
    [
        ("ftp://b.example/", "ok", "交换地址“ftp://b.example/”不是 http(s) 地址。"),
        ("https://b.example/exchange/", "not a key", "对端系统“B”的公钥不是 PEM 格式的 Ed25519 公钥。"),
    ],
)
def test_a_bad_address_or_key_is_named_and_nothing_is_written(world, pem, url, key, message, nothing_written):
    path, _key = pem
    text = path.read_text() if key == "ok" else key
    with nothing_written(), pytest.raises(InvalidInput) as raised:
        peer_save(actor=None, name="B", base_url=url, public_key=text)
    assert raised.value.message == message
    assert not Peer.objects.exists()


def test_only_an_administrator_changes_the_peers(world, pem, nothing_written):
    path, _key = pem
    with nothing_written(), pytest.raises(NotAllowed):
        peer_save(actor=world.zzb, name="B", base_url="https://b.example/", public_key=path.read_text())


def test_the_command_names_what_is_missing(world, pem):
    with pytest.raises(CommandError, match="没有名为“C”的对端系统。"):
        call_command("exchange_peer", "revoke", "C")
    path, _key = pem
    call_command("exchange_peer", "add", "B", "https://b.example/exchange/", str(path))
    with pytest.raises(CommandError, match="单位目录中没有：不存在的单位。"):
        call_command("exchange_peer", "host", "B", "不存在的单位")


def test_exchange_keygen_writes_a_key_file_and_prints_its_public_key(tmp_path, capsys):
    path = tmp_path / "keys" / "exchange.key"
    call_command("exchange_keygen", str(path))
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert public_key_pem_of(key.public_key()) in capsys.readouterr().out
    with pytest.raises(CommandError, match="已存在"):
        call_command("exchange_keygen", str(path))
