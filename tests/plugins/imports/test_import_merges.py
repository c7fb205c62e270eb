"""Several keys of a file naming one database row (issue 13): a company by domain and by
name, websites that normalize to one domain, emails differing only in case, names
differing in case or spaces, a contact without email at a company reached both ways.
Each statement must meet each target row once, and the result must be that of a
row-by-row import whatever the batch size."""

import pytest

from tests.plugins.imports.conftest import count, import_bytes, query

ISSUE_FILE = (
    b"first_name,last_name,email,title,company,website,employees,company_phone\n"
    b"Ann,One,ann@acme-x.com,CEO,Acme X,https://acme-x.com,50,+1 555 0100\n"
    b"Bob,Two,bob@acme-x.com,CTO,Acme X,,50,+1 555 0101\n"
)
COMPANIES = """SELECT co.name, co.domain, co.employees_count, m.website, m.phone_number,
    (SELECT count(*) FROM contacts c WHERE c.company_uuid = co.uuid) AS contacts
    FROM companies co LEFT JOIN company_metadata m ON m.company_uuid = co.uuid
    ORDER BY co.domain NULLS LAST, co.name"""


@pytest.fixture(params=["2000", "1"], ids=["one-batch", "batch-per-row"])
def batch_settings(request, settings_factory):
    return settings_factory(CONTACTS_API__IMPORTS__BATCH_SIZE=request.param)


async def test_the_issue_13_file_imports_two_contacts_and_one_company(
    import_client, batch_settings
):
    client = await import_client(batch_settings)
    job = await import_bytes(client, ISSUE_FILE)
    assert (job["status"], job["error"]) == ("completed", None), job
    assert (job["created_count"], job["updated_count"], job["error_count"]) == (2, 0, 0)
    assert count(batch_settings, "contacts") == 2
    assert query(batch_settings, COMPANIES) == [
        {
            "name": "Acme X",
            "domain": "acme-x.com",
            "employees_count": 50,
            "website": "https://acme-x.com",
            "phone_number": "+1 555 0101",  # the later non-empty value wins
            "contacts": 2,
        }
    ]
    again = await import_bytes(client, ISSUE_FILE)
    assert (again["created_count"], again["updated_count"]) == (0, 2)
    assert count(batch_settings, "companies") == 1


async def test_a_company_named_before_its_website_is_known_takes_the_domain(
    import_client, batch_settings
):
    """The issue's rows in the other order: the company first met without a website
    gains its domain, so the order of rows does not make two companies."""
    header, first, second = ISSUE_FILE.decode().splitlines()
    client = await import_client(batch_settings)
    job = await import_bytes(client, f"{header}\n{second}\n{first}\n".encode())
    assert (job["created_count"], job["error_count"]) == (2, 0), job
    assert query(batch_settings, COMPANIES) == [
        {
            "name": "Acme X",
            "domain": "acme-x.com",
            "employees_count": 50,
            "website": "https://acme-x.com",
            "phone_number": "+1 555 0100",
            "contacts": 2,
        }
    ]


async def test_websites_that_normalize_to_one_domain_are_one_company(import_client, batch_settings):
    client = await import_client(batch_settings)
    content = (
        b"email,company,website,company_phone,employees\n"
        b"a@x.com,Acme,https://www.Acme.com/about,+1 1,\n"
        b"b@x.com,ACME,acme.com,,20\n"
        b"c@x.com,acme ,http://ACME.com.,+1 3,\n"
    )
    job = await import_bytes(client, content)
    assert (job["created_count"], job["error_count"]) == (3, 0), job
    assert query(batch_settings, COMPANIES) == [
        {
            "name": "acme",  # the last spelling wins, trimmed
            "domain": "acme.com",
            "employees_count": 20,
            "website": "http://ACME.com.",
            "phone_number": "+1 3",
            "contacts": 3,
        }
    ]


