"""`fabcity serve` for tests: a free port, the command, and waiting until every worker answers."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from playwright.sync_api import expect

from builders import PASSWORD

FABCITY = str(Path(sys.executable).parent / "fabcity")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-output" / "screenshots"  # of failed browser tests
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}  # a small phone
START_S = 120  # a worker opens the database and builds its indexes before it listens


def log_in(page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the log-in form in a browser tab (Playwright), landing on the map."""
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(r"/$"), wait_until="commit")  # signed in; the map need not finish loading


# A need in Korean that a place with the laser cutter of `fill_a_laser_cutter` meets (the part fits its bed),
# near Euljiro: fab-lab-seoul, in the embedded dataset, ranks first with it.
LASER_NEED = "아크릴 판 레이저 커팅 1200x800mm 2개, 을지로 근처"


def new_machine_row(page):
    """On a node's edit form, add a row to the machine editor (its script does) and give the new row."""
    rows = page.locator(".machine-row:not(template .machine-row)")
    existing = rows.count()
    page.click("#add-machine")
    expect(rows).to_have_count(existing + 1)
    return rows.nth(existing)


def fill_a_laser_cutter(row) -> None:
    """A row of the machine editor becomes a 100 W Trotec laser cutter with a 1300 × 900 mm bed."""
    row.locator(".machine-type").select_option("laser_cutter")
    row.locator("input[name$='-make']").fill("Trotec")
    row.locator("input[name$='-quantity']").fill("1")
    row.locator("input[name$='-bed_size_mm-0']").fill("1300")
    row.locator("input[name$='-bed_size_mm-1']").fill("900")
    row.locator("input[name$='-laser_power_w']").fill("100")


def save_the_edit(page, node: str) -> None:
    """Save the edit form of the node at path `node`: back on its page, told it was saved."""
    page.click(f"form[action='{node}/edit'] button[type=submit]")
    page.wait_for_url(re.compile(f"{node}$"))
    expect(page.locator("p.notice")).to_have_text("저장되었습니다.")


def find_makers(page, need: str):
    """Type a need on /match and send it: the links of the makers it lists, best first."""
    page.goto("/match")
    page.fill("#text", need)
    page.click("#need-form button[type=submit]")
    return page.locator("#matches li a")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_side(port: int, connections: list[http.client.HTTPConnection]) -> set[int]:
    """Socket inodes of the server's ends of these open client connections (from /proc/net/tcp)."""
    peers = {connection.sock.getsockname()[1] for connection in connections}
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(address.rsplit(":", 1)[1], 16) for address in fields[1:3])
        if local == port and remote in peers and fields[3] == "01":  # 01: established
            inodes.add(int(fields[9]))
    return inodes


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def worker_pids(pid: int) -> list[int]:
    """The worker processes among the children of `pid` (not multiprocessing's resource tracker)."""
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:  # gone meanwhile
            continue
        if b"multiprocessing.spawn" in command:
            found.append(int(child))
    return found


def until(condition: Callable[[], object], what: str, timeout: float = START_S) -> object:
    """Poll (a worker's start is minutes at worst in CI) until `condition` gives something true."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.05)
    return result


def kept_alive(port: int) -> http.client.HTTPConnection:
    """A connection that has been answered once and stays open, as a browser keeps it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=START_S)
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    assert response.status == 200
    return connection


def served_by(workers: Iterable[int], port: int, connections: list[http.client.HTTPConnection]) -> dict[int, int]:
    """How many of these open connections each worker holds."""
    server_ends = server_side(port, connections)
    return {pid: len(socket_inodes(pid) & server_ends) for pid in workers}


def all_answering(server: subprocess.Popen, port: int, workers: int = 2) -> list[int]:
    """The workers, once there are `workers` of them and each has answered on a new connection
    (until a worker has started, the parent hands connections to the others)."""
    answered: set[int] = set()

    def all_answered() -> list[int] | None:
        assert server.poll() is None, "the server stopped"
        current = worker_pids(server.pid)
        if len(current) == workers:
            connection = kept_alive(port)
            answered.update(pid for pid, count in served_by(current, port, [connection]).items() if count)
            connection.close()
        return current if len(current) == workers and answered >= set(current) else None

    return until(all_answered, f"{workers} workers answering")


@dataclass(frozen=True)
class Serving:
    """A running `fabcity serve`: its process, its port, and the file its output goes to."""

    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def serving(db: str, log: Path, env: dict[str, str] | None = None) -> Iterator[Serving]:
    """`fabcity serve --workers 2` on `db`, once both workers answer; stopped (SIGINT) when the block ends."""
    port = free_port()
    with log.open("w") as output:
        process = subprocess.Popen(
            [FABCITY, "serve", "--port", str(port), "--workers", "2", "--db", db],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            all_answering(process, port)
            yield Serving(process, port, log)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=60)


@contextmanager
def live_app(app: object) -> Iterator[str]:
    """The app served in this process on a free loopback port (for a browser), stopped when the block ends."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    until(lambda: server.started or not thread.is_alive(), "the test server listening", 30)
    if not server.started:
        raise RuntimeError("the test server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def browser_tab(browser, base_url: str, viewport: dict[str, int], request, name: str = "") -> Iterator[object]:
    """A Korean tab on `base_url` (its own cookies); a failed test leaves a screenshot of its page under
    SCREENSHOTS, named after the test and `name` (for a test with several tabs)."""
    context = browser.new_context(base_url=base_url, locale="ko-KR", viewport=viewport)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    try:
        yield tab
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(SCREENSHOTS / f"{request.node.name}{name}.png"), full_page=True)
    finally:
        context.close()
