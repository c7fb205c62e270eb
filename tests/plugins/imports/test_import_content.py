"""What the import writes: every header layout, file formats, row errors, dedup and
upsert rules (docs/csv-format.md), on the real database with the in-memory broker."""

import json

import pytest
from yarl import URL

from contacts_api.plugins.contacts.tables import MAX_TEXT
from tests.conftest import _truncate_all
from tests.plugins.imports.conftest import SAMPLES, count, import_bytes, query

LAYOUTS = [
    "apollo-contacts-export-2024.csv",
    "apollo-contacts-export-2025-11.csv",
    "apollo-contacts-export-2026.csv",
]
CONTACT_SNAPSHOT = """
SELECT c.email, c.first_name, c.last_name, c.title, c.seniority, c.departments, c.email_status,
       c.city, c.state, c.country, c.linkedin_url, co.name AS company, co.domain
FROM contacts c LEFT JOIN companies co ON co.uuid = c.company_uuid ORDER BY c.email"""
COMPANY_SNAPSHOT = """
SELECT name, domain, employees_count, industries, keywords, technologies, annual_revenue,
       total_funding, city, state, country
FROM companies ORDER BY domain NULLS FIRST, name"""


def _snapshot(settings):
    return query(settings, CONTACT_SNAPSHOT), query(settings, COMPANY_SNAPSHOT)


@pytest.mark.parametrize("layout", LAYOUTS)
async def test_each_apollo_layout_imports_the_same_people_and_companies(
    import_client, memory_settings, layout
):
    client = await import_client(memory_settings)
    ours = await import_bytes(client, (SAMPLES / "contacts-import.csv").read_bytes())
    assert (ours["status"], ours["created_count"], ours["error_count"]) == ("completed", 25, 0)
    expected_contacts, expected_companies = _snapshot(memory_settings)
    assert len(expected_contacts) == 25 and len(expected_companies) == 12
    _truncate_all(memory_settings.database.url.reveal())

    job = await import_bytes(client, (SAMPLES / layout).read_bytes(), layout)
    assert job["status"] == "completed", job
    assert (job["total_rows"], job["processed_rows"]) == (25, 25)
    assert (job["created_count"], job["updated_count"], job["error_count"]) == (25, 0, 0)
    contacts, companies = _snapshot(memory_settings)
    assert contacts == expected_contacts
    assert companies == expected_companies


HEADER = "first_name,last_name,email,title,city,departments,company,website,employees\n"


def _csv(*lines: str, header: str = HEADER) -> bytes:
    return (header + "".join(line + "\n" for line in lines)).encode()


async def test_bom_crlf_multiline_cells_and_semicolons(import_client, memory_settings):
    client = await import_client(memory_settings)
    text = (
        "\ufefffirst_name;last_name;email;title;company;website\r\n"
        'Ada;Lovelace;ADA@Example.com;"Chief\r\nEngineer; analytical";Engines;engines.io\r\n'
        'Alan;Turing;alan@example.com;"Says ""hi""";Engines;https://www.engines.io/x\r\n'
    )
    job = await import_bytes(client, text.encode("utf-8"))
    assert (job["status"], job["created_count"], job["error_count"]) == ("completed", 2, 0)
    rows = query(memory_settings, "SELECT email, title FROM contacts ORDER BY email")
    assert rows == [
        {"email": "ada@example.com", "title": "Chief\r\nEngineer; analytical"},
        {"email": "alan@example.com", "title": 'Says "hi"'},
    ]
    assert count(memory_settings, "companies") == 1


async def test_windows_1252_file_is_read_with_a_warning(import_client, memory_settings):
    client = await import_client(memory_settings)
    content = (
        _csv("Zoë,Müller,zoe@example.com,Directrice générale,Zürich,,Café SA,cafe.ch,")
        .decode()
        .encode("cp1252")
    )
    job = await import_bytes(client, content)
    assert job["status"] == "completed" and job["created_count"] == 1
    assert any("Windows-1252" in warning for warning in job["warnings"])
    row = query(memory_settings, "SELECT first_name, last_name, title, city FROM contacts")[0]
    assert row == {
        "first_name": "Zoë",
        "last_name": "Müller",
        "title": "Directrice générale",
        "city": "Zürich",
    }


