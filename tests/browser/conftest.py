"""Fixtures for the browser test: a real Home Assistant, the stand-in, a Chromium page.

The suite's in-process Home Assistant (tests/conftest.py) is not used here: the
browser talks to a Home Assistant in a subprocess (home.py).
"""

from __future__ import annotations

from collections.abc import Iterator
import importlib.util
import os
from pathlib import Path
import shutil
from typing import Any

from PIL import Image
import pytest

from .home import Home, running_home

# Where the screenshots go: a temporary folder, unless EOC_SCREENSHOTS names one (the
# README's are made with EOC_SCREENSHOTS=docs/screenshots).
SCREENSHOTS = os.environ.get("EOC_SCREENSHOTS")
VIEWPORT = {"width": 1024, "height": 700}


def chromium_path() -> str | None:
    """The system's Chromium ($EOC_CHROMIUM, else Debian's `chromium` on PATH)."""
    found = os.environ.get("EOC_CHROMIUM") or shutil.which("chromium")
    return found or shutil.which("chromium-browser")


def missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    if chromium_path() is None:
        return "no Chromium: `scripts/setup --browser` installs Debian's chromium"
    for module, requirement in (
        ("playwright", "requirements_test.txt"),
        ("hass_frontend", "requirements_dev.txt (`scripts/setup --browser`)"),
    ):
        if importlib.util.find_spec(module) is None:
            return f"no {module}: install {requirement}"
    return None


@pytest.fixture(autouse=True)
def setup_home_assistant() -> None:
    """No in-process Home Assistant for the browser test (tests/conftest.py has one)."""


@pytest.fixture
def home(socket_enabled: None) -> Iterator[Home]:
    """Home Assistant onboarded, the demo home arranged, the integration not added.

    Function-scoped, as the socket it needs is (there is one test).
    """
    with running_home() as running:
        yield running


@pytest.fixture
def page(home: Home) -> Iterator[Any]:
    """A headless Chromium page at 1024x700 that reaches only this machine."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - may be absent

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            # Brand icons and the like come from the internet: never look them up.
            args=["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
        )
        context = browser.new_context(viewport=VIEWPORT, locale="en-US")
        context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1"))
                or route.request.url.startswith(("data:", "blob:"))
                else route.abort()
            ),
        )
        context.set_default_timeout(30_000)
        yield context.new_page()
        context.close()
        browser.close()


@pytest.fixture
def shot(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Save a PNG of the page: `shot(page, "01-login")`."""
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path_factory.mktemp("shots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"browser test: screenshots in {folder}")  # noqa: T201

    def take(page: Any, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), animations="disabled")
        # A palette of 64 colours keeps the README's pictures small and legible.
        with Image.open(path) as image:
            small = image.convert("RGB").quantize(colors=64)
        small.save(path, optimize=True)
        return path

    return take


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test, for the failure screenshot below."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def failure_screenshot(
    request: pytest.FixtureRequest, page: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """On a failure, save what the browser showed (its path is printed)."""
    yield
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        path = tmp_path_factory.mktemp("browser") / "failure.png"
        page.screenshot(path=str(path))
        print(f"browser test: the page at the failure: {path}")  # noqa: T201
