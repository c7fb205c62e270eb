"""Create, read, update and delete contacts and companies (docs/api.md CRUD rules)."""

import time
import uuid

import psycopg2
import psycopg2.errors

from contacts_api.plugins.contacts.tables import MAX_LONG_TEXT, MAX_TEXT
from tests.plugins.contacts.conftest import WRITE, sql


async def _post(api, path, body, status=201):
    response = await api.post(path, json=body, headers=WRITE)
    data = await response.json()
    assert response.status == status, data
    return data


async def test_create_contact_with_new_company_and_metadata(api, settings):
    created = await _post(
        api,
        "/api/v1/contacts/",
        {
            "first_name": " Ada ",
            "last_name": "Lovelace",
            "email": "Ada@Example.COM",
            "title": "CEO",
            "seniority": "C_Suite",
            "departments": ["Executive"],
            "email_status": "verified",
            "company": {
                "name": "TechCorp",
                "website": "https://www.TechCorp.com/about",
                "employees_count": 120,
                "technologies": ["Salesforce"],
            },
            "metadata": {"stage": "lead", "home_phone": "+1 555"},
        },
    )
    assert created["email"] == "ada@example.com" and created["first_name"] == "Ada"
    assert created["seniority"] == "c_suite" and created["departments"] == ["executive"]
    assert created["company"]["domain"] == "techcorp.com"
    assert created["company"]["metadata"]["website"] == "https://www.TechCorp.com/about"
    assert created["metadata"]["stage"] == "lead" and created["metadata"]["other_phone"] is None
    assert created["created_at"].endswith("Z")
    fetched = await (await api.get(f"/api/v1/contacts/{created['uuid']}/", headers=WRITE)).json()
    assert fetched == created
    # the trigger-maintained copy serves the company filters and orderings
    found = await (
        await api.get("/api/v1/contacts/?company=techc&employees_min=100", headers=WRITE)
    ).json()
    assert [r["uuid"] for r in found["results"]] == [created["uuid"]]


async def test_company_linking_find_or_create(api, settings):
    company = await _post(api, "/api/v1/companies/", {"name": "Globex", "domain": "globex.com"})
    by_uuid = await _post(
        api, "/api/v1/contacts/", {"email": "a@x.io", "company": {"uuid": company["uuid"]}}
    )
    by_domain = await _post(
        api,
        "/api/v1/contacts/",
        {"email": "b@x.io", "company": {"name": "Other name", "website": "http://globex.com/x"}},
    )
    by_name = await _post(
        api, "/api/v1/contacts/", {"email": "c@x.io", "company": {"name": "GLOBEX"}}
    )
    created = await _post(
        api, "/api/v1/contacts/", {"email": "d@x.io", "company": {"name": "Brand New"}}
    )
    assert {
        by_uuid["company"]["uuid"],
        by_domain["company"]["uuid"],
        by_name["company"]["uuid"],
    } == {company["uuid"]}
    assert created["company"]["uuid"] != company["uuid"]
    assert sql(settings, "SELECT count(*) FROM companies")[0][0] == 2
    unknown = await api.post(
        "/api/v1/contacts/", json={"company": {"uuid": str(uuid.uuid4())}}, headers=WRITE
    )
    assert unknown.status == 422
    assert (await unknown.json())["errors"][0]["loc"] == ["body", "company", "uuid"]


async def test_duplicate_email_conflicts_case_insensitively(api):
    await _post(api, "/api/v1/contacts/", {"email": "dup@example.com"})
    response = await api.post(
        "/api/v1/contacts/", json={"email": "DUP@Example.com "}, headers=WRITE
    )
    assert response.status == 409 and (await response.json())["error_code"] == "CONFLICT"
    other = await _post(api, "/api/v1/contacts/", {"email": "other@example.com"})
    patch = await api.patch(
        f"/api/v1/contacts/{other['uuid']}/", json={"email": "Dup@example.com"}, headers=WRITE
    )
    assert patch.status == 409


async def test_patch_and_put_are_partial(api):
    created = await _post(
        api,
        "/api/v1/contacts/",
        {
            "first_name": "Ada",
            "title": "CEO",
            "city": "London",
            "metadata": {"stage": "lead", "home_phone": "1"},
        },
    )
    for method in ("patch", "put"):
        response = await getattr(api, method)(
            f"/api/v1/contacts/{created['uuid']}/",
            json={"title": f"CTO {method}", "city": None, "metadata": {"stage": "won"}},
            headers=WRITE,
        )
        body = await response.json()
        assert response.status == 200, body
        assert body["title"] == f"CTO {method}" and body["first_name"] == "Ada"
        assert body["city"] is None
        assert body["metadata"]["stage"] == "won" and body["metadata"]["home_phone"] == "1"
        assert body["updated_at"] > created["updated_at"]
    cleared = await (
        await api.patch(
            f"/api/v1/contacts/{created['uuid']}", json={"metadata": None}, headers=WRITE
        )
    ).json()
    assert cleared["metadata"] is None
    missing = await api.patch(f"/api/v1/contacts/{uuid.uuid4()}/", json={}, headers=WRITE)
    assert missing.status == 404


