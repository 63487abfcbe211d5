"""Real processes for the integration and fault tests: a Celery worker, beat, gunicorn and a private
Redis, each in its own process, against the test database.

The fault tests kill and restart these; they never touch the machine's shared PostgreSQL or Redis.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    settings = connection.settings_dict
    return (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def free_port(start: int) -> int:
    """The first port from `start` on that nobody listens on (parallel runs each find their own).
    Each pytest-xdist worker looks in its own range, so that two never both find a port free before
    either listens on it."""
    start += 50 * int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    for port in range(start, start + 50):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port from {start}")


def wait_until(condition: Callable[[], bool], *, timeout: float = 60, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class Process:
    """A child process with its output in a log file; `ready_text` in the log means it is up."""

    ready_text = ""

    def __init__(self, command: list[str], *, log_path: Path, env: dict, ready_timeout: float = 60):
        self.log_path = log_path
        self.log = open(log_path, "a+")  # noqa: SIM115  (closed in stop())
        self._log_start = self.log.tell()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1", **env}, stdout=self.log, stderr=self.log
        )
        if self.ready_text:
            self._wait_for(self.ready_text, timeout=ready_timeout)

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        self.log.flush()
        self.log.seek(self._log_start)
        return self.log.read()

    def _wait_for(self, text: str, *, timeout: float) -> None:
        wait_until(lambda: text in self.output() or self.process.poll() is not None, timeout=timeout)
        if text in self.output():
            return
        raise RuntimeError(f"{self.log_path.name}: {text!r} not seen:\n{self.output()[-3000:]}")

    def children(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def kill(self) -> None:
        """SIGKILL the main process only, as a crash would; its children are left to notice."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        children = self.children()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for child in children:  # orphans of a killed main process
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        psutil.wait_procs(children, timeout=10)
        self.log.close()


class Worker(Process):
    """`celery worker` for the given queues; email goes to files in `mail_dir`."""

    ready_text = "ready."

    def __init__(
        self,
        *,
        queues: str,
        mail_dir: Path,
        extra_env: dict | None = None,
        concurrency: int = 2,
        name: str | None = None,
    ):
        name = name or f"worker-{queues.replace(',', '-')}"
        env = {"DATABASE_URL": test_database_url(), "EMAIL_URL": f"filemail://{mail_dir}", **(extra_env or {})}
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues]
        command += ["--concurrency", str(concurrency), "--loglevel", "INFO"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        command += ["--hostname", f"{name}-{os.getpid()}@%h"]
        super().__init__(command, log_path=mail_dir.parent / f"{name}.log", env=env)

    def pool_children(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.pid).children()
        except psutil.NoSuchProcess:
            return []


class Beat(Process):
    """`celery beat` with the database scheduler: the periodic sweep, as deployed."""

    ready_text = "beat: Starting..."

    def __init__(self, *, log_dir: Path, extra_env: dict | None = None):
        env = {"DATABASE_URL": test_database_url(), **(extra_env or {})}
        command = [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"]
        super().__init__(command, log_path=log_dir / "beat.log", env=env)


class Gunicorn(Process):
    """gunicorn serving the project on a loopback port."""

    ready_text = "Booting worker"

    def __init__(
        self, *, log_dir: Path, workers: int = 2, extra_env: dict | None = None, options: tuple[str, ...] = ()
    ):
        self.port = free_port(8300)
        env = {"DATABASE_URL": test_database_url(), **(extra_env or {})}
        command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", str(workers), *options]
        super().__init__(command, log_path=log_dir / f"gunicorn-{self.port}.log", env=env)
        wait_until(self._accepts, timeout=30)

    def _accepts(self) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0


class PrivateRedis:
    """A redis-server of the test's own on a free port, without persistence: a restart is empty."""

    def __init__(self, log_dir: Path):
        self.port = free_port(6390)
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.log_dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_until(self.ping, timeout=10, interval=0.05):
            raise RuntimeError(f"redis-server did not start on port {self.port}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None
