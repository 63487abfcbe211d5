from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exchange.directory import peer_revoke, peer_save, unit_host
from exchange.models import Peer
from units.errors import DomainError
from units.models import Unit


class Command(BaseCommand):
    help = (
        "公文交换的对端系统：add NAME URL PUBLIC_KEY_FILE（新增或修改）、revoke NAME（吊销）、"
        "host NAME UNIT…（这些单位由该系统承载）、local UNIT…（改回本系统的单位）、list。每项改动记入审计日志。"
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add")
        add.add_argument("name")
        add.add_argument("url")
        add.add_argument("public_key_file")
        add.add_argument("--max-bytes", type=int)
        add.add_argument("--per-minute", type=int)
        revoke = actions.add_parser("revoke")
        revoke.add_argument("name")
        host = actions.add_parser("host")
        host.add_argument("name")
        host.add_argument("units", nargs="+")
        local = actions.add_parser("local")
        local.add_argument("units", nargs="+")
        actions.add_parser("list")

    def handle(self, *args, action: str, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except DomainError as error:
            raise CommandError(error.message) from None

    def _peer(self, name: str) -> Peer:
        peer = Peer.objects.filter(name=name).first()
        if peer is None:
            raise CommandError(f"没有名为“{name}”的对端系统。")
        return peer

    def _units(self, names: list[str]) -> list[Unit]:
        found = {unit.name: unit for unit in Unit.objects.filter(name__in=names)}
        missing = [name for name in names if name not in found]
        if missing:
            raise CommandError(f"单位目录中没有：{'、'.join(missing)}。")
        return [found[name] for name in names]

    def _add(self, *, name, url, public_key_file, max_bytes, per_minute, **options):
        try:
            pem = Path(public_key_file).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"无法读取公钥文件 {public_key_file}：{error}") from None
        peer = peer_save(
            actor=None, name=name, base_url=url, public_key=pem, max_bytes=max_bytes, per_minute=per_minute
        )
        self.stdout.write(f"{peer.name} {peer.base_url}")

    def _revoke(self, *, name, **options):
        revoked = peer_revoke(actor=None, peer=self._peer(name))
        self.stdout.write(f"{name} {'revoked' if revoked else 'already revoked'}")

    def _host(self, *, name, units, **options):
        peer = self._peer(name)
        for unit in self._units(units):
            unit_host(actor=None, unit=unit, peer=peer)
            self.stdout.write(f"{unit.name} → {peer.name}")

    def _local(self, *, units, **options):
        for unit in self._units(units):
            unit_host(actor=None, unit=unit, peer=None)
            self.stdout.write(f"{unit.name} → local")

    def _list(self, **options):
        for peer in Peer.objects.order_by("name"):
            hosted = list(peer.units.order_by("name").values_list("name", flat=True))
            state = "revoked" if peer.revoked_at else "active"
            self.stdout.write(f"{peer.name}\t{state}\t{peer.base_url}\t{'、'.join(hosted)}")
