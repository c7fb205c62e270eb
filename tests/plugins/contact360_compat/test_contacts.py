"""The contacts page's calls (services/contact/*, app/(dashboard)/contacts):
the flat shape its mappers read, its sort keys and filter names, counts, uuid
batches with ``offset``, and the dropdown lists."""

import json

import pytest

from tests.plugins.contact360_compat.fields import (
    DICT,
    LIST,
    NUM,
    OPT_NUM,
    OPT_STR,
    STR,
    check,
)

# mapApiToContact (services/contact/mappers.ts) reads these.
FLAT_CONTACT = {
    "uuid": STR,
    "first_name": OPT_STR,
    "last_name": OPT_STR,
    "email": OPT_STR,
    "company": OPT_STR,
    "work_direct_phone": OPT_STR,
    "mobile_phone": OPT_STR,
    "home_phone": OPT_STR,
    "corporate_phone": OPT_STR,
    "other_phone": OPT_STR,
    "stage": OPT_STR,
    "title": OPT_STR,
    "industry": OPT_STR,
    "company_address": OPT_STR,
    "website": OPT_STR,
    "employees": OPT_NUM,
    "annual_revenue": OPT_NUM,
    "total_funding": OPT_NUM,
    "latest_funding_amount": OPT_NUM,
    "latest_funding": OPT_STR,
    "last_raised_at": OPT_STR,
    "seniority": OPT_STR,
    "departments": OPT_STR,
    "keywords": OPT_STR,
    "technologies": OPT_STR,
    "email_status": OPT_STR,
    "primary_email_catch_all_status": OPT_STR,
    "city": OPT_STR,
    "state": OPT_STR,
    "country": OPT_STR,
    "company_city": OPT_STR,
    "company_state": OPT_STR,
    "company_country": OPT_STR,
    "company_phone": OPT_STR,
    "company_name_for_emails": OPT_STR,
    "person_linkedin_url": OPT_STR,
    "company_linkedin_url": OPT_STR,
    "facebook_url": OPT_STR,
    "twitter_url": OPT_STR,
    "created_at": STR,
    "updated_at": STR,
}
# mapSimpleItemToContact
SIMPLE_CONTACT = {
    "uuid": STR,
    "first_name": OPT_STR,
    "last_name": OPT_STR,
    "title": OPT_STR,
    "location": DICT,
    "company_name": OPT_STR,
    "person_linkedin_url": OPT_STR,
    "company_domain": OPT_STR,
}
# ResponseMeta (include_meta=true)
META = {
    "strategy": STR,
    "filters_applied": (bool,),
    "returned_records": NUM,
    "page_size": NUM,
    "page_size_cap": NUM,
    "using_replica": (bool,),
}


async def _page(app, query: str) -> dict:
    body = await app.json("GET", "/api/v1/contacts/?" + query)
    check(body, {"next": OPT_STR, "previous": OPT_STR, "results": LIST}, query)
    return body


def _emails(body: dict) -> list[str]:
    return [c["email"] for c in body["results"]]


async def test_first_page_in_cursor_mode_with_meta(app, seeded):
    body = await _page(app, "page_size=25&include_meta=true")
    assert len(body["results"]) == 4
    for contact in body["results"]:
        check(contact, FLAT_CONTACT, "contact")
    check(body["meta"], META, "meta")
    assert body["meta"]["strategy"] == "cursor"
    ada = next(c for c in body["results"] if c["email"] == "ada@techcorp.com")
    # the company name as text (the app renders it), company fields flat
    assert ada["company"] == "TechCorp" and ada["employees"] == 120
    assert ada["industry"] == "computer software" and ada["keywords"] == "saas, crm"
    assert ada["stage"] == "Customer" and ada["work_direct_phone"] == "+44 20 0000"
    assert ada["person_linkedin_url"] == "https://www.linkedin.com/in/ada"
    assert ada["company_phone"] == "+1 555 0199" and ada["company_city"] == "Austin"
    linus = next(c for c in body["results"] if c["email"] == "linus@nowhere.test")
    assert linus["company"] is None and linus["employees"] is None


async def test_next_cursor_is_read_from_the_next_url(app, seeded):
    from yarl import URL

    first = await _page(app, "page_size=3")
    cursor = URL(first["next"]).query["cursor"]
    second = await _page(app, f"page_size=3&cursor={cursor}")
    assert len(first["results"]) + len(second["results"]) == 4
    assert not set(_emails(first)) & set(_emails(second))


@pytest.mark.parametrize(
    ("ordering", "first"),
    [
        ("first_name", "ada@techcorp.com"),
        ("-first_name", "linus@nowhere.test"),
        ("company", "grace@foodies.io"),
        ("title", "ada@techcorp.com"),
        ("-created_at", "linus@nowhere.test"),
        ("city", None),
        ("country", None),
    ],
)
async def test_offset_mode_with_its_sort_keys(app, seeded, ordering, first):
    body = await _page(app, f"ordering={ordering}&limit=20&offset=0&include_meta=true")
    assert len(body["results"]) == 4
    assert body["meta"]["strategy"] == "offset"
    if first:
        assert body["results"][0]["email"] == first


