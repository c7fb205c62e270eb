"""The explorer, driven in a real headless Chromium: sign in, search, page,
an Apollo URL, an import, an export. Every step goes through the page's own
controls (the ``data-testid`` hooks of issue 21)."""

import csv
import io
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from contacts_api.core.appkeys import RESOURCES
from tests.conftest import WRITE_KEY
from tests.plugins.explorer.conftest import PASSWORD

WAIT_S = 30
COMPANIES = [
    {"name": "Baumann GmbH", "domain": "baumann.de", "employees_count": 40, "country": "Germany"},
    {"name": "Lumière SA", "domain": "lumiere.fr", "employees_count": 900, "country": "France"},
]


def people(count: int = 60) -> list[dict]:
    """``count`` contacts: even ones in Germany at Baumann, odd ones in France."""
    return [
        {
            "first_name": f"Person{n:02d}",
            "last_name": f"Example{n:02d}",
            "email": f"person{n:02d}@example.com",
            "title": "Chief Executive Officer" if n % 3 == 0 else "Sales Manager",
            "seniority": "c_suite" if n % 3 == 0 else "manager",
            "email_status": "verified",
            "city": "Berlin" if n % 2 == 0 else "Lyon",
            "country": "Germany" if n % 2 == 0 else "France",
            "company": COMPANIES[n % 2],
        }
        for n in range(count)
    ]


def by_testid(name: str) -> tuple[str, str]:
    return By.CSS_SELECTOR, f'[data-testid="{name}"]'


def find(driver, name: str):
    return driver.find_element(*by_testid(name))


def wait(driver):
    return WebDriverWait(driver, WAIT_S)


def wait_text(driver, name: str, predicate, message: str = "") -> str:
    """Wait until ``predicate(text)`` holds for the element's text; answer it."""
    found = {}

    def check(d):
        found["text"] = d.find_element(*by_testid(name)).text
        return predicate(found["text"])

    wait(driver).until(check, message or f"{name}: {found.get('text')!r}")
    return found["text"]


def rows(driver) -> list[str]:
    """The rows' texts, read in one step (the table is re-rendered as results come)."""
    return driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=\"results-row\"]')]"
        ".map((row) => row.innerText.replace(/\\s+/g, ' ').trim())"
    )


def sign_in(page, email: str = "ada@example.com") -> None:
    driver, server = page.driver, page.server
    server.register(email)
    driver.get(server.url + "/")  # redirects to /explorer/
    wait(driver).until(EC.visibility_of_element_located(by_testid("login-email")))
    find(driver, "login-email").send_keys(email)
    find(driver, "login-password").send_keys(PASSWORD)
    find(driver, "login-submit").click()
    wait(driver).until(EC.visibility_of_element_located(by_testid("search-input")))


def open_tab(driver, label: str) -> None:
    driver.find_element(By.XPATH, f'//button[@role="tab"][normalize-space()="{label}"]').click()


def test_sign_in_search_with_a_filter_and_page_forward(page):
    driver, server = page.driver, page.server
    server.seed(people(60))
    sign_in(page)
    assert driver.current_url.endswith("/explorer/")
    wait_text(driver, "results-count", lambda t: t == "60 contacts")

    find(driver, "filter-country").send_keys("germany")
    find(driver, "search-submit").click()
    wait_text(driver, "results-count", lambda t: t == "30 contacts")
    first = rows(driver)
    assert len(first) == 25 and all("Germany" in row for row in first)
    assert "country=germany" in driver.current_url  # the search is in the page's URL

    find(driver, "next-page").click()
    wait(driver).until(lambda d: rows(d) and rows(d)[0] != first[0])
    second = rows(driver)
    assert len(second) == 5 and not set(second) & set(first)
    assert "cursor=" in driver.current_url
    assert not find(driver, "next-page").is_enabled()

    # The URL is the search: opened afresh (and signed in again), it shows the same page.
    driver.back()
    wait(driver).until(lambda d: rows(d) == first)


