"""The README's commands work as printed on a fresh clone, once `make run` has run.

Every `python manage.py …` and `make …` line of the README's code blocks is run as printed, by bash,
in a copy of the project (its tracked and unignored files, the shared .venv linked in) with the
environment of a fresh shell: none of the project's settings variables, so that `.env`, written by
`make run`, is what the commands find. `python` is whatever the shell finds (here, a Python without
Django: manage.py must run itself again with the project's .venv).

`make run` is started first, the way a person starts it, on a free port (the README's `make run`
and `PORT=8001 make run` both: a fixed port may be taken on a shared machine), until its banner
shows and a login goes through; then it is stopped as Ctrl-C stops it, and the Commands section
runs against the demo database it left (SQLite). `make test` is never run from here (it runs this
suite); `make bench` takes minutes and runs only with RUN_LONG_README_COMMANDS=1.
"""

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from workflow.demo.history import TELEGRAM_TITLE

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# `VAR=value … make …` or `python manage.py …`, as a line of a code block (indented or fenced).
COMMAND = re.compile(r"^(?:[A-Z_]+=\S+\s+)*(?:python manage\.py|make)(?:\s|$)")
SECTION_COMMANDS = [  # the Commands section, at least: the README may print more
    "python manage.py demo",
    "python manage.py chain '内组电明字〔2022〕11号'",
    "python manage.py chain '内组电明字〔2022〕11号' --json",
    "python manage.py verify_audit",
    "python manage.py api_token jygw",
    "python manage.py import_document workflow/demo/seed_000_cdb95329a9a2d0e5.txt --dry-run --json",
    "python manage.py import_document workflow/demo/seed_000_cdb95329a9a2d0e5.txt --as-received-by 内蒙古大学党委",
    "python manage.py render_document '内教工委函〔2022〕90号' --pdf 90.pdf --ofd 90.ofd --html 90.html",
]
LONG = os.environ.get("RUN_LONG_README_COMMANDS") == "1"


def readme_commands() -> list[str]:
    """The command lines of the README's code blocks, comments removed, in order, each once."""
    commands, fenced = [], False
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        text = line.strip()
        if (fenced or line.startswith("    ")) and COMMAND.match(text):
            command = re.sub(r"\s+#\s.*$", "", text).strip()
            if command not in commands:
                commands.append(command)
    return commands


def test_the_readme_prints_the_commands_of_its_commands_section():
    commands = readme_commands()
    assert [command for command in SECTION_COMMANDS if command not in commands] == []
    assert {"make run", "PORT=8001 make run", "make test", "make bench"} <= set(commands)


# --- a fresh clone, and its `make run` ---------------------------------------------------------------


def _settings_variables() -> set[str]:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    return {line.split("=", 1)[0] for line in example.splitlines() if re.match(r"^[A-Z_]+=", line)}


def fresh_shell_environment(copy: Path) -> dict[str, str]:
    """The environment of a person's new terminal: none of the project's variables. When the machine
    has no `python` (Debian without python-is-python3), one that is the system's python3."""
    drop = _settings_variables() | {"PORT", "DJANGO_SETTINGS_MODULE", "GONGWEN_VENV_REEXEC", "VIRTUAL_ENV"}
    env = {name: value for name, value in os.environ.items() if name not in drop and not name.startswith("PYTEST")}
    if shutil.which("python", path=env.get("PATH")) is None:
        shim = copy.parent / "bin"
        shim.mkdir(exist_ok=True)
        (shim / "python").symlink_to(shutil.which("python3", path=env.get("PATH")) or "/usr/bin/python3")
        env["PATH"] = f"{shim}{os.pathsep}{env.get('PATH', '')}"
    return env


