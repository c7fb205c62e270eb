"""The explorer's session: the access token is refreshed before it expires."""

import time

import pytest

from contacts_api.core.app import create_app
from tests.plugins.explorer.conftest import FAST, LiveServer
from tests.plugins.explorer.test_browser import by_testid, sign_in, wait, wait_text

# The page refreshes at 80% of the lifetime, which it takes as at least 10 s
# (static/js/api.js): a shorter TTL would expire before the page refreshes.
TTL_S = 10


@pytest.fixture
def live_server(settings_factory):
    settings = settings_factory(
        **FAST,
        CONTACTS_API__AUTH__ACCESS_TOKEN_TTL_S=str(TTL_S),
        CONTACTS_API__AUTH__REGISTRATION_OPEN="true",
    )
    server = LiveServer(create_app(settings)).start()
    yield server
    server.stop()


def refreshes(driver) -> int:
    return driver.execute_script(
        "return performance.getEntriesByType('resource')"
        ".filter((e) => e.name.endsWith('/api/v2/auth/refresh')).length"
    )


def test_the_access_token_is_refreshed_before_it_expires(page):
    driver = page.driver
    page.server.seed([{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@x.example"}])
    sign_in(page)
    wait_text(driver, "results-count", lambda t: t == "1 contact")
    assert refreshes(driver) == 0
    wait(driver).until(lambda d: refreshes(d) >= 2, "no refresh before expiry")
    time.sleep(1)
    # Well past the first token's lifetime, the page still reads the API.
    driver.find_element(*by_testid("search-input")).send_keys("lovelace")
    driver.find_element(*by_testid("search-submit")).click()
    wait_text(driver, "results-count", lambda t: t == "1 contact")
    failed = driver.execute_script(
        "return performance.getEntriesByType('resource')"
        ".filter((e) => e.responseStatus === 401).length"
    )
    assert failed == 0  # never refused: refreshed ahead of time, not after a 401