def test_a_bookmarked_search_runs_after_sign_in_and_columns_order(page):
    driver, server = page.driver, page.server
    server.seed(people(8))
    server.register("ada@example.com")
    driver.get(server.url + "/explorer/?title=chief&ordering=-last_name")
    find(driver, "login-email").send_keys("ada@example.com")
    find(driver, "login-password").send_keys(PASSWORD + Keys.ENTER)
    wait_text(driver, "results-count", lambda t: t == "3 contacts")
    assert find(driver, "filter-title").get_attribute("value") == "chief"
    assert [r.split()[0] for r in rows(driver)] == ["Person06", "Person03", "Person00"]

    name_header = driver.find_element(By.XPATH, '//th[@data-order="last_name"]')
    name_header.find_element(By.TAG_NAME, "button").click()  # -last_name -> default order
    wait(driver).until(lambda d: "ordering" not in d.current_url)
    name_header.find_element(By.TAG_NAME, "button").click()  # -> ascending
    wait(driver).until(lambda d: [r.split()[0] for r in rows(d)][:1] == ["Person00"])
    assert name_header.get_attribute("aria-sort") == "ascending"


def test_a_row_opens_the_contact_with_its_company_colleagues(page):
    driver, server = page.driver, page.server
    server.seed(people(6))
    sign_in(page)
    wait_text(driver, "results-count", lambda t: t == "6 contacts")
    row = next(r for r in driver.find_elements(*by_testid("results-row")) if "Person02" in r.text)
    row.click()
    dialog = driver.find_element(By.ID, "details")
    wait(driver).until(lambda d: "Person02 Example02" in dialog.text and "Person04" in dialog.text)
    assert "person02@example.com" in dialog.text
    assert driver.find_element(By.ID, "details-company-title").text == "Baumann GmbH"
    colleagues = driver.find_element(By.ID, "details-colleagues").text
    assert "Person00" in colleagues and "Person02" not in colleagues
    assert "Person01" not in colleagues  # at the other company
    driver.find_element(By.ID, "details-close").click()
    wait(driver).until(lambda d: not dialog.is_displayed())


def test_an_apollo_url_shows_its_applied_filters_and_unmapped_parameters(page):
    driver, server = page.driver, page.server
    server.seed(people(12))
    sign_in(page)
    open_tab(driver, "Apollo URL")
    url = (
        "https://app.apollo.io/#/people?personLocations[]=Germany"
        "&personTitles[]=chief&finderViewId=5b8050d050a3893c382e9360"
    )
    find(driver, "apollo-url").send_keys(url)
    find(driver, "apollo-submit").click()
    applied = wait_text(driver, "apollo-applied", lambda t: "contact_location" in t)
    assert "Germany" in applied and "title" in applied
    unmapped = find(driver, "apollo-unmapped").text
    assert "finderViewId" in unmapped
    wait_text(driver, "results-count", lambda t: t == "2 contacts")  # 0 and 6
    assert len(rows(driver)) == 2 and "apollo_url=" in driver.current_url

    driver.find_element(By.ID, "apollo-open").click()  # as a normal search
    wait(driver).until(lambda d: "apollo_url" not in d.current_url)
    assert find(driver, "search-input").is_displayed()
    wait_text(driver, "results-count", lambda t: t.endswith("contacts") or t.endswith("contact"))


def test_import_a_csv_and_watch_it_complete(page, tmp_path):
    driver = page.driver
    sign_in(page)
    open_tab(driver, "Import")
    lines = ["first_name,last_name,email,title,company,website,employees,city"]
    lines += [
        f"First{n},Last{n},first{n}@imported.example,Buyer,Acme,acme.example,{n},Paris"
        for n in range(40)
    ]
    lines.append("Broken,Row,not-an-email,Buyer,Acme,acme.example,1,Paris")
    source = tmp_path / "leads.csv"
    source.write_text("\n".join(lines) + "\n")

    find(driver, "import-file").send_keys(str(source))
    driver.find_element(By.ID, "import-key").send_keys(WRITE_KEY)
    find(driver, "import-submit").click()
    status = wait_text(driver, "import-status", lambda t: t.endswith(("completed", "failed")))
    assert status.endswith("completed")
    assert find(driver, "import-progress").get_attribute("value") == find(
        driver, "import-progress"
    ).get_attribute("max")
    counts = driver.find_element(By.ID, "import-counts").text
    assert "41 rows read" in counts and "40 created" in counts and "1 skipped" in counts
    errors = wait(driver).until(lambda d: d.find_element(By.ID, "import-errors").text)
    assert "Row 41" in errors

    # The imported contacts are searchable at once.
    open_tab(driver, "Search")
    find(driver, "search-input").send_keys("imported.example" + Keys.ENTER)
    wait_text(driver, "results-count", lambda t: t == "40 contacts")


