"""Row normalization: the four sample layouts, value rules, row errors, formula cells."""

import csv
from pathlib import Path

import pytest

from contacts_api.plugins.imports.columns import join_list, neutralize
from contacts_api.plugins.imports.normalize import (
    ImportRow,
    RowError,
    build_header_map,
    domain_from_website,
    normalize_date,
    normalize_row,
)
from contacts_api.plugins.imports.reading import open_csv

SAMPLES = Path(__file__).parent / "samples"
LAYOUTS = [
    "apollo-contacts-export-2024.csv",
    "apollo-contacts-export-2025-11.csv",
    "apollo-contacts-export-2026.csv",
]


def import_file(data: bytes) -> tuple[list[ImportRow], list[tuple[int, str]]]:
    """Read and normalize a whole file, as the import job does: rows and row errors."""
    stream = open_csv([data])
    header_map = build_header_map(stream.header)
    rows, errors = [], []
    for number, cells in stream:
        try:
            rows.append(normalize_row(header_map, cells))
        except RowError as error:
            errors.append((number, str(error)))
    return rows, errors


def import_sample(name: str) -> list[ImportRow]:
    rows, errors = import_file((SAMPLES / name).read_bytes())
    assert errors == []
    return rows


def one(header: str, row: str) -> ImportRow:
    """Normalize a single row given as CSV text under a CSV header line."""
    header_cells = next(csv.reader([header]))
    return normalize_row(build_header_map(header_cells), next(csv.reader([row])))


def test_our_layout_reads_as_written() -> None:
    with (SAMPLES / "contacts-import.csv").open(encoding="utf-8", newline="") as file:
        written = list(csv.DictReader(file))
    rows = import_sample("contacts-import.csv")
    assert len(rows) == 25
    for row, cells in zip(rows, written, strict=True):
        assert row.contact["email"] == cells["email"].lower()
        assert row.contact["first_name"] == cells["first_name"]
        assert row.contact["last_name"] == cells["last_name"]
        assert row.contact["title"] == cells["title"]
        assert row.company is not None
        assert row.company["name"] == cells["company"]


def test_first_sample_row_in_full() -> None:
    assert import_sample("contacts-import.csv")[0] == ImportRow(
        contact={
            "first_name": "Jason",
            "last_name": "Green",
            "email": "jason.green@bakerandsons.com",
            "title": "Geschäftsführer",
            "seniority": "c_suite",
            "departments": ["executive"],
            "email_status": "verified",
            "mobile_phone": "+1 512-555-0144",
            "city": "Houston",
            "state": "Texas",
            "country": "United States",
        },
        contact_metadata={},
        company={
            "name": "Baker & Sons Logistics",
            "domain": "bakerandsons.com",
            "employees_count": 340,
            "industries": ["logistics & supply chain"],
            "keywords": ["logistics", "supply chain"],
            "technologies": ["Salesforce", "AWS"],
            "city": "Austin",
            "state": "Texas",
            "country": "United States",
            "annual_revenue": 2120000000,
            "total_funding": 376421000,
        },
        company_metadata={
            "website": "https://bakerandsons.com/about",
            "linkedin_url": "http://www.linkedin.com/company/bakersonslogistics",
            "phone_number": "+1 512-555-2756",
            "latest_funding_amount": 167234000,
            "latest_funding": "Series B",
            "last_raised_at": "2022-01-01",
        },
    )


@pytest.mark.parametrize("layout", LAYOUTS)
def test_apollo_layouts_give_the_same_25_people(layout: str) -> None:
    ours = import_sample("contacts-import.csv")
    theirs = import_sample(layout)
    assert [row.contact["email"] for row in theirs] == [row.contact["email"] for row in ours]
    # Not only emails, names, titles and companies: every field reads the same.
    assert theirs == ours


def test_header_map_lists_unknown_columns_once() -> None:
    header = ["Email", "Contact Owner", "Lists", "", "Contact Owner", "uuid", "company_uuid"]
    header_map = build_header_map(header)
    assert header_map.unknown == ("Contact Owner", "Lists")
    assert header_map.warning == 'Unknown columns were ignored: "Contact Owner", "Lists"'
    assert build_header_map(["email", "first_name"]).warning is None