def clone(destination: Path) -> Path:
    """The project's tracked and unignored files, with their times (make compares them with
    .venv/.installed), and the shared .venv linked in."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / name.decode()
        if source.is_file():
            target = destination / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (destination / ".venv").symlink_to((ROOT / ".venv").resolve())
    return destination


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def log_in(port: int, username: str, password: str) -> int:
    """Log in through the login form, as a browser does; the status of the answer to the POST."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    url = f"http://127.0.0.1:{port}/accounts/login/"
    page = opener.open(url, timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password})
    request = urllib.request.Request(url, data=form.encode(), headers={"Referer": url})
    try:
        return opener.open(request, timeout=30).status
    except urllib.error.HTTPError as answer:
        return answer.code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Running:
    """`make run` (or another command line that starts it) in its own process group, read as it
    writes; stopped as Ctrl-C stops it."""

    def __init__(self, command: str, cwd: Path, env: dict[str, str]) -> None:
        self.output = cwd.parent / "make-run.log"
        self._log = self.output.open("w")
        self.process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.text()):
                return self.text()
            assert self.process.poll() is None, f"make run stopped:\n{self.text()[-3000:]}"
            time.sleep(0.5)
        raise AssertionError(f"no {pattern!r} within {timeout} s:\n{self.text()[-3000:]}")

    def stop(self) -> int:
        """Ctrl-C: SIGINT to the whole group, as a terminal sends it; SIGKILL if it lingers."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self._log.close()
        return self.process.returncode


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def demo_running(tmp_path_factory):
    """A fresh clone where `make run` runs (on a free port) until `after_make_run` stops it; a
    person has logged in through the form."""
    copy = clone(tmp_path_factory.mktemp("readme") / "gongwen")
    env = fresh_shell_environment(copy)
    port = free_port()
    running = Running(f"PORT={port} make run", copy, env)
    try:
        banner = running.wait_for(r"Ctrl-C stops it\.", timeout=600)
        assert log_in(port, "jygw", "demo-password") == 302
        time.sleep(1)  # what the server prints for the login
        yield {"copy": copy, "env": env, "port": port, "banner": banner, "running": running}
    finally:
        running.stop()
        if group_alive(running.process.pid):
            os.killpg(running.process.pid, signal.SIGKILL)  # never leave them behind


@pytest.fixture(scope="module")
def after_make_run(demo_running):
    """`make run` stopped as Ctrl-C stops it: what it printed, and whether anything outlived it."""
    running = demo_running["running"]
    printed = running.text()
    running.stop()
    for _ in range(20):  # the trap's kill reaches every process of the group
        if not group_alive(running.process.pid):
            break
        time.sleep(0.5)
    return {**demo_running, "printed": printed, "left_running": group_alive(running.process.pid)}


@pytest.mark.browser
def test_the_replayed_chain_reads_as_history_in_the_browser(demo_running):
    """On the running demo: auditor opens the seed's chain (2022 dates, sign-for times in minutes per
    level), jygw finds the drill on top, admin enters the admin site. Screenshots at 1280 and 390 px
    under test-artifacts/demo/."""
    from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS

    if not (Path(CHROMIUM).exists() and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"no browser at {CHROMIUM} (install Debian's chromium: `make system`)")
    from playwright.sync_api import sync_playwright

    folder = ROOT / "test-artifacts" / "demo"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    base = f"http://127.0.0.1:{demo_running['port']}"
    errors = []

    def log_in_as(browser, username: str):
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill("demo-password")
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{base}/**")
        return page

    def shoot(page, name: str) -> None:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(folder / f"{name}-1280.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(folder / f"{name}-390.png"), full_page=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = log_in_as(browser, "auditor")
            page.goto(f"{base}/chains/")
            shoot(page, "01-chains")
            page.set_viewport_size({"width": 1280, "height": 900})
            page.get_by_role("link", name=TELEGRAM_TITLE).click()
            page.wait_for_url("**/chain/")
            text = page.locator("main").inner_text()
            shoot(page, "02-chain")
            # jygw: the drill on top of the inbox, and in the bell the drill only (2022 was read then).
            inbox = log_in_as(browser, "jygw")
            first_row = inbox.locator("table.inbox tbody tr").first.inner_text()
            bell = inbox.locator(".bell-count").inner_text()
            shoot(inbox, "03-jygw-inbox")
            admin = log_in_as(browser, "admin")
            admin.goto(f"{base}/admin/")
            admin_text = admin.locator("body").inner_text()
            shoot(admin, "04-admin")
        finally:
            browser.close()
    assert errors == []
    assert "2022-10-13" in text
    assert "0.0秒" not in text
    assert "内教工委函〔2022〕90号" in text
    assert "关于开展公文流转系统签收转发演练的通知" in first_row
    assert bell == "1"
    assert "办理时限" in admin_text


def test_make_run_on_another_port_prints_every_login_writes_the_demo_env_and_stops_on_ctrl_c(after_make_run):
    port, banner = after_make_run["port"], after_make_run["banner"]
    tail = banner[banner.index("公文流转 is running at") :]
    assert tail.splitlines()[0] == (
        f"公文流转 is running at http://127.0.0.1:{port}/ — "
        f"the admin at http://127.0.0.1:{port}/admin/ (log in as admin)."
    )
    logins = [line.split()[0] for line in tail.splitlines()[2:15]]
    inside_imu = ["imu-office", "imu-leader", "imu-zzb", "imu-xcb", "imu-reader1", "imu-reader2"]
    assert logins == ["zzb", "zzb-leader", "jygw", "jygw-leader", "imu", *inside_imu, "auditor", "admin"]
    assert "password: demo-password" in tail.splitlines()[1]
    # A login prints nothing of django-axes' (four INFO lines a login before).
    assert "AXES" not in after_make_run["printed"]
    env_file = (after_make_run["copy"] / ".env").read_text(encoding="utf-8").splitlines()
    assert env_file[0] == "# Written by make run (scripts/run-demo.sh): the demo's environment."
    values = dict(line.split("=", 1) for line in env_file if line and not line.startswith("#"))
    assert sorted(values) == ["AUDIT_CHECKPOINT_DIR", "AUDIT_SIGNING_KEY_FILE", "DATABASE_URL", "DEBUG", "SECRET_KEY"]
    # The demo's key for audit checkpoints, made because none was configured (and said so), and the
    # checkpoint signed with it once the demo was loaded.
    demo_key = after_make_run["copy"] / "var" / "audit-demo-signing.key"
    assert (values["AUDIT_SIGNING_KEY_FILE"], values["AUDIT_CHECKPOINT_DIR"]) == (
        str(demo_key),
        str(after_make_run["copy"] / "var" / "checkpoints"),
    )
    assert f"make run: no audit signing key yet: wrote a demo key, {demo_key} (for the demo only)" in banner
    assert os.stat(demo_key).st_mode & 0o077 == 0
    assert len(list((after_make_run["copy"] / "var" / "checkpoints").glob("checkpoint-*.json"))) >= 1
    assert values["DEBUG"] == "1"
    assert values["DATABASE_URL"] == f"sqlite:///{after_make_run['copy'] / 'var' / 'db.sqlite3'}"
    assert len(values["SECRET_KEY"]) >= 50
    assert os.stat(after_make_run["copy"] / ".env").st_mode & 0o077 == 0  # the key is the owner's
    assert after_make_run["left_running"] is False  # Ctrl-C stops the server, the worker, beat, the clerks


def test_make_run_again_keeps_the_key_and_an_operators_env_is_left_alone(tmp_path):
    """The .env writing of run-demo.sh alone (its lines before `migrate`), in a scratch folder."""
    script = (ROOT / "scripts/run-demo.sh").read_text(encoding="utf-8")
    preamble = script[: script.index("$py manage.py migrate")]
    scratch = tmp_path / "project"
    (scratch / "scripts").mkdir(parents=True)
    (scratch / "scripts/env.sh").write_text(preamble, encoding="utf-8")
    (scratch / ".venv").symlink_to((ROOT / ".venv").resolve())
    env = fresh_shell_environment(scratch)

    def write_env() -> str:
        subprocess.run(["bash", "scripts/env.sh"], cwd=scratch, env=env, check=True, capture_output=True)
        return (scratch / ".env").read_text(encoding="utf-8")

    first = write_env()
    key = re.compile(r"^SECRET_KEY=.{50,}$", re.MULTILINE)
    assert key.findall(write_env()) == key.findall(first) != []
    (scratch / ".env").write_text("DEBUG=0\nSECRET_KEY=the-operators-own\n", encoding="utf-8")
    done = subprocess.run(["bash", "scripts/env.sh"], cwd=scratch, env=env, capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (0, "make run: .env was not written by make run; using it as it is\n")
    assert (scratch / ".env").read_text(encoding="utf-8") == "DEBUG=0\nSECRET_KEY=the-operators-own\n"


# --- every command, as printed ------------------------------------------------------------------------

CHECKS = {
    "python manage.py demo": lambda out, copy: "demo already loaded (内组电明字〔2022〕11号 exists)" in out,
    "python manage.py chain '内组电明字〔2022〕11号'": lambda out, copy: out.startswith(
        "内组电明字〔2022〕11号 【特提】关于进一步发挥基层党组织"
    ),
    "python manage.py chain '内组电明字〔2022〕11号' --json": lambda out, copy: (
        json.loads(out)["number"] == "内组电明字〔2022〕11号"
    ),
    "python manage.py verify_audit": lambda out, copy: (
        re.fullmatch(r"ok \d+ receipts\nok \d+ events, \d+ checkpoints\n", out) is not None
    ),
    "python manage.py audit_checkpoint": lambda out, copy: (
        re.fullmatch(r"wrote \S+/var/checkpoints/checkpoint-\d{12}-\S+\.json \(\d+ events, root [0-9a-f]{64}\)\n", out)
        is not None
    ),
    "python manage.py audit_checkpoint --public-key": lambda out, copy: (
        re.fullmatch(r"-----BEGIN PUBLIC KEY-----\n\S+\n-----END PUBLIC KEY-----\n", out) is not None
    ),
    "python manage.py api_token jygw": lambda out, copy: len(out.split()[0]) > 40,
    SECTION_COMMANDS[5]: lambda out, copy: json.loads(out.splitlines()[0])["number"] == "内教工委函〔2022〕90号",
    SECTION_COMMANDS[6]: lambda out, copy: "内教工委函〔2022〕90号已送达中共内蒙古大学委员会，无需重复登记" in out,
    SECTION_COMMANDS[7]: lambda out, copy: (
        (copy / "90.pdf").read_bytes().startswith(b"%PDF")
        and "内教工委函〔2022〕90号" in (copy / "90.html").read_text(encoding="utf-8")
    ),
}


def _cases():
    for command in readme_commands():
        if command.endswith("make run"):
            continue  # run by the fixture, on a free port
        marks = []
        if command.endswith("make test") or "make test" in command:
            marks.append(pytest.mark.skip(reason="make test runs this suite: never from inside it"))
        elif command.startswith("make bench") or command.endswith("make bench"):
            marks.append(pytest.mark.skipif(not LONG, reason="long (minutes): RUN_LONG_README_COMMANDS=1 runs it"))
        yield pytest.param(command, marks=marks, id=command)


@pytest.mark.parametrize("command", list(_cases()))
def test_each_readme_command_works_as_printed_after_make_run(after_make_run, command):
    copy = after_make_run["copy"]
    done = subprocess.run(
        ["bash", "-c", command], cwd=copy, env=after_make_run["env"], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    assert "Traceback" not in done.stderr, done.stderr
    check = CHECKS.get(command)
    assert check is None or check(done.stdout, copy), f"{command}\n{done.stdout[-2000:]}"