async def test_bad_rows_are_recorded_with_their_row_number_and_skipped(
    import_client, memory_settings
):
    client = await import_client(memory_settings)
    content = _csv(
        "Ok,One,ok1@example.com,CEO,Paris,,Acme,acme.com,10",  # 1
        "Bad,Email,not-an-email,CTO,,,,,",  # 2
        'Multi,Line,ok2@example.com,"two\nlines",,,,,',  # 3 (two lines)
        "Bad,Number,bad3@example.com,,,,Acme,acme.com,lots",  # 4
        "Too,Many,bad4@example.com,,,,,,1,extra",  # 5
        ",,,,Paris,,,,",  # 6 no email/name
        "Huge,Company,bad6@example.com,,,,Big,big.com,99999999999",  # 7 out of range
        "",  # 8 blank: skipped
        "Ok,Three,ok3@example.com,,,,,,",  # 9
    )
    job = await import_bytes(client, content)
    assert job["status"] == "completed"
    assert (job["total_rows"], job["processed_rows"]) == (8, 8)
    assert (job["created_count"], job["updated_count"], job["error_count"]) == (3, 0, 5)
    response = await client.get(
        f"/api/v1/contacts/import/{job['id']}/errors/?limit=2", headers=_write()
    )
    page = await response.json()
    assert [e["row_number"] for e in page["results"]] == [2, 4] and page["next"]
    errors = page["results"]
    while page["next"]:
        next_url = URL(page["next"])
        page = await (await client.get(next_url.path_qs, headers=_write())).json()
        errors += page["results"]
    assert [e["row_number"] for e in errors] == [2, 4, 5, 6, 7]
    messages = {e["row_number"]: e["message"] for e in errors}
    assert "not an email" in messages[2] and "not a number" in messages[4]
    assert "cells" in messages[5] and "neither an email nor" in messages[6]
    assert "out of range" in messages[7]
    assert errors[0]["row"] == {
        "first_name": "Bad",
        "last_name": "Email",
        "email": "not-an-email",
        "title": "CTO",
        "city": "",
        "departments": "",
        "company": "",
        "website": "",
        "employees": "",
    }
    assert errors[2]["row"]["column 10"] == "extra"
    assert sorted(r["email"] for r in query(memory_settings, "SELECT email FROM contacts")) == [
        "ok1@example.com",
        "ok2@example.com",
        "ok3@example.com",
    ]


def _write():
    from tests.plugins.imports.conftest import WRITE

    return WRITE


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20,
        b"PK\x03\x04" + b"\x00" * 300,
        b"just some prose, not a header line\nand more\n",
    ],
    ids=["png", "zip", "no-header"],
)
async def test_a_file_that_is_not_csv_fails_its_job_and_writes_nothing(
    import_client, memory_settings, content
):
    client = await import_client(memory_settings)
    job = await import_bytes(client, content, "photo.csv")
    assert job["status"] == "failed" and job["error"], job
    assert job["finished_at"] and job["processed_rows"] == 0
    for table in ("contacts", "companies", "contact_metadata", "import_errors"):
        assert count(memory_settings, table) == 0, table


async def test_reimporting_the_same_file_creates_nothing(import_client, settings_factory):
    settings = settings_factory(CONTACTS_API__IMPORTS__BATCH_SIZE="7")
    client = await import_client(settings)
    content = (SAMPLES / "apollo-contacts-export-2026.csv").read_bytes()
    first = await import_bytes(client, content)
    assert (first["created_count"], first["updated_count"]) == (25, 0)
    before = query(settings, "SELECT uuid, updated_at FROM contacts ORDER BY uuid")
    companies_before = query(settings, "SELECT uuid, updated_at FROM companies ORDER BY uuid")
    second = await import_bytes(client, content)
    assert (second["created_count"], second["updated_count"], second["error_count"]) == (0, 25, 0)
    assert (count(settings, "contacts"), count(settings, "companies")) == (25, 12)
    # Nothing changed, so nothing was rewritten.
    assert query(settings, "SELECT uuid, updated_at FROM contacts ORDER BY uuid") == before
    assert query(settings, "SELECT uuid, updated_at FROM companies ORDER BY uuid") == (
        companies_before
    )


async def test_companies_dedup_by_domain_then_by_name(import_client, settings_factory):
    settings = settings_factory(CONTACTS_API__IMPORTS__BATCH_SIZE="2")
    client = await import_client(settings)
    job = await import_bytes(
        client,
        _csv(
            "A,One,a1@x.com,,,,Acme,https://www.Acme.com/about,",
            "A,Two,a2@x.com,,,,ACME Inc,acme.com,50",
            "A,Three,a3@x.com,,,,Acme,http://acme.com,",
            "B,One,b1@x.com,,,,Blue Fox,,",
            "B,Two,b2@x.com,,,,blue fox,,",
            "B,Three,b3@x.com,,,,BLUE FOX,,12",
            "C,One,c1@x.com,,,,Other,other.org,",
        ),
    )
    assert (job["created_count"], job["error_count"]) == (7, 0)
    # against the database, in a later import
    job = await import_bytes(
        client, _csv("D,One,d1@x.com,,,,Blue Fox,,", "D,Two,d2@x.com,,,,Acme,acme.com,")
    )
    assert job["created_count"] == 2
    companies = query(
        settings,
        """SELECT co.name, co.domain, co.employees_count,
        count(c.uuid) AS contacts FROM companies co LEFT JOIN contacts c
        ON c.company_uuid = co.uuid GROUP BY co.uuid ORDER BY co.domain NULLS FIRST""",
    )
    assert companies == [
        {"name": "Blue Fox", "domain": None, "employees_count": 12, "contacts": 4},
        {"name": "Acme", "domain": "acme.com", "employees_count": 50, "contacts": 4},
        {"name": "Other", "domain": "other.org", "employees_count": None, "contacts": 1},
    ]


