"""Bad input answers 422 naming the parameter; third-party filters work
everywhere; the statement timeout answers 503; the list cache stays correct."""

import sqlalchemy as sa

from contacts_api.core.filters import FilterSpec
from contacts_api.core.hookspecs import hookimpl
from tests.plugins.contacts.conftest import WRITE, sql
from tests.plugins.contacts.reference import rel

BAD = [
    ("/api/v1/contacts/?colour=red", "colour"),
    ("/api/v1/contacts/?employees_min=ten", "employees_min"),
    ("/api/v1/contacts/?employees_range=5", "employees_range"),
    ("/api/v1/contacts/?created_at_after=yesterday", "created_at_after"),
    ("/api/v1/contacts/?created_at_before=2026-02-30", "created_at_before"),
    ("/api/v1/contacts/?seniority=boss", "seniority"),
    ("/api/v1/contacts/?has_email=maybe", "has_email"),
    ("/api/v1/contacts/?company_uuid=nope", "company_uuid"),
    ("/api/v1/contacts/?limit=101", "limit"),
    ("/api/v1/contacts/?limit=0", "limit"),
    ("/api/v1/contacts/?page_size=x", "page_size"),
    ("/api/v1/contacts/?offset=10001", "offset"),
    ("/api/v1/contacts/?offset=-1", "offset"),
    ("/api/v1/contacts/?page=0", "page"),
    ("/api/v1/contacts/?ordering=shoe_size", "ordering"),
    ("/api/v1/contacts/?ordering=-title,title", "ordering"),
    ("/api/v1/contacts/?view=fat", "view"),
    ("/api/v1/contacts/?include_count=perhaps", "include_count"),
    ("/api/v1/contacts/?cursor=garbage", "cursor"),
    ("/api/v1/contacts/count/?limit=3", "limit"),
    ("/api/v1/companies/?ordering=title", "ordering"),
    ("/api/v1/companies/?title=ceo", "title"),
    ("/api/v1/companies/?employees_max=1.5", "employees_max"),
    ("/api/v1/contacts/count/uuids/?limit=abc", "limit"),
]


async def test_bad_input_is_422_naming_the_parameter(api, seeded):
    for url, param in BAD:
        response = await api.get(url, headers=WRITE)
        body = await response.json()
        assert response.status == 422, (url, body)
        assert body["error_code"] == "VALIDATION_ERROR"
        assert ["query", param] in [e["loc"] for e in body["errors"]], (url, body)


async def test_tampered_and_foreign_cursors(api, seeded):
    body = await (await api.get("/api/v1/contacts/?limit=5&title=e", headers=WRITE)).json()
    good = rel(body["next"])
    token = good.split("cursor=")[1].split("&")[0]
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for url in (
        good.replace(token, flipped),
        good.replace("title=e", "title=a"),
        good.replace("/contacts/", "/companies/").replace("title=e", "name=e"),
        good + "&ordering=title",
    ):
        response = await api.get(url, headers=WRITE)
        assert response.status == 422, url
        assert ["query", "cursor"] in [e["loc"] for e in (await response.json())["errors"]]
    assert (await api.get(good, headers=WRITE)).status == 200


async def test_cursor_and_offset_cannot_mix(api, seeded):
    body = await (await api.get("/api/v1/contacts/?limit=5", headers=WRITE)).json()
    response = await api.get(rel(body["next"]) + "&offset=5", headers=WRITE)
    assert response.status == 422


async def test_unknown_ids_are_404(api):
    for path in (
        "/api/v1/contacts/00000000-0000-0000-0000-000000000000/",
        "/api/v1/companies/00000000-0000-0000-0000-000000000000/",
        "/api/v1/contacts/not-a-uuid-and-not-an-attribute/",
    ):
        response = await api.get(path, headers=WRITE)
        assert response.status == 404 and (await response.json())["error_code"] == "NOT_FOUND"


