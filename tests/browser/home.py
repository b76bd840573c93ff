"""A real Home Assistant and the Ollama stand-in, in subprocesses, for the browser test.

Home Assistant runs from a temporary copy of config/ (the demo home) with this
integration linked in, on free ports; onboarding is completed through its API (the
browser test starts at the login page), the demo devices are put in areas and exposed
with scripts/develop_home.py's own code, and the integration is NOT added: the test
adds it through the UI.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
import contextlib
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any
import urllib.error
import urllib.request

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import develop_home  # noqa: E402  (a script, not a package)

PYTHON = sys.executable


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, ready: set[int], seconds: float, process: Any) -> None:
    """Wait until `url` answers with one of the `ready` statuses."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process ended ({process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as err:
            status = err.code
        except OSError:
            status = 0
        if status in ready:
            return
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


@dataclass
class Home:
    """The running processes, their URLs and the owner's login."""

    url: str
    ollama_url: str
    config_dir: Path
    username: str = develop_home.USERNAME
    password: str = develop_home.PASSWORD
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    session: aiohttp.ClientSession | None = None
    api: develop_home.HomeAssistantAPI | None = None
    # The API's loop runs in its own thread: Playwright's runs in the test's.
    thread: threading.Thread | None = None

    def run[T](self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run one API coroutine on this home's own event loop, and wait for it."""
        if self.thread is None:
            self.thread = threading.Thread(
                target=self.loop.run_forever, name="home-api", daemon=True
            )
            self.thread.start()
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(300)

    def close(self) -> None:
        """Close the API's session and stop its loop and thread."""
        if self.session is not None:
            if self.api is not None:
                self.run(self.api.close())
            self.run(self.session.close())
        if self.thread is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join()
        self.loop.close()

    def ws(self, command: str, **fields: Any) -> Any:
        """One websocket command as the owner (for what the test checks, not drives)."""
        assert self.api is not None
        return self.run(self.api.ws(command, **fields))

    def state(self, entity_id: str) -> str:
        """An entity's state, through the REST API."""
        assert self.api is not None
        return str(self.run(self.api.rest("GET", f"/api/states/{entity_id}"))["state"])

    def log(self) -> str:
        """Home Assistant's log so far (for a failure's message)."""
        path = self.config_dir / "home-assistant.log"
        return path.read_text(errors="replace")[-6000:] if path.exists() else ""

    def start_stub(self, port: int) -> None:
        """Start (or start again) the stand-in in demo mode on its port."""
        self.processes["stub"] = subprocess.Popen(  # noqa: S603 - our own module
            [PYTHON, "-m", "tests.ollama_stub", "--port", str(port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_http(
            f"{self.ollama_url}/api/version", {200}, 30, self.processes["stub"]
        )

    def stop(self, name: str) -> None:
        """Stop one process and wait for it."""
        process = self.processes.pop(name, None)
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def make_config(port: int) -> Path:
    """A temporary config dir: config/'s demo home on `port`, the integration linked."""
    config_dir = Path(tempfile.mkdtemp(prefix="eoc-browser-"))
    shutil.copy(ROOT / "config" / "configuration.yaml", config_dir)
    # Home Assistant keeps its HTTP settings in storage (YAML would be a change to
    # confirm in the UI): a first-version store, which it migrates as its own.
    storage = config_dir / ".storage"
    storage.mkdir()
    (storage / "http").write_text(
        json.dumps(
            {
                "version": 1,
                "minor_version": 1,
                "key": "http",
                "data": {"server_host": ["127.0.0.1"], "server_port": port},
            }
        )
    )
    (config_dir / "custom_components").symlink_to(ROOT / "custom_components")
    return config_dir


@contextlib.contextmanager
def running_home() -> Iterator[Home]:
    """Start the stand-in and Home Assistant, onboard, arrange the demo; stop all after."""
    ha_port, stub_port = free_port(), free_port()
    home = Home(
        url=f"http://127.0.0.1:{ha_port}",
        ollama_url=f"http://127.0.0.1:{stub_port}",
        config_dir=make_config(ha_port),
    )
    try:
        home.start_stub(stub_port)
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        home.processes["ha"] = subprocess.Popen(  # noqa: S603 - Home Assistant
            [
                PYTHON,
                "-m",
                "homeassistant",
                "--config",
                str(home.config_dir),
                "--skip-pip",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # The frontend's manifest needs no login (the API would note a failed one).
        wait_for_http(f"{home.url}/manifest.json", {200}, 240, home.processes["ha"])
        home.run(_prepare(home))
        yield home
    finally:
        home.close()
        for name in ("ha", "stub"):
            home.stop(name)
        shutil.rmtree(home.config_dir, ignore_errors=True)


async def _prepare(home: Home) -> None:
    """Onboarding through its API, then the demo's areas and exposure."""
    home.session = aiohttp.ClientSession()
    home.api = develop_home.HomeAssistantAPI(home.session, home.url)
    await home.api.log_in()
    await develop_home.arrange_demo_home(home.api)
