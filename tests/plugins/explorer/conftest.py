"""Fixtures of the explorer's browser tests: the app served on a real socket
from a thread (Selenium's calls block, so the server cannot share the test's
loop), seeded through the database or the API, and Debian's headless Chromium
driven through chromedriver. A missing browser fails the tests: it is never a
reason to skip them (``.ci/run`` installs it)."""

import asyncio
import json
import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiohttp import web

from contacts_api.core.app import create_app
from tests.helpers import seed

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PASSWORD = "correct horse battery staple"
FAST = {"CONTACTS_API__AUTH__BCRYPT_ROUNDS": "4"}


class LiveServer:
    """The app on 127.0.0.1:<port>, its event loop in a thread of its own."""

    def __init__(self, app: web.Application):
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner: web.AppRunner | None = None
        self.port = 0

    def start(self) -> "LiveServer":
        self.thread.start()
        self.run(self._start())
        return self

    async def _start(self) -> None:
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def run(self, coroutine, timeout: float = 60):
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        if self.runner is not None:
            self.run(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=data,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else {}
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def seed(self, people: list[dict]) -> list:
        return self.run(seed(SimpleNamespace(app=self.app), people))

    def register(self, email: str) -> dict:
        status, body = self.request(
            "POST", "/api/v2/auth/register", {"email": email, "password": PASSWORD}
        )
        assert status == 201, body
        return body


@pytest.fixture
def live_server(settings_factory) -> Iterator[LiveServer]:
    settings = settings_factory(**FAST, CONTACTS_API__AUTH__REGISTRATION_OPEN="true")
    server = LiveServer(create_app(settings)).start()
    yield server
    server.stop()


# -- the browser ---------------------------------------------------------------


def _require(path: str) -> str:
    found = shutil.which(Path(path).name) or (path if Path(path).exists() else None)
    if found is None:
        pytest.fail(
            f"{path} is missing: install Debian's chromium and chromium-driver packages "
            "(`apt-get install -y chromium chromium-driver`; .ci/run does it)",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (each test opens its own server's
    origin, so no state carries over: tokens live in the page's memory)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _require(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # tests may run as root (CI containers)
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1440,1000",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(_require(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser, live_server, request, tmp_path_factory):
    """The browser on this test's server. On failure a screenshot is saved and
    its path printed; browser console errors from our own scripts (an
    exception, a Content-Security-Policy violation) fail the test."""
    browser.get("about:blank")
    browser.get_log("browser")  # drop what earlier tests left
    yield SimpleNamespace(driver=browser, server=live_server)
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        folder = tmp_path_factory.getbasetemp() / "explorer-screenshots"
        folder.mkdir(exist_ok=True)
        shot = folder / f"{request.node.name}.png"
        browser.save_screenshot(str(shot))
        print(f"\nscreenshot of the failure: {shot}")
        return
    problems = [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE"
        and ("Content Security Policy" in entry["message"] or "Uncaught" in entry["message"])
    ]
    assert not problems, problems