@pytest.mark.parametrize("key", ["email_status", "status", "industry", "phone"])
async def test_sort_keys_without_an_ordering_here_are_a_clear_501(app, seeded, key):
    body = await app.json("GET", f"/api/v1/contacts/?ordering=-{key}&limit=20&offset=0", status=501)
    assert body["error_code"] == "NOT_IMPLEMENTED" and key in body["detail"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("search=hopper", {"grace@foodies.io"}),
        ("title=Head", {"alan@techcorp.com"}),
        ("seniority=c_suite", {"ada@techcorp.com"}),
        ("departments=engineering", {"linus@nowhere.test"}),
        ("email_status=verified&company=Tech", {"ada@techcorp.com", "alan@techcorp.com"}),
        ("company_name_for_emails=Foodies", {"grace@foodies.io"}),
        ("company_address=Austin", {"ada@techcorp.com", "alan@techcorp.com"}),
        ("contact_address=London", None),
        ("industry=software", {"ada@techcorp.com", "alan@techcorp.com"}),
        ("keywords=restaurants", {"grace@foodies.io"}),
        ("tags=crm", {"ada@techcorp.com", "alan@techcorp.com"}),
        ("technologies=aws", {"ada@techcorp.com", "alan@techcorp.com"}),
        ("employees_min=100", {"ada@techcorp.com", "alan@techcorp.com"}),
        ("employees_count=15", {"grace@foodies.io"}),
        ("exclude_titles=Engineer&exclude_seniorities=c_suite", None),
        ("exclude_company_locations=Austin", {"grace@foodies.io", "linus@nowhere.test"}),
        ("created_at__gte=2000-01-01&created_at__lte=2999-12-31", None),
        ("created_at__gte=2999-01-01", set()),
        ("created_at_after=2000-01-01", None),
    ],
)
async def test_its_filter_names(app, seeded, query, expected):
    everyone = {"ada@techcorp.com", "alan@techcorp.com", "grace@foodies.io", "linus@nowhere.test"}
    if query.startswith("exclude_titles"):
        expected = {"alan@techcorp.com", "grace@foodies.io"}
    body = await _page(app, query + "&page_size=25")
    assert set(_emails(body)) == (everyone if expected is None else expected)
    count = await app.json("GET", "/api/v1/contacts/count/?" + query)
    assert count["count"] == len(body["results"])


async def test_an_unknown_filter_is_422_naming_it(app, seeded):
    body = await app.json("GET", "/api/v1/contacts/?facebook_url=x", status=422)
    assert body["errors"][0]["loc"] == ["query", "facebook_url"]


async def test_simple_view(app, seeded):
    body = await _page(app, "view=simple&page_size=25")
    for item in body["results"]:
        check(item, SIMPLE_CONTACT, "simple contact")
    grace = next(c for c in body["results"] if c["first_name"] == "Grace")
    assert grace["company_name"] == "Foodies" and grace["location"]["city"] == "London"


async def test_open_a_contact(app, seeded):
    uuid = seeded["contacts"][0]["uuid"]
    contact = await app.json("GET", f"/api/v1/contacts/{uuid}/")
    check(contact, FLAT_CONTACT, "contact detail")
    assert contact["uuid"] == uuid and contact["company"] == "TechCorp"
    assert contact["meta_data"]["stage"] == "Customer"
    missing = await app.request("GET", "/api/v1/contacts/00000000-0000-4000-8000-000000000000/")
    assert missing.status == 404


async def test_count(app, seeded):
    body = await app.json("GET", "/api/v1/contacts/count/")
    check(body, {"count": NUM})
    assert body["count"] == 4


