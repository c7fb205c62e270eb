"""The explorer's time to first results, measured in a real browser.

    python benchmarks/explorer_search.py [--contacts 1000000 --companies 100000] [--reuse]
                                         [--rounds 7]

Uses the database of ``benchmarks/list_queries.py`` (``contacts_bench`` next to
``DATABASE_URL``; ``--reuse`` keeps an already loaded one, else it is created
and loaded with ``benchmarks/generate.py``), serves the app on a free port,
signs in with Debian's headless Chromium and, for each representative search,
fills the page's form, submits it and reads what the page measured with the
Performance API: ``performance.measure("explorer-search")``, from the submit
to the first results rendered in the table (the count comes after, on its own
request, and is not part of it).

Pass criterion (issue 21): every search's median under 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import web  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from benchmarks.common import free_port  # noqa: E402
from benchmarks.list_queries import app_settings, prepare_database  # noqa: E402
from contacts_api.core.app import create_app  # noqa: E402

TARGET_MS = 300
EMAIL, PASSWORD = "bench-explorer@example.com", "bench explorer password"
# (label, form fields by input id)
SEARCHES = [
    ("no filter", {}),
    ("search box", {"f-search": "john"}),
    ("title", {"f-title": "manager"}),
    ("title + country", {"f-title": "director", "f-country": "germany"}),
    ("seniority + employees", {"f-seniority": "vp", "f-employees-min": "50"}),
    ("industry + has email", {"f-industry": "software", "f-has-email": "true"}),
    ("technologies", {"f-technologies": "salesforce"}),
]


def serve(app: web.Application, port: int) -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()

    async def start() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()

    asyncio.run_coroutine_threadsafe(start(), loop).result(120)
    return loop


def register(base: str) -> None:
    body = json.dumps({"email": EMAIL, "password": PASSWORD}).encode()
    for route in ("register", "login"):  # a reused database already has the user
        request = urllib.request.Request(
            f"{base}/api/v2/auth/{route}", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            urllib.request.urlopen(request, timeout=30).close()
            return
        except urllib.error.HTTPError:
            continue
    raise SystemExit("cannot register or sign in the benchmark user")


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1440,1000"):
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))


def run_search(driver, fields: dict[str, str]) -> float:
    """Fill the form, submit, wait for the results; the page's measure in ms."""
    driver.execute_script(
        "performance.clearMeasures('explorer-search');"
        "const form = document.getElementById('search-form'); form.reset();"
        "for (const [id, value] of Object.entries(arguments[0]))"
        "  document.getElementById(id).value = value;",
        fields,
    )
    driver.find_element(By.CSS_SELECTOR, '[data-testid="search-submit"]').click()
    WebDriverWait(driver, 60).until(
        lambda d: d.execute_script(
            "return performance.getEntriesByName('explorer-search', 'measure').length"
        )
    )
    return driver.execute_script(
        "return performance.getEntriesByName('explorer-search', 'measure')[0].duration"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--database-name", default="contacts_bench")
    args = parser.parse_args(argv)

    admin_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    url = prepare_database(admin_url, args.database_name, args)
    port = free_port()
    serve(create_app(app_settings(url, tempfile.mkdtemp())), port)
    base = f"http://127.0.0.1:{port}"
    register(base)

    driver = browser()
    failed = False
    try:
        driver.get(base + "/explorer/")
        driver.find_element(By.CSS_SELECTOR, '[data-testid="login-email"]').send_keys(EMAIL)
        driver.find_element(By.CSS_SELECTOR, '[data-testid="login-password"]').send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, '[data-testid="login-submit"]').click()
        WebDriverWait(driver, 60).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="results-row"]')
        )
        print(f"{'search':<24} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for label, fields in SEARCHES:
            run_search(driver, fields)  # warm-up: first plan and dictionary lookups
            times = sorted(run_search(driver, fields) for _ in range(args.rounds))
            p50 = statistics.median(times)
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            failed |= p50 >= TARGET_MS
            print(f"{label:<24} {p50:>8.0f} {p95:>8.0f} {times[-1]:>8.0f}")
    finally:
        driver.quit()
    print(f"\n{'FAIL' if failed else 'PASS'}: median time to first results < {TARGET_MS} ms")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
