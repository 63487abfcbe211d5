"""Installations of their own for the exchange's end-to-end test (issue 17): each with its own
database, its own Redis, its own key, web server (gunicorn), Celery worker and beat, and, where the
machine allows network namespaces, on a network of its own joined to the test's by a veth pair, so
that the test can cut the link (`ip link set … down`) as a network would. Where namespaces are
refused, each web server listens on a loopback address of its own (127.0.0.N) and a cut link is its
web server stopped.

The processes reach PostgreSQL by its Unix socket, which a network namespace does not hide, and
their Redis inside their namespace. The test drives an installation through `manage.py shell` (the
real services, in that installation's environment) and reads its state the same way.
"""

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from tests.worker import ROOT, Process, free_port, wait_until
from workflow.checkpoints import key_generate, public_key_pem_of

SOCKET_DIR = "/var/run/postgresql"
_XDIST = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def namespaces_allowed() -> bool:
    name = f"gwprobe{os.getpid()}"
    try:
        _run(["ip", "netns", "add", name])
    except (OSError, subprocess.CalledProcessError):
        return False
    _run(["ip", "netns", "del", name])
    return True


def _remove_stale(address: str) -> None:
    """Delete a test link that still holds `address` on the host: a run that crashed left it, and
    two links with one subnet send the packets down the wrong one."""
    for line in _run(["ip", "-o", "addr", "show"]).stdout.splitlines():
        if f" {address}/" in line:
            stale = line.split()[1].split("@")[0]
            with contextlib.suppress(subprocess.CalledProcessError):
                _run(["ip", "link", "del", stale])


class Link:
    """A network namespace joined to the test's by a veth pair: the test's end `host_address`, the
    namespace's `address`. `cut()` and `mend()` set the test's end down and up."""

    def __init__(self, index: int) -> None:
        tag = f"{os.getpid() % 100000}{index}"
        self.namespace = f"gwns{tag}"
        self.outside, self.inside = f"gwo{tag}", f"gwi{tag}"
        subnet = 16 + _XDIST * 8 + index
        self.host_address, self.address = f"10.231.{subnet}.1", f"10.231.{subnet}.2"
        _remove_stale(self.host_address)
        _run(["ip", "netns", "add", self.namespace])
        _run(["ip", "link", "add", self.outside, "type", "veth", "peer", "name", self.inside])
        _run(["ip", "link", "set", self.inside, "netns", self.namespace])
        _run(["ip", "addr", "add", f"{self.host_address}/30", "dev", self.outside])
        _run(["ip", "link", "set", self.outside, "up"])
        self.run_inside(["ip", "addr", "add", f"{self.address}/30", "dev", self.inside])
        self.run_inside(["ip", "link", "set", self.inside, "up"])
        self.run_inside(["ip", "link", "set", "lo", "up"])

    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.namespace]

    def run_inside(self, command: list[str]) -> None:
        _run([*self.prefix(), *command])

    def cut(self) -> None:
        _run(["ip", "link", "set", self.outside, "down"])

    def mend(self) -> None:
        _run(["ip", "link", "set", self.outside, "up"])

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            _run(["ip", "link", "del", self.outside])
        with contextlib.suppress(subprocess.CalledProcessError):
            _run(["ip", "netns", "del", self.namespace])


class Wire:
    """A veth pair straight between two namespaces (two installations' own link): `first_address`
    in the first, `second_address` in the second. `cut()` and `mend()` set the first's end down and
    up."""

    def __init__(self, first: Link, second: Link, index: int) -> None:
        tag = f"{os.getpid() % 100000}{index}"
        self.first, self.second = first, second
        self.first_end, self.second_end = f"gwa{tag}", f"gwb{tag}"
        subnet = 16 + _XDIST * 8 + index
        self.first_address, self.second_address = f"10.231.{subnet}.1", f"10.231.{subnet}.2"
        _run([*first.prefix(), "ip", "link", "add", self.first_end, "type", "veth", "peer", "name", self.second_end])
        _run([*first.prefix(), "ip", "link", "set", self.second_end, "netns", second.namespace])
        first.run_inside(["ip", "addr", "add", f"{self.first_address}/30", "dev", self.first_end])
        first.run_inside(["ip", "link", "set", self.first_end, "up"])
        second.run_inside(["ip", "addr", "add", f"{self.second_address}/30", "dev", self.second_end])
        second.run_inside(["ip", "link", "set", self.second_end, "up"])

    def cut(self) -> None:
        self.first.run_inside(["ip", "link", "set", self.first_end, "down"])

    def mend(self) -> None:
        self.first.run_inside(["ip", "link", "set", self.first_end, "up"])