def test_apollo_2026_trailing_custom_column_is_an_unknown_column() -> None:
    stream = open_csv([(SAMPLES / "apollo-contacts-export-2026.csv").read_bytes()])
    header_map = build_header_map(stream.header)
    assert header_map.unknown[-1] == "AI Lead Score"
    assert "Sub Departments" not in header_map.unknown
    assert header_map.columns["departments"] == (stream.header.index("Departments"),)


def test_departments_and_sub_departments_are_merged() -> None:
    row = one("email,Departments,Sub Departments", 'a@x.com,"Sales, Design","design,Ops"')
    assert row.contact["departments"] == ["sales", "design", "ops"]
    row = one("email,Departments,Sub Departments", "a@x.com,,Engineering")
    assert row.contact["departments"] == ["engineering"]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        # mobile, work direct, home, other, first phone
        (",,,,'+1 555", {"mobile_phone": "+1 555"}),
        ("+1 111,,,,+1 555", {"mobile_phone": "+1 111", "work_direct_phone": "+1 555"}),
        ("+1 111,,+1 333,,+1 555", {"mobile_phone": "+1 111", "work_direct_phone": "+1 555",
                                    "home_phone": "+1 333"}),
        (",+1 555,,,'+1 555", {"work_direct_phone": "+1 555"}),  # a repeat is not copied
        ("1,2,3,4,5", {"mobile_phone": "1", "work_direct_phone": "2", "home_phone": "3",
                       "other_phone": "4"}),
    ],
)  # fmt: skip
def test_first_phone_fills_the_first_empty_phone(cells: str, expected: dict) -> None:
    header = "Email,Mobile Phone,Work Direct Phone,Home Phone,Other Phone,First Phone"
    row = one(header, "a@x.com," + cells)
    phones = {**row.contact, **row.contact_metadata}
    phones.pop("email")
    assert phones == expected


def test_first_non_empty_of_two_columns_for_one_field_wins() -> None:
    header = "email,Company,Corporate Phone,Company Phone"
    assert one(header, "a@x.com,Acme,'+1 111,+1 222").company_metadata == {"phone_number": "+1 111"}
    assert one(header, "a@x.com,Acme,,+1 222").company_metadata == {"phone_number": "+1 222"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("'+1 217-254-9641", "+1 217-254-9641"),
        ("  '+1 217-254-9641 ", "+1 217-254-9641"),
        ("'0049 30 1234", "0049 30 1234"),
        ("+44 20 7946 1766", "+44 20 7946 1766"),
    ],
)
def test_phones_lose_the_leading_quote(value: str, expected: str) -> None:
    row = one("email,mobile_phone,company,company_phone", f"a@x.com,{value},Acme,{value}")
    assert row.contact["mobile_phone"] == expected
    assert row.company_metadata["phone_number"] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1200", 1200),
        ('"1,200"', 1200),
        ("1200.0", 1200),
        (" 340 ", 340),
        ('"$1,200"', 1200),
        ("2120000000.0", 2120000000),
        ("2.12E+09", 2120000000),
        ('"1,234,567.6"', 1234568),
        ("0", 0),
        ("'-5", -5),
    ],
)
def test_numbers(value: str, expected: int) -> None:
    columns = "email,company,employees,annual_revenue,total_funding,latest_funding_amount"
    row = one(columns, f"a@x.com,Acme,{value},{value},{value},{value}")
    assert row.company is not None
    assert row.company["employees_count"] == expected
    assert row.company["annual_revenue"] == expected
    assert row.company["total_funding"] == expected
    assert row.company_metadata["latest_funding_amount"] == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12 people", 'column "# Employees": "12 people" is not a number'),
        ("1,2", 'column "# Employees": "1,2" is not a number'),
        ("nan", 'column "# Employees": "nan" is not a number'),
        ("inf", 'column "# Employees": "inf" is not a number'),
        ("1e30", 'column "# Employees": "1e30" is too large'),
        ("99999999999999999999", 'column "# Employees": "99999999999999999999" is too large'),
    ],
)
def test_bad_numbers_are_row_errors(value: str, message: str) -> None:
    with pytest.raises(RowError) as error:
        one("Email,# Employees", f'a@x.com,"{value}"')
    assert str(error.value) == message