async def test_an_empty_cell_never_erases_a_stored_value(import_client, memory_settings):
    client = await import_client(memory_settings)
    await import_bytes(
        client, _csv('Ada,Lovelace,ada@x.com,CEO,London,"Sales, Ops",Acme,acme.com,10')
    )
    job = await import_bytes(client, _csv("Ada,,ada@x.com,,Paris,,,,"))
    assert (job["created_count"], job["updated_count"]) == (0, 1)
    row = query(
        memory_settings,
        """SELECT c.first_name, c.last_name, c.title, c.city,
        c.departments, co.domain, co.employees_count FROM contacts c
        JOIN companies co ON co.uuid = c.company_uuid""",
    )
    assert row == [
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "title": "CEO",
            "city": "Paris",
            "departments": ["sales", "ops"],
            "domain": "acme.com",
            "employees_count": 10,
        }
    ]
    await import_bytes(client, _csv("Ada,,ada@x.com,,,Engineering,,,"))
    assert query(memory_settings, "SELECT departments FROM contacts") == [
        {"departments": ["engineering"]}
    ]  # a non-empty list replaces


async def test_duplicates_within_a_batch_merge_in_file_order(import_client, memory_settings):
    client = await import_client(memory_settings)
    job = await import_bytes(
        client,
        _csv(
            "Ada,Lovelace,ada@x.com,CEO,London,,,,",
            "Ada,,ADA@x.com,Founder,,,Acme,acme.com,",
            "Bob,Stone,,,,,,,",
            "Bob,Stone,,Engineer,,,,,",
        ),
    )
    assert (job["created_count"], job["updated_count"]) == (2, 2)
    rows = query(
        memory_settings,
        """SELECT c.first_name, c.last_name, c.title, c.city,
        co.domain FROM contacts c LEFT JOIN companies co ON co.uuid = c.company_uuid
        ORDER BY c.first_name""",
    )
    assert rows == [
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "title": "Founder",
            "city": "London",
            "domain": "acme.com",
        },
        {
            "first_name": "Bob",
            "last_name": "Stone",
            "title": "Engineer",
            "city": None,
            "domain": None,
        },
    ]


async def test_contacts_without_email_upsert_by_names_and_company(import_client, memory_settings):
    client = await import_client(memory_settings)
    content = _csv(
        "John,Doe,,CEO,,,Acme,acme.com,", "John,Doe,,CTO,,,Other,other.com,", "john,DOE,,Chair,,,,,"
    )
    first = await import_bytes(client, content)
    assert (first["created_count"], first["updated_count"]) == (3, 0)
    second = await import_bytes(client, content)
    assert (second["created_count"], second["updated_count"]) == (0, 3)
    assert count(memory_settings, "contacts") == 3


async def test_metadata_is_written_and_merged(import_client, memory_settings):
    client = await import_client(memory_settings)
    header = (
        "email,first_name,work_direct_phone,stage,company,website,company_phone,latest_funding\n"
    )
    await import_bytes(
        client, _csv("a@x.com,A,'+1 555,Cold,Acme,acme.com,+1 777,Seed", header=header)
    )
    await import_bytes(client, _csv("a@x.com,A,,Warm,Acme,acme.com,,", header=header))
    meta = query(memory_settings, "SELECT work_direct_phone, stage FROM contact_metadata")
    assert meta == [{"work_direct_phone": "+1 555", "stage": "Warm"}]
    meta = query(
        memory_settings, "SELECT website, phone_number, latest_funding FROM company_metadata"
    )
    assert meta == [{"website": "acme.com", "phone_number": "+1 777", "latest_funding": "Seed"}]
    assert json.loads(json.dumps(meta))  # plain JSON-able values


async def test_overlong_text_rejects_the_row_and_keeps_the_rest(import_client, memory_settings):
    """A value longer than MAX_TEXT would not fit the btree indexes: its row is a
    row error, and the batch it came in is imported without it."""
    client = await import_client(memory_settings)
    longest = "😀" * MAX_TEXT  # 4-byte UTF-8: the widest a btree key gets
    content = _csv(
        f"{longest},{longest},,{longest},{longest},,{longest},,",  # no email: name match
        f"Long,Title,bad@example.com,{'x' * (MAX_TEXT + 1)},,,,,",
        f"Ok,Two,ok2@example.com,,,,{'y' * (MAX_TEXT + 1)},,",
    )
    job = await import_bytes(client, content)
    assert (job["status"], job["created_count"], job["error_count"]) == ("completed", 1, 2)
    errors = (
        await (
            await client.get(f"/api/v1/contacts/import/{job['id']}/errors/", headers=_write())
        ).json()
    )["results"]
    assert [(e["row_number"], e["message"]) for e in errors] == [
        (2, f'column "title": longer than {MAX_TEXT} characters'),
        (3, f'column "company": longer than {MAX_TEXT} characters'),
    ]
    stored = query(memory_settings, "SELECT first_name, title FROM contacts")
    assert stored == [{"first_name": longest, "title": longest}]