class Installation:
    """One installation. `link` is its namespace (or None on the host's network, where the test's
    own end of every link is); its web server listens on `bind`, port `port`; `url(address)` is its
    exchange endpoint as a peer reaches it at `address`."""

    def __init__(
        self,
        name: str,
        directory: Path,
        *,
        link: Link | None,
        bind: str = "0.0.0.0",  # noqa: S104 (its own namespace, or the test's loopback)
        like: "Installation | None" = None,
    ) -> None:
        """`like`: an installation made just before, not started yet, whose migrated database this
        one's is copied from (PostgreSQL's CREATE DATABASE … TEMPLATE: a second or so, where
        migrating took half a minute on a two-core machine)."""
        self.name, self.link, self.bind = name, link, bind
        self.port = 8000 if link is not None else free_port(8400)
        self.directory = directory / name
        self.directory.mkdir()
        self.database = f"gw_{name.lower()}_{os.getpid()}_{_XDIST}"
        self.processes: dict[str, Process] = {}
        with psycopg.connect(f"host={SOCKET_DIR} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            template = f' TEMPLATE "{like.database}"' if like is not None else ""
            conn.execute(f'CREATE DATABASE "{self.database}"{template}')
        self.redis_port = 6400 + _XDIST * 10 + len(name) + (5 if link is None else 0)
        self.key_file = self.directory / "exchange.key"
        self.env = {
            "DATABASE_URL": f"postgres://postgres@/{self.database}?host={SOCKET_DIR}",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "BROKER_KEY_PREFIX": f"gw-{self.database}:",
            "SECRET_KEY": f"installation-{name}-secret",
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "ALLOWED_HOSTS": "*",
            "EMAIL_URL": f"filemail://{self.directory / 'mail'}",
            "MEDIA_ROOT": str(self.directory / "media"),
            "AUDIT_SIGNING_KEY_FILE": "",
            "AUDIT_PUBLIC_KEY_FILE": "",
            "EXCHANGE_INSTALLATION": name,
            "EXCHANGE_SIGNING_KEY_FILE": str(self.key_file),
            # Seconds, not the deployment's minutes and days: a cut link recovers within the test.
            "EXCHANGE_RETRY_SECONDS": "0.5",
            "EXCHANGE_SWEEP_SECONDS": "1",
            "EXCHANGE_REPORT_SECONDS": "1",
            "EXCHANGE_TIMEOUT_SECONDS": "2",
            # Every file in chunks, small ones: a cut link stops a file half-way, and it resumes.
            "EXCHANGE_INLINE_BYTES": "0",
            "EXCHANGE_CHUNK_BYTES": "64",
            "SWEEP_INTERVAL_SECONDS": "2",
            "SWEEP_STALE_SECONDS": "6",
        }
        try:
            self._start_redis()
            if like is None:
                self.manage("migrate", "-v0")
            self.public_key = public_key_pem_of(key_generate(self.key_file).public_key())
        except BaseException:  # its Redis and database go with it
            self.remove()
            raise

    def url(self, address: str) -> str:
        return f"http://{address}:{self.port}/exchange/"

    def _command(self, command: list[str]) -> list[str]:
        return [*(self.link.prefix() if self.link else []), *command]

    def _start_redis(self) -> None:
        """A Redis of its own: inside its namespace, or on a port of its own on the host's."""
        listen = ["--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = self.directory / "redis.log"
        self.processes["redis"] = Process(self._command(["redis-server", *listen]), log_path=log, env={})
        ping = self._command(["redis-cli", "-p", str(self.redis_port), "ping"])
        if not wait_until(lambda: subprocess.run(ping, capture_output=True, text=True).stdout.strip() == "PONG"):
            raise RuntimeError(f"{self.name}: redis did not start:\n{self.processes['redis'].output()}")

    def manage(self, *args: str, env: dict | None = None) -> str:
        """`python manage.py …` in this installation's environment (and namespace); its stdout."""
        result = subprocess.run(
            self._command([sys.executable, "manage.py", *args]),
            cwd=ROOT,
            env={**os.environ, **self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{self.name}: manage.py {' '.join(args)}:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def call(self, function: str, **kwargs) -> object:
        """tests.exchange.installation_script.<function>(**kwargs) inside this installation; its JSON."""
        code = (
            "import json, os; from tests.exchange import installation_script as s; "
            f"print('\\n@@' + json.dumps(s.{function}(**json.loads(os.environ['GW_CALL'])), ensure_ascii=False))"
        )
        out = self.manage("shell", "-c", code, env={"GW_CALL": json.dumps(kwargs, ensure_ascii=False)})
        return json.loads(out.rsplit("\n@@", 1)[1])

    def start(self, *names: str) -> None:
        for name in names or ("web", "worker", "beat"):
            log = self.directory / f"{name}.log"
            if name == "web":
                command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"{self.bind}:{self.port}"]
                command += ["--workers", "2", "--timeout", "30"]
                self.processes[name] = Process(self._command(command), log_path=log, env=self.env)
                wait_until(lambda: "Booting worker" in self.processes["web"].output(), timeout=30)
            elif name == "worker":
                command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "urgent,routine,control"]
                command += ["--concurrency", "2", "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
                command += ["--without-heartbeat", "--hostname", f"{self.database}-{time.monotonic_ns()}@%h"]
                self.processes[name] = Process(self._command(command), log_path=log, env=self.env)
                wait_until(lambda: "ready." in self.processes["worker"].output(), timeout=60)
            else:
                command = [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"]
                self.processes[name] = Process(self._command(command), log_path=log, env=self.env)

    def kill(self, name: str) -> None:
        self.processes.pop(name).kill()

    def stop(self, name: str) -> None:
        self.processes.pop(name).stop()

    def remove(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(Exception):
                process.stop()
        self.processes.clear()
        with psycopg.connect(f"host={SOCKET_DIR} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