def test_each_bad_row_kind_is_reported_with_its_row_number() -> None:
    data = (
        b"Email,First Name,Last Name,Annual Revenue\r\n"
        b"good@x.com,Ann,Lee,100\r\n"  # 1
        b"not-an-email,Bob,,\r\n"  # 2
        b"c@x.com,Cy,,lots\r\n"  # 3
        b"d@x.com,Di,,1,extra\r\n"  # 4
        b",,,500\r\n"  # 5
        b"\r\n"  # 6: blank, skipped
        b',"Ed",,"1,200"\r\n'  # 7: no email, but a name
        b"e@x.com, ,\t,\r\n"  # 8: only blanks besides the email
    )
    rows, errors = import_file(data)
    assert errors == [
        (2, 'column "Email": "not-an-email" is not an email address'),
        (3, 'column "Annual Revenue": "lots" is not a number'),
        (4, "the row has 5 cells but the header has 4 columns"),
        (5, "the row has neither an email nor a first or last name"),
    ]
    assert [row.contact.get("email") or row.contact["first_name"] for row in rows] == [
        "good@x.com",
        "Ed",
        "e@x.com",
    ]


@pytest.mark.parametrize(
    "email", ["a", "a@", "@x.com", "a@x", "a b@x.com", "a@x.com, b@y.com", "a@@x.com", "<a@x.com>"]
)
def test_invalid_emails(email: str) -> None:
    with pytest.raises(RowError, match="is not an email address"):
        one("email,first_name", f'"{email}",Ann')


def test_email_is_trimmed_and_lower_cased() -> None:
    row = one("email", " Kevin.Andersson@NORTHWIND-RESEARCH.COM ")
    assert row.contact == {"email": "kevin.andersson@northwind-research.com"}


def test_apollo_locked_email_placeholder_is_no_email() -> None:
    row = one("email,first_name", "email_not_unlocked@domain.com,Ann")
    assert row.contact == {"first_name": "Ann"}
    with pytest.raises(RowError, match="neither an email nor a first or last name"):
        one("email,title", "email_not_unlocked@domain.com,CEO")


def test_fewer_cells_than_the_header_are_empty_cells() -> None:
    assert one("email,first_name,title", "a@x.com").contact == {"email": "a@x.com"}


def test_empty_cells_are_absent_not_none() -> None:
    header = ",".join(
        ["email", "first_name", "title", "seniority", "stage", "company", "employees"]
        + ["industry", "website", "last_raised_at", "company_phone"]
    )
    row = one(header, "a@x.com,  ,, ,,,  ,, ,,")
    assert row == ImportRow({"email": "a@x.com"}, {}, None, {})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("C suite", "c_suite"),
        ("c_suite", "c_suite"),
        ("C-Suite", "c_suite"),
        ("Vp", "vp"),
        ("VP", "vp"),
        ("Vice President", "vp"),
        ("Owner", "owner"),
        ("entry", "entry"),
        ("Intern", "intern"),
    ],
)
def test_seniority_is_normalized(value: str, expected: str) -> None:
    assert one("email,seniority", f"a@x.com,{value}").contact["seniority"] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Likely to engage", "likely_to_engage"),
        ("likely_to_engage", "likely_to_engage"),
        ("Verified", "verified"),
        ("UNVERIFIED", "unverified"),
        ("Bounced", "bounced"),
        ("Unavailable", "unavailable"),
    ],
)
def test_email_status_is_normalized(value: str, expected: str) -> None:
    assert one("email,email_status", f"a@x.com,{value}").contact["email_status"] == expected


def test_unknown_enumeration_values_are_left_out() -> None:
    row = one("email,seniority,email_status", "a@x.com,Chief,Guessed")
    assert row.contact == {"email": "a@x.com"}