def test_import_refused_without_the_right_write_key(page, tmp_path):
    driver, server = page.driver, page.server
    sign_in(page)
    open_tab(driver, "Import")
    source = tmp_path / "leads.csv"
    source.write_text("first_name,email\nAda,ada@imported.example\n")
    find(driver, "import-file").send_keys(str(source))
    driver.find_element(By.ID, "import-key").send_keys("not-the-key")
    find(driver, "import-submit").click()
    error = driver.find_element(By.ID, "import-error")
    wait(driver).until(lambda d: "write key" in error.text.lower())
    status, page_of_jobs = server.request(
        "GET", "/api/v1/contacts/import/", headers={"X-Contacts-Write-Key": WRITE_KEY}
    )
    assert status == 200 and page_of_jobs["results"] == []


def test_export_the_results_and_fetch_the_download_link(page):
    driver, server = page.driver, page.server
    server.seed(people(20))
    sign_in(page)
    find(driver, "filter-country").send_keys("france" + Keys.ENTER)
    wait_text(driver, "results-count", lambda t: t == "10 contacts")
    find(driver, "export-start").click()
    status = wait_text(driver, "export-status", lambda t: "completed" in t or "failed" in t)
    assert "completed" in status and "10 rows" in status
    link = wait(driver).until(EC.visibility_of_element_located(by_testid("export-download")))
    href = link.get_attribute("href")
    assert href.startswith(server.url + "/api/v2/exports/")
    with urllib.request.urlopen(href, timeout=30) as response:  # the link is the credential
        exported = list(csv.DictReader(io.StringIO(response.read().decode("utf-8"))))
    assert len(exported) == 10 and {row["country"] for row in exported} == {"France"}


def live_refresh_tokens(server) -> int:
    db = server.app[RESOURCES].db
    return server.run(db.fetch_val("SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL"))


def test_sign_out_revokes_and_forgets_the_tokens(page):
    driver, server = page.driver, page.server
    sign_in(page)  # registering signed in once, the page a second time
    assert live_refresh_tokens(server) == 2
    driver.find_element(By.ID, "sign-out").click()
    wait(driver).until(EC.visibility_of_element_located(by_testid("login-email")))
    wait(driver).until(lambda d: live_refresh_tokens(server) == 1)  # the page's is revoked
    assert not find(driver, "search-input").is_displayed()
    stored = driver.execute_script(
        "return JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie"
    )
    assert "eyJ" not in stored  # no token was ever written to the tab's storage


def search_timings(driver) -> list[float]:
    """Milliseconds from each search's submit to its first results on screen,
    as the page measures them (``performance.measure("explorer-search")``)."""
    return driver.execute_script(
        "return performance.getEntriesByName('explorer-search', 'measure')"
        ".map((entry) => entry.duration)"
    )


def test_the_time_to_first_results_is_measured_with_the_performance_api(page):
    driver, server = page.driver, page.server
    server.seed(people(30))
    sign_in(page)
    wait_text(driver, "results-count", lambda t: t == "30 contacts")
    assert search_timings(driver) == []  # only a submitted search is timed
    find(driver, "filter-title").send_keys("manager" + Keys.ENTER)
    wait_text(driver, "results-count", lambda t: t == "20 contacts")
    (elapsed,) = search_timings(driver)
    print(f"\nfirst results {elapsed:.0f} ms after submit (30 contacts)")
    assert 0 < elapsed < 2000
