"""Browser tests: a real server on a temporary SQLite database, driven by Debian's Chromium.

The server is the product as users run it (``problembild init``, imports, ``refresh``,
``serve``), started once per test session on a free port on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "browser-test-password-1"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(env, *args, timeout=600):
    result = subprocess.run(
        [sys.executable, "-m", "problembild.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"problembild {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@pytest.fixture(scope="session")
def server(served):
    """Base URL of a served Problembild with the real register, feed sample and synthetic data."""
    return served.url


@pytest.fixture(scope="session")
def manage(served):
    """Run a Python snippet in ``problembild manage shell`` against the served database."""

    def run(code: str) -> str:
        return _cli(served.env, "manage", "shell", "-c", code)

    return run


@dataclass(frozen=True)
class Served:
    url: str
    env: dict
    data: Path


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """The served Problembild: its URL, the environment of its commands and its data directory."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/system-deps.sh installs it)")
    data = tmp_path_factory.mktemp("browser-data")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="problembild.settings.dev", PROBLEMBILD_DATA_DIR=str(data))
    _cli(env, "init")
    _cli(env, "import", "polisen-events")
    _cli(env, "demo-data", "--incidents", "30000", "--years", "3", "--seed", "7")
    _cli(env, "refresh")
    _cli(env, "manage", "shell", "-c", _USERS_SCRIPT)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "problembild.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/login/", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError("the server did not start")
    yield Served(url=url, env=env, data=data)
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(data, ignore_errors=True)


_USERS_SCRIPT = f"""
from problembild.core.bootstrap import create_demo_users
create_demo_users(admin_password={PASSWORD!r}, reset=True)
"""


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def login(browser, server):
    """Open a new page logged in as ``username`` (a demo user)."""
    contexts = []

    def open_as(username: str = "admin", locale: str = "sv-SE"):
        context = browser.new_context(
            locale=locale, accept_downloads=True, viewport={"width": 1360, "height": 900}
        )
        contexts.append(context)
        page = context.new_page()
        page.goto(server + "/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url(server + "/")
        return page

    yield open_as
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)