async def test_emails_differing_in_case_are_one_contact(import_client, batch_settings):
    client = await import_client(batch_settings)
    content = (
        b"first_name,email,title,work_direct_phone,stage\n"
        b"Ann,Ann@X.com,CEO,+1 1,\n"
        b"ANN,ann@x.COM,,,Warm\n"
        b"ann,ANN@X.COM,Chair,,\n"
    )
    job = await import_bytes(client, content)
    assert (job["created_count"], job["updated_count"], job["error_count"]) == (1, 2, 0), job
    assert query(
        batch_settings,
        """SELECT c.email, c.first_name, c.title, m.work_direct_phone, m.stage
        FROM contacts c JOIN contact_metadata m ON m.contact_uuid = c.uuid""",
    ) == [
        {
            "email": "ann@x.com",
            "first_name": "ann",
            "title": "Chair",
            "work_direct_phone": "+1 1",
            "stage": "Warm",
        }
    ]


async def test_names_differing_in_case_or_spaces_are_one_company(import_client, batch_settings):
    client = await import_client(batch_settings)
    content = (
        b"email,company,company_phone\n"
        b"a@x.com,Blue Fox,+1 1\n"
        b"b@x.com,  blue fox  ,\n"
        b"c@x.com,BLUE FOX,+1 3\n"
    )
    job = await import_bytes(client, content)
    assert (job["created_count"], job["error_count"]) == (3, 0), job
    assert query(batch_settings, COMPANIES) == [
        {
            "name": "BLUE FOX",
            "domain": None,
            "employees_count": None,
            "website": None,
            "phone_number": "+1 3",
            "contacts": 3,
        }
    ]


async def test_a_name_matching_a_stored_company_with_a_domain_merges_into_it(
    import_client, batch_settings
):
    client = await import_client(batch_settings)
    await import_bytes(client, b"email,company,website\nold@x.com,Acme,acme.com\n")
    content = (
        b"first_name,last_name,email,company,website,company_phone\n"
        b"Ann,One,,Acme,,+1 1\n"  # by name: the stored Acme (it has a domain)
        b"Ann,One,,Acme,acme.com,+1 2\n"  # by domain: the same company, the same person
        b"Bob,Two,b@x.com,acme,www.acme.com,\n"
    )
    job = await import_bytes(client, content)
    assert (job["created_count"], job["updated_count"], job["error_count"]) == (2, 1, 0), job
    assert query(batch_settings, COMPANIES) == [
        {
            "name": "acme",
            "domain": "acme.com",
            "employees_count": None,
            "website": "www.acme.com",
            "phone_number": "+1 2",
            "contacts": 3,
        }
    ]
    assert count(batch_settings, "contacts") == 3


async def test_a_company_name_without_domain_prefers_the_company_without_one(
    import_client, batch_settings
):
    client = await import_client(batch_settings)
    content = (
        b"email,company,website,employees\n"
        b"a@x.com,Acme,acme.com,1\n"
        b"b@x.com,Acme,acme.de,2\n"
        b"c@x.com,Acme,,3\n"  # no company without domain: the oldest, acme.com
        b"d@x.com,Zed,,4\n"
        b"e@x.com,Zed,zed.com,5\n"  # takes over Zed, which had no domain
        b"f@x.com,Zed,,6\n"
    )
    job = await import_bytes(client, content)
    assert (job["created_count"], job["error_count"]) == (6, 0), job
    rows = query(
        batch_settings,
        """SELECT co.domain, co.employees_count, array_agg(c.email ORDER BY c.email) AS emails
        FROM companies co JOIN contacts c ON c.company_uuid = co.uuid
        GROUP BY co.uuid ORDER BY co.domain""",
    )
    assert rows == [
        {"domain": "acme.com", "employees_count": 3, "emails": ["a@x.com", "c@x.com"]},
        {"domain": "acme.de", "employees_count": 2, "emails": ["b@x.com"]},
        {"domain": "zed.com", "employees_count": 6, "emails": ["d@x.com", "e@x.com", "f@x.com"]},
    ]