async def test_example_plugin_filters_everywhere(
    make_api, settings, seeded, example_plugin_installed
):
    api = await make_api(settings)
    with_linkedin = [c for c in seeded.contacts if c.linkedin_url]
    assert 0 < len(with_linkedin) < len(seeded.contacts)
    count = await (await api.get("/api/v1/contacts/count/?has_linkedin=true", headers=WRITE)).json()
    assert count == {"count": len(with_linkedin)}
    page = await (
        await api.get("/api/v1/contacts/?has_linkedin=false&limit=100", headers=WRITE)
    ).json()
    assert {r["uuid"] for r in page["results"]} == {
        c.uuid for c in seeded.contacts if not c.linkedin_url
    }
    titles = await (
        await api.get("/api/v1/contacts/title/?has_linkedin=true&limit=100", headers=WRITE)
    ).json()
    assert sum(r["count"] for r in titles["results"]) == sum(1 for c in with_linkedin if c.title)
    big = await (await api.get("/api/v1/companies/count/?min_headcount=1000", headers=WRITE)).json()
    assert big["count"] == sum(
        1 for c in seeded.companies if c.employees_count is not None and c.employees_count >= 1000
    )
    document = await (await api.get("/openapi.json")).json()
    shared = document["components"]["parameters"]

    def names(path):  # filter parameters are references to components/parameters
        parameters = document["paths"][path]["get"]["parameters"]
        return {
            shared[p["$ref"].rsplit("/", 1)[1]]["name"] if "$ref" in p else p["name"]
            for p in parameters
        }

    params = names("/api/v1/contacts/")
    assert {"has_linkedin", "title", "employees_range", "title_words"} <= params
    assert "has_linkedin" in names("/api/v1/contacts/count/")
    assert "min_headcount" in names("/api/v1/companies/")


class SlowFilter:
    @hookimpl
    def register_contact_filters(self, settings):
        return [
            FilterSpec(
                "slow",
                "boolean",
                multiple=False,
                build=lambda v, t: sa.literal_column("(SELECT true FROM pg_sleep(0.5))"),
                description="Sleeps (tests the statement timeout).",
            )
        ]


async def test_statement_timeout_answers_503(make_api, settings_factory):
    settings = settings_factory(CONTACTS_API__CONTACTS__LIST_STATEMENT_TIMEOUT_MS="50")
    api = await make_api(settings, extra_plugins=[("slow", SlowFilter())])
    sql(settings, "INSERT INTO contacts (title) VALUES ('CEO')")  # so the filter runs
    for path in (
        "/api/v1/contacts/?slow=true",
        "/api/v1/contacts/count/?slow=true",
        "/api/v1/contacts/title/?slow=true",
        "/api/v1/contacts/count/uuids/?slow=true",
    ):
        response = await api.get(path, headers=WRITE)
        body = await response.json()
        assert response.status == 503, (path, body)
        assert body["error_code"] == "SERVICE_UNAVAILABLE" and "timeout" in body["detail"]
    # the pooled connections are not left with the short timeout
    assert (await api.get("/api/v1/contacts/", headers=WRITE)).status == 200


async def test_list_cache_stays_correct_under_writes(make_api, settings_factory):
    settings = settings_factory(CONTACTS_API__CONTACTS__LIST_CACHE_ENABLED="true")
    first, second = await make_api(settings), await make_api(settings)
    created = await first.post("/api/v1/contacts/", json={"email": "a@x.io"}, headers=WRITE)
    assert created.status == 201

    async def count(client, path="/api/v1/contacts/?include_count=true"):
        return (await (await client.get(path, headers=WRITE)).json())["count"]

    assert await count(first) == 1
    sql(settings, "INSERT INTO contacts (email) VALUES ('behind-the-back@x.io')")
    assert await count(first) == 1, "the page is served from the cache"
    assert await count(second) == 1, "the cache is shared through Redis"
    await second.post("/api/v1/contacts/", json={"email": "b@x.io"}, headers=WRITE)
    assert await count(first) == 3 and await count(second) == 3
    contact = (await (await first.get("/api/v1/contacts/?email=b%40x.io", headers=WRITE)).json())[
        "results"
    ][0]
    await first.patch(f"/api/v1/contacts/{contact['uuid']}/", json={"title": "CTO"}, headers=WRITE)
    page = await (await second.get("/api/v1/contacts/?email=b%40x.io", headers=WRITE)).json()
    assert page["results"][0]["title"] == "CTO"
    await first.delete(f"/api/v1/contacts/{contact['uuid']}/", headers=WRITE)
    assert await count(second) == 2
