"""Accessibility basics of the explorer: axe-core (vendored) finds no serious
or critical violation in any of the page's states, every input has a label,
and a search can be made and read with the keyboard alone."""

from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.plugins.explorer.conftest import PASSWORD
from tests.plugins.explorer.test_browser import (
    by_testid,
    find,
    open_tab,
    people,
    rows,
    sign_in,
    wait,
    wait_text,
)

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
BLOCKING = ("serious", "critical")


def axe_violations(driver) -> list[dict]:
    """Run axe-core on the page as it is; answer its violations."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE)
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then((r) => done(r.violations), (e) => done([{id: 'axe-error', impact: 'critical',"
        " help: String(e), nodes: []}]));"
    )


def assert_accessible(driver, state: str) -> None:
    violations = axe_violations(driver)
    blocking = [
        (v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:5])
        for v in violations
        if v["impact"] in BLOCKING
    ]
    assert not blocking, f"{state}: {blocking}"


def unlabelled_fields(driver) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll('input, select, textarea')]"
        ".filter((f) => f.type !== 'hidden' && !f.labels.length && !f.getAttribute('aria-label'))"
        ".map((f) => f.id || f.name || f.outerHTML)"
    )


def test_no_serious_axe_violation_in_any_state_and_every_input_is_labelled(page, tmp_path):
    driver, server = page.driver, page.server
    server.seed(people(30))
    server.register("ada@example.com")
    driver.get(server.url + "/explorer/")
    wait(driver).until(lambda d: find(d, "login-email").is_displayed())
    assert unlabelled_fields(driver) == []
    assert_accessible(driver, "sign-in")

    find(driver, "login-password").send_keys("wrong password" + Keys.ENTER)
    wait(driver).until(lambda d: d.find_element(By.ID, "login-error").text)
    assert_accessible(driver, "sign-in refused")
    find(driver, "login-email").send_keys("ada@example.com")
    find(driver, "login-password").clear()
    find(driver, "login-password").send_keys(PASSWORD + Keys.ENTER)
    wait_text(driver, "results-count", lambda t: t == "30 contacts")
    assert_accessible(driver, "results")

    find(driver, "export-start").click()  # no filter: the page explains
    wait_text(driver, "export-status", bool)
    find(driver, "filter-country").send_keys("germany" + Keys.ENTER)
    wait_text(driver, "results-count", lambda t: t == "15 contacts")
    find(driver, "export-start").click()
    wait(driver).until(lambda d: find(d, "export-download").is_displayed())
    assert_accessible(driver, "export done")

    driver.find_elements(*by_testid("results-row"))[0].click()
    wait(driver).until(lambda d: "other contacts" in d.find_element(By.ID, "details").text.lower())
    assert_accessible(driver, "details")
    driver.find_element(By.ID, "details-close").click()

    open_tab(driver, "Apollo URL")
    find(driver, "apollo-url").send_keys(
        "https://app.apollo.io/#/people?personTitles[]=ceo&finderViewId=1&contactEmailStatusV2[]=user_managed"
    )
    find(driver, "apollo-submit").click()
    wait_text(driver, "apollo-unmapped", lambda t: "finderViewId" in t)
    assert_accessible(driver, "apollo report")

    open_tab(driver, "Import")
    source = tmp_path / "leads.csv"
    source.write_text("first_name,email\nAda,ada@imported.example\nBad,not-an-email\n")
    find(driver, "import-file").send_keys(str(source))
    driver.find_element(By.ID, "import-key").send_keys("test-write-key-0123456789")
    find(driver, "import-submit").click()
    wait_text(driver, "import-status", lambda t: t.endswith("completed"))
    wait(driver).until(lambda d: d.find_element(By.ID, "import-errors").text)
    assert unlabelled_fields(driver) == []
    assert_accessible(driver, "import done")


def test_a_search_with_the_keyboard_alone(page):
    driver, server = page.driver, page.server
    server.seed(people(30))
    sign_in(page)
    wait_text(driver, "results-count", lambda t: t == "30 contacts")

    def keys(*sequence):
        driver.switch_to.active_element.send_keys(*sequence)

    def focused_testid() -> str | None:
        return driver.switch_to.active_element.get_attribute("data-testid")

    # Signed in, the focus is in the search box: type, Tab to the title, Enter.
    assert focused_testid() == "search-input"
    keys("example")
    keys(Keys.TAB)
    assert focused_testid() == "filter-title"
    keys("chief", Keys.ENTER)
    wait_text(driver, "results-count", lambda t: t == "10 contacts")
    assert all("Chief Executive Officer" in row for row in rows(driver))

    # Tab on to the results: each name is a button that opens the details.
    for _ in range(60):
        keys(Keys.TAB)
        if driver.switch_to.active_element.get_attribute("class") == "link":
            break
    name = driver.switch_to.active_element.text
    assert name.startswith("Person"), name
    keys(Keys.ENTER)
    dialog = driver.find_element(By.ID, "details")
    wait(driver).until(lambda d: name in dialog.text and "other contacts" in dialog.text.lower())
    keys(Keys.ESCAPE)
    wait(driver).until(lambda d: not dialog.is_displayed())


def test_the_axe_check_finds_a_real_violation(page):
    """The check above can fail: an unlabelled input and grey-on-white text are caught."""
    driver = page.driver
    driver.get(page.server.url + "/explorer/")
    wait(driver).until(lambda d: find(d, "login-email").is_displayed())
    driver.execute_script(
        "const form = document.getElementById('login-form');"
        "form.append(document.createElement('input'));"
        "const faint = document.createElement('p'); faint.textContent = 'hard to read';"
        "faint.className = 'muted'; faint.style.color = '#cccccc'; form.append(faint);"
    )
    found = {v["id"] for v in axe_violations(driver) if v["impact"] in BLOCKING}
    assert {"label", "color-contrast"} <= found, found
    assert unlabelled_fields(driver) != []