async def test_update_company_refreshes_contacts(api):
    company = await _post(api, "/api/v1/companies/", {"name": "Old Name", "employees_count": 5})
    contact = await _post(
        api, "/api/v1/contacts/", {"email": "e@x.io", "company": {"uuid": company["uuid"]}}
    )
    patched = await api.patch(
        f"/api/v1/companies/{company['uuid']}/",
        json={"name": "New Name", "employees_count": 500, "metadata": {"phone_number": "+1"}},
        headers=WRITE,
    )
    assert patched.status == 200
    body = await patched.json()
    assert body["metadata"]["phone_number"] == "+1" and body["updated_at"] > company["updated_at"]
    found = await (
        await api.get("/api/v1/contacts/?company=new%20name&employees_min=500", headers=WRITE)
    ).json()
    assert [r["uuid"] for r in found["results"]] == [contact["uuid"]]
    simple = await (await api.get("/api/v1/contacts/?view=simple", headers=WRITE)).json()
    assert simple["results"][0]["company_name"] == "New Name"


async def test_delete_company_keeps_its_contacts(api):
    company = await _post(api, "/api/v1/companies/", {"name": "Doomed", "domain": "doomed.io"})
    contact = await _post(
        api, "/api/v1/contacts/", {"email": "f@x.io", "company": {"uuid": company["uuid"]}}
    )
    assert (await api.delete(f"/api/v1/companies/{company['uuid']}/", headers=WRITE)).status == 204
    after = await (await api.get(f"/api/v1/contacts/{contact['uuid']}/", headers=WRITE)).json()
    assert after["company"] is None
    assert (await api.get(f"/api/v1/companies/{company['uuid']}/", headers=WRITE)).status == 404
    assert (await api.get("/api/v1/contacts/?company=doomed", headers=WRITE)).status == 200
    none = await (await api.get("/api/v1/contacts/?company=doomed", headers=WRITE)).json()
    assert none["results"] == []
    assert (await api.delete(f"/api/v1/contacts/{contact['uuid']}/", headers=WRITE)).status == 204
    assert (await api.get(f"/api/v1/contacts/{contact['uuid']}/", headers=WRITE)).status == 404
    assert (await api.delete(f"/api/v1/contacts/{contact['uuid']}/", headers=WRITE)).status == 404


async def test_company_crud_and_duplicate_domain(api):
    created = await _post(
        api,
        "/api/v1/companies/",
        {
            "name": "Initech",
            "website": "https://www.initech.com",
            "industries": ["Software"],
            "keywords": ["b2b"],
            "annual_revenue": 10,
            "total_funding": 5,
            "address": "1 Way",
        },
    )
    assert created["domain"] == "initech.com" and created["industries"] == ["software"]
    duplicate = await api.post(
        "/api/v1/companies/", json={"name": "X", "domain": "INITECH.com"}, headers=WRITE
    )
    assert duplicate.status == 409


async def test_writes_need_the_write_key(api, bearer):
    assert (await api.post("/api/v1/contacts/", json={})).status == 403
    assert (await api.post("/api/v1/contacts/", json={}, headers=bearer)).status == 403
    response = await api.post(
        "/api/v1/contacts/", json={}, headers={"X-Contacts-Write-Key": "wrong"}
    )
    assert response.status in (401, 403)


async def test_body_validation_names_each_field(api):
    response = await api.post(
        "/api/v1/contacts/",
        json={
            "email": "not-an-email",
            "seniority": "boss",
            "departments": "sales",
            "bogus": 1,
            "first_name": 3,
            "company": {"employees_count": -1, "nope": True},
            "metadata": {"stage": 1},
        },
        headers=WRITE,
    )
    assert response.status == 422
    locs = {tuple(e["loc"]) for e in (await response.json())["errors"]}
    assert {
        ("body", "email"),
        ("body", "seniority"),
        ("body", "departments"),
        ("body", "bogus"),
        ("body", "first_name"),
        ("body", "company", "employees_count"),
        ("body", "company", "nope"),
        ("body", "metadata", "stage"),
    } <= locs
    bad_json = await api.post("/api/v1/contacts/", data=b"{", headers=WRITE)
    assert bad_json.status == 400