def test_lists_are_split_trimmed_and_deduplicated() -> None:
    header = "email,departments,company,industry,keywords,technologies"
    row = one(
        header,
        'a@x.com,"Sales, ,Design, sales",Acme,"Computer Software",'
        '"saas,\nb2b, SaaS,","Salesforce, AWS,salesforce"',
    )
    assert row.contact["departments"] == ["sales", "design"]
    assert row.company is not None
    assert row.company["industries"] == ["computer software"]
    assert row.company["keywords"] == ["saas", "b2b"]
    assert row.company["technologies"] == ["Salesforce", "AWS"]
    # A list that holds only separators is an empty cell.
    assert "keywords" not in one("email,company,keywords", 'a@x.com,Acme," , ,"').company


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-02-01T00:00:00+00:00", "2022-02-01"),
        ("2022-02-01T00:00:00Z", "2022-02-01"),
        ("2000-06-01", "2000-06-01"),
        ("10/1/2023", "2023-10-01"),
        ("12/31/2023 0:00", "2023-12-31"),
        ("10/1/2023 14:05", "2023-10-01T14:05:00Z"),
        ("2022-02-01T10:30:00+02:00", "2022-02-01T08:30:00Z"),
        ("2022-02-01T00:00:00+01:00", "2022-01-31T23:00:00Z"),
        ("2022-02-01 09:15:00", "2022-02-01T09:15:00Z"),
        ("13/45/2023", "13/45/2023"),  # unreadable: kept as written
        ("Q3 2021", "Q3 2021"),
    ],
)
def test_dates(value: str, expected: str) -> None:
    assert normalize_date(value) == expected
    row = one("email,company,last_raised_at", f"a@x.com,Acme,{value}")
    assert row.company_metadata["last_raised_at"] == expected


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("https://www.TechCorp.com/x", "techcorp.com"),
        ("http://techcorp.com", "techcorp.com"),
        ("techcorp.com", "techcorp.com"),
        ("www.techcorp.com/about?x=1", "techcorp.com"),
        ("//techcorp.com", "techcorp.com"),
        ("HTTPS://WWW.TECHCORP.CO.UK:8443/", "techcorp.co.uk"),
        ("https://www.Silverwindnetworks.Com.Br/", "silverwindnetworks.com.br"),
        ("https://app.techcorp.com.", "app.techcorp.com"),
        ("https://münchen-gmbh.de", "münchen-gmbh.de"),
        ("n/a", None),
        ("http://localhost", None),
        ("https://", None),
        ("http://[::1", None),
    ],
)
def test_domain_from_website(website: str, domain: str | None) -> None:
    assert domain_from_website(website) == domain


@pytest.mark.parametrize(
    ("cells", "company", "company_metadata"),
    [
        ("Acme,,", {"name": "Acme"}, {}),
        (",https://www.acme.io/,", {"domain": "acme.io"}, {"website": "https://www.acme.io/"}),
        (",n/a,+1 555", None, {}),  # neither a name nor a domain: no company
        (",,+1 555", None, {}),
    ],
)
def test_a_company_needs_a_name_or_a_domain(
    cells: str, company: dict | None, company_metadata: dict
) -> None:
    row = one("email,company,website,company_phone", "a@x.com," + cells)
    assert row.company == company
    assert row.company_metadata == company_metadata


@pytest.mark.parametrize(
    "value",
    [
        "=SUM(A1:A9)",
        "+1 217-254-9641",
        "-dash",
        "@handle",
        "\tTabbed",
        "\rReturn",
        "plain",
        "O'Brien",
        ";=cmd|' /C calc'!A0",
        ", @SUM(A1)",
        ";;  -2+3",
        "Plain; =not at the start",
    ],
)
def test_export_neutralization_round_trips(value: str) -> None:
    header_map = build_header_map(["email", "title", "mobile_phone", "company"])
    row = normalize_row(header_map, ["a@x.com"] + [neutralize(value)] * 3)
    assert row.contact["title"] == value
    assert row.contact["mobile_phone"] == value
    assert row.company == {"name": value}


def test_neutralize_prefixes_only_formula_starts() -> None:
    assert [neutralize(v) for v in ["=1", "+1", "-1", "@a", "\ta", "\ra", "a=1", "", "'=1"]] == [
        "'=1", "'+1", "'-1", "'@a", "'\ta", "'\ra", "a=1", "", "''=1",
    ]  # fmt: skip
    # "'=1" is data that the import would read as a neutralized "=1": it gets a
    # quote of its own, so it comes back as it went out
    assert neutralize(";=1") == "';=1" and neutralize(" , @a") == "' , @a"


def test_a_quote_before_other_text_is_kept() -> None:
    row = one("email,company,title", "a@x.com,'Ohana Foods,'CEO")
    assert row.contact["title"] == "'CEO"
    assert row.company == {"name": "'Ohana Foods"}


def test_joined_lists_split_back() -> None:
    technologies = ["Salesforce", "AWS", "Google Tag Manager"]
    cell = join_list(technologies)
    assert cell == "Salesforce, AWS, Google Tag Manager"
    row = normalize_row(
        build_header_map(["email", "company", "technologies"]), ["a@x.com", "A", cell]
    )
    assert row.company is not None
    assert row.company["technologies"] == technologies


def test_import_row_is_slotted() -> None:
    row = one("email", "a@x.com")
    assert not hasattr(row, "__dict__")