async def test_uuid_batches_with_offset(app, seeded):
    """fetchContactUuidsPaginated: limit + offset until a short batch."""
    seen = []
    for offset in (0, 2, 4):
        body = await app.json("GET", f"/api/v1/contacts/count/uuids/?limit=2&offset={offset}")
        check(body, {"count": NUM, "uuids": LIST})
        assert body["count"] == 4
        seen += body["uuids"]
    assert len(seen) == len(set(seen)) == 4
    for query, name in (("offset=-1", "offset"), ("offset=x", "offset"), ("limit=abc", "limit")):
        bad = await app.json("GET", f"/api/v1/contacts/count/uuids/?{query}", status=422)
        assert bad["error_code"] == "VALIDATION_ERROR" and name in json.dumps(bad), bad
    too_deep = await app.json(
        "GET", "/api/v1/contacts/count/uuids/?offset=100000&limit=1000", status=422
    )
    assert too_deep["error_code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("field", ["seniority", "department"])
async def test_dropdowns_of_plain_strings(app, seeded, field):
    body = await app.json("GET", f"/api/v1/contacts/{field}/?distinct=true&limit=25&offset=0")
    assert body["results"] and all(isinstance(v, str) for v in body["results"])


async def test_domain_dropdown_is_plain_strings(app, seeded):
    body = await app.json(
        "GET", "/api/v1/contacts/company/domain/?search=tech&distinct=true&limit=25&offset=0"
    )
    assert body["results"] == ["techcorp.com"]


@pytest.mark.parametrize(
    ("field", "value", "company"),
    [
        ("title", "Engineer", ""),
        ("company", "TechCorp", "Tech"),
        ("industry", "computer software", "Tech"),
        ("keywords", "crm", "Tech"),
        ("technologies", "aws", "Tech"),
        ("company_address", "Austin", "Tech"),
        ("contact_address", "London", ""),
        ("city", "London", ""),
    ],
)
async def test_dropdowns_of_objects(app, seeded, field, value, company):
    """fetchFieldValues: the value under the field's own name (or ``value``),
    narrowed by the selected companies (``company``) when the page has some."""
    query = "distinct=true&limit=25&offset=0" + (f"&company={company}" if company else "")
    body = await app.json("GET", f"/api/v1/contacts/{field}/?{query}")
    values = [item[field] for item in body["results"]]
    for item in body["results"]:
        check(item, {field: STR, "value": STR, "count": NUM}, field)
    assert value in values


async def test_dropdown_search_narrows(app, seeded):
    body = await app.json("GET", "/api/v1/contacts/title/?search=head&distinct=true")
    assert [item["title"] for item in body["results"]] == ["Head of Research"]


async def test_keywords_list_as_fetch_keywords_reads_it(app, seeded):
    body = await app.json("GET", "/api/v1/contacts/keywords/?limit=25&offset=0")
    check(body, {"next": OPT_STR, "previous": OPT_STR, "results": LIST})
    for item in body["results"]:
        check(item, {"id": NUM, "keywords": STR}, "keyword")


async def test_create_contact_as_its_form_sends_it(app, seeded):
    """ContactCreate: company_id links the company; text_search is not written."""
    from tests.conftest import WRITE_KEY

    created = await app.json(
        "POST",
        "/api/v1/contacts/",
        status=201,
        json={
            "first_name": "New",
            "last_name": "Person",
            "email": "new@example.com",
            "title": "Buyer",
            "departments": ["sales"],
            "mobile_phone": "+1 555 0101",
            "email_status": "verified",
            "seniority": "manager",
            "text_search": "new person buyer",
            "company_id": seeded["companies"][1]["uuid"],
        },
        headers={"X-Contacts-Write-Key": WRITE_KEY},
    )
    check(created, FLAT_CONTACT, "created contact")
    assert created["company"] == "Foodies" and created["departments"] == "sales"
    refused = await app.request(
        "POST", "/api/v1/contacts/", json={"email": "x@example.com"}, headers={}
    )
    assert refused.status == 403
    bad = await app.json(
        "POST",
        "/api/v1/contacts/",
        status=422,
        json={"email": "y@example.com", "seniority": "emperor"},
        headers={"X-Contacts-Write-Key": WRITE_KEY},
    )
    assert bad["error_code"] == "VALIDATION_ERROR"


async def test_fields_answers_only_those(app, seeded):
    """The dashboard: ``ordering=-employees&limit=5&fields=company,employees``."""
    body = await app.json(
        "GET", "/api/v1/contacts/?ordering=-employees&limit=5&fields=company,employees"
    )
    assert body["results"][0] == {
        "uuid": body["results"][0]["uuid"],
        "company": "TechCorp",
        "employees": 120,
    }
    bad = await app.json("GET", "/api/v1/contacts/?fields=company,shoe_size", status=422)
    assert "shoe_size" in bad["errors"][0]["msg"]


async def test_value_lists_beyond_one_of_our_pages(app, seeded, monkeypatch):
    """The dashboard asks ``industry/?limit=1000``: read through our pages of 100
    (2 here, so that four titles take several pages)."""
    from contacts_api.plugins.contact360_compat import routes_data

    monkeypatch.setattr(routes_data, "VALUES_PAGE", 2)
    every = await app.json("GET", "/api/v1/contacts/title/?limit=1000&offset=0&ordering=value")
    assert [item["title"] for item in every["results"]] == sorted(
        ["Chief Executive Officer", "Head of Research", "Director of Operations", "Engineer"]
    )
    assert every["next"] is None
    three = await app.json("GET", "/api/v1/contacts/title/?limit=3&ordering=value")
    assert len(three["results"]) == 3 and "offset=3" in three["next"]
    rest = await app.json("GET", "/api/v1/contacts/title/?limit=3&offset=3&ordering=value")
    assert [item["title"] for item in rest["results"]] == ["Head of Research"]
    # the dashboard's chart reads the plain strings of ``values``
    industries = await app.json("GET", "/api/v1/contacts/industry/?limit=1000&offset=0")
    assert sorted(industries["values"]) == ["computer software", "food & beverages"]
    too_many = await app.json("GET", "/api/v1/contacts/title/?limit=1001", status=422)
    assert too_many["errors"][0]["loc"] == ["query", "limit"]