async def test_concurrent_find_or_create_links_one_company(api, settings):
    import asyncio

    responses = await asyncio.gather(
        *(
            api.post(
                "/api/v1/contacts/",
                headers=WRITE,
                json={
                    "email": f"race{i}@x.io",
                    "company": {"name": f"Race {i}", "domain": "race.io"},
                },
            )
            for i in range(6)
        )
    )
    bodies = [await r.json() for r in responses]
    assert [r.status for r in responses] == [201] * 6, bodies
    assert len({b["company"]["uuid"] for b in bodies}) == 1
    assert sql(settings, "SELECT count(*) FROM companies")[0][0] == 1


async def test_concurrent_find_or_create_by_name_links_one_company(api, settings):
    """Without a domain the company is found by case-insensitive name: concurrent
    creators of the same new name must still end up sharing one company."""
    import asyncio

    for round_ in range(5):
        name = f"Namesake {round_}"
        responses = await asyncio.gather(
            *(
                api.post(
                    "/api/v1/contacts/",
                    headers=WRITE,
                    json={
                        "email": f"same{round_}-{i}@x.io",
                        "company": {"name": name.upper() if i % 2 else name},
                    },
                )
                for i in range(8)
            )
        )
        bodies = [await r.json() for r in responses]
        assert [r.status for r in responses] == [201] * 8, bodies
        assert len({b["company"]["uuid"] for b in bodies}) == 1
        assert (
            sql(settings, "SELECT count(*) FROM companies WHERE lower(name) = lower(%s)", (name,))[
                0
            ][0]
            == 1
        )


async def test_overlong_text_is_422_and_the_longest_allowed_is_stored(api):
    """Text fields are btree keys: over MAX_TEXT characters is refused, naming the
    field, before anything is written; MAX_TEXT 4-byte characters still fit."""
    longest = "😀" * MAX_TEXT
    for body, loc in [
        ({"email": "a@x.io", "title": "x" * (MAX_TEXT + 1)}, ["body", "title"]),
        (
            {"email": "a@x.io", "company": {"name": "y" * (MAX_TEXT + 1)}},
            ["body", "company", "name"],
        ),
        (
            {"email": "a@x.io", "metadata": {"website": "z" * (MAX_LONG_TEXT + 1)}},
            ["body", "metadata", "website"],
        ),
    ]:
        response = await api.post("/api/v1/contacts/", json=body, headers=WRITE)
        assert response.status == 422, await response.text()
        error = (await response.json())["errors"][0]
        assert error["loc"] == loc and "at most" in error["msg"]
    created = await _post(
        api,
        "/api/v1/contacts/",
        {
            "first_name": longest,
            "last_name": longest,
            "title": longest,
            "city": longest,
            "country": longest,
            "company": {"name": longest},
        },
    )
    assert created["title"] == longest and created["company"]["name"] == longest
    response = await api.patch(
        f"/api/v1/contacts/{created['uuid']}/", json={"last_name": longest + "!"}, headers=WRITE
    )
    assert response.status == 422


async def test_a_write_that_deadlocks_with_an_import_is_written_again(api, settings):
    """The write's trigger adds a new title to the dictionary, then waits on a
    country another transaction (say, an import's batch) is adding; that one then
    waits on the title. PostgreSQL aborts the write (it waited first); the API
    writes it again instead of answering 503."""
    import asyncio

    def wait_for_lock_waiter() -> None:
        for _ in range(100):
            if sql(
                settings,
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                "'Lock' AND datname = current_database()",
            )[0][0]:
                return
            time.sleep(0.05)
        raise AssertionError("the write never waited on the other transaction")

    other = psycopg2.connect(settings.database.url.reveal())
    try:
        with other.cursor() as cur:
            cur.execute(
                "INSERT INTO contact_field_values (field, value) "
                "VALUES ('country', 'Deadlockistan')"
            )
            write = asyncio.create_task(
                api.post(
                    "/api/v1/contacts/",
                    json={
                        "email": "dl@x.io",
                        "title": "Deadlock Engineer",
                        "country": "Deadlockistan",
                    },
                    headers=WRITE,
                )
            )
            await asyncio.to_thread(wait_for_lock_waiter)

            def add_the_title() -> str:
                try:
                    cur.execute(
                        "INSERT INTO contact_field_values (field, value) "
                        "VALUES ('title', 'Deadlock Engineer')"
                    )
                    return "waited"
                except psycopg2.errors.DeadlockDetected:
                    return "victim"

            outcome = await asyncio.to_thread(add_the_title)
        other.commit() if outcome == "waited" else other.rollback()
        response = await write
    finally:
        other.close()
    body = await response.json()
    assert response.status == 201, body
    assert (body["title"], body["country"]) == ("Deadlock Engineer", "Deadlockistan")
    assert (
        sql(
            settings,
            "SELECT count(*) FROM contact_field_values "
            "WHERE value IN ('Deadlock Engineer', 'Deadlockistan')",
        )[0][0]
        == 2
    )
