"""A deterministic dataset for the contacts tests, and its insertion.

~300 contacts across 40 companies: unicode names, empty fields, contacts
without a company, ties on ``created_at`` (so uuid tie-breaking is tested),
list fields with ``_``/``.`` spellings for the technology folding.
"""

import datetime as dt
import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg2
import psycopg2.extras

FIRST = [
    "Ada",
    "Émile",
    "Zoë",
    "Łukasz",
    "José",
    "Søren",
    "Ангелина",
    "Ömer",
    "ana",
    "Bob",
    "Chloé",
    "李",
    "Nuñez",
    "Ingrid",
    "Tom",
    None,
]
LAST = [
    "Lovelace",
    "Durand",
    "Müller",
    "Nowak",
    "García",
    "Kierkegaard",
    "Иванова",
    "Yılmaz",
    "smith",
    "O'Brien",
    "Dupont",
    "王",
    "Peña",
    None,
]
TITLES = [
    "Chief Executive Officer",
    "CEO",
    "VP of Sales",
    "Sales Director",
    "Director of Sales",
    "Head of Marketing",
    "Marketing Manager",
    "Software Engineer",
    "Senior Software Engineer",
    "Engineer, Software",
    "Directeur Général",
    "Intern",
    "Product Manager",
    "Vice President Sales",
    "",
    None,
]
SENIORITIES = [
    "owner",
    "founder",
    "c_suite",
    "partner",
    "vp",
    "head",
    "director",
    "manager",
    "senior",
    "entry",
    "intern",
    None,
]
STATUSES = ["verified", "unverified", "likely_to_engage", "unavailable", "bounced", None]
DEPARTMENTS = [
    "engineering",
    "sales",
    "marketing",
    "executive",
    "c_suite",
    "finance",
    "human resources",
]
PLACES = [
    ("London", "England", "United Kingdom"),
    ("Paris", "Île-de-France", "France"),
    ("München", "Bayern", "Germany"),
    ("Austin", "Texas", "United States"),
    ("New York", "New York", "United States"),
    ("Kraków", None, "Poland"),
    (None, None, "España"),
    ("São Paulo", "SP", "Brazil"),
    (None, None, None),
    ("Москва", None, "Россия"),
]
COMPANY_NAMES = [
    "TechCorp",
    "Café Électrique",
    "Müller GmbH",
    "北京科技",
    "Ñandú SA",
    "Acme Inc",
    "acme labs",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli",
    "Pied Piper",
    "Vandelay Industries",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Aperture",
    "Black Mesa",
]
INDUSTRIES = [
    "computer software",
    "information technology & services",
    "marketing & advertising",
    "financial services",
    "retail",
    "hospital & health care",
    "automotive",
]
KEYWORDS = ["saas", "crm", "b2b", "e-commerce", "analytics", "ai", "machine learning", "fintech"]
TECHS = [
    "Salesforce",
    "AWS",
    "Shopify Plus",
    "shopify_plus",
    "Node.js",
    "Google Analytics",
    "HubSpot",
    "React",
    "WordPress",
]
BASE_TIME = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


@dataclass
class Company:
    uuid: str
    name: str | None
    domain: str | None
    employees_count: int | None
    industries: list[str]
    keywords: list[str]
    technologies: list[str]
    annual_revenue: int | None
    total_funding: int | None
    address: str | None
    city: str | None
    state: str | None
    country: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    metadata: dict[str, Any] | None = None


@dataclass
class Contact:
    uuid: str
    first_name: str | None
    last_name: str | None
    email: str | None
    title: str | None
    seniority: str | None
    departments: list[str]
    email_status: str | None
    mobile_phone: str | None
    city: str | None
    state: str | None
    country: str | None
    linkedin_url: str | None
    company: Company | None
    created_at: dt.datetime
    updated_at: dt.datetime
    metadata: dict[str, Any] | None = None


@dataclass
class Dataset:
    companies: list[Company] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)

    def contact(self, uuid_: str) -> Contact:
        return next(c for c in self.contacts if c.uuid == uuid_)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _maybe(rng, value, p_none=0.15):
    return None if rng.random() < p_none else value


def build_dataset(n_companies: int = 40, n_contacts: int = 300, seed: int = 4) -> Dataset:
    rng = random.Random(seed)
    data = Dataset()
    for i in range(n_companies):
        base = COMPANY_NAMES[i % len(COMPANY_NAMES)]
        name = base if i < len(COMPANY_NAMES) else f"{base} {i}"
        slug = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum()) or f"co{i}"
        city, state, country = rng.choice(PLACES)
        created = BASE_TIME + dt.timedelta(hours=rng.randrange(0, 24 * 300))
        data.companies.append(
            Company(
                uuid=_uuid(rng),
                name=_maybe(rng, name, 0.05),
                domain=_maybe(rng, f"{slug}{i}.com", 0.2),
                employees_count=_maybe(
                    rng, rng.choice([1, 5, 10, 11, 50, 51, 200, 1000, 10001, 25000]), 0.15
                ),
                industries=rng.sample(INDUSTRIES, rng.randrange(0, 3)),
                keywords=rng.sample(KEYWORDS, rng.randrange(0, 4)),
                technologies=rng.sample(TECHS, rng.randrange(0, 4)),
                annual_revenue=_maybe(rng, rng.randrange(0, 10**9, 1000)),
                total_funding=_maybe(rng, rng.randrange(0, 10**8, 1000), 0.3),
                address=_maybe(rng, f"{rng.randrange(1, 999)} Main Street", 0.3),
                city=city,
                state=state,
                country=country,
                created_at=created,
                updated_at=created,
                metadata=_maybe(
                    rng,
                    {"website": f"https://www.{slug}{i}.com", "phone_number": "+1 555 0100"},
                    0.5,
                ),
            )
        )
    created_pool = [
        BASE_TIME + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 400))
        for _ in range(n_contacts // 2)
    ]
    for i in range(n_contacts):
        city, state, country = rng.choice(PLACES)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = None if rng.random() < 0.08 else f"person{i}@example{i % 7}.com"
        title = rng.choice(TITLES) or None
        created = rng.choice(created_pool)  # ties on purpose
        has_meta = rng.random() < 0.4
        data.contacts.append(
            Contact(
                uuid=_uuid(rng),
                first_name=first,
                last_name=last,
                email=email,
                title=title,
                seniority=rng.choice(SENIORITIES),
                departments=rng.sample(DEPARTMENTS, rng.randrange(0, 3)),
                email_status=rng.choice(STATUSES),
                mobile_phone=_maybe(rng, f"+1 555 {rng.randrange(1000, 9999)}", 0.6),
                city=city,
                state=state,
                country=country,
                linkedin_url=_maybe(rng, f"https://www.linkedin.com/in/p{i}", 0.3),
                company=None if rng.random() < 0.15 else rng.choice(data.companies),
                created_at=created,
                updated_at=created + dt.timedelta(days=rng.randrange(0, 30)),
                metadata={
                    "work_direct_phone": _maybe(rng, "+1 555 0199", 0.7),
                    "home_phone": None,
                    "other_phone": None,
                    "stage": _maybe(rng, "lead", 0.5),
                }
                if has_meta
                else None,
            )
        )
    return data


COMPANY_COLUMNS = (
    "uuid",
    "name",
    "domain",
    "employees_count",
    "industries",
    "keywords",
    "technologies",
    "annual_revenue",
    "total_funding",
    "address",
    "city",
    "state",
    "country",
    "created_at",
    "updated_at",
)
CONTACT_COLUMNS = (
    "uuid",
    "first_name",
    "last_name",
    "email",
    "title",
    "seniority",
    "departments",
    "email_status",
    "mobile_phone",
    "city",
    "state",
    "country",
    "linkedin_url",
    "created_at",
    "updated_at",
)


def insert_dataset(database_url: str, data: Dataset) -> None:
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            psycopg2.extras.execute_values(
                cur,
                f"INSERT INTO companies ({', '.join(COMPANY_COLUMNS)}) VALUES %s",
                [tuple(getattr(c, k) for k in COMPANY_COLUMNS) for c in data.companies],
            )
            meta = [(c.uuid, json.dumps(c.metadata)) for c in data.companies if c.metadata]
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO company_metadata (company_uuid, website, phone_number) "
                "SELECT u::uuid, m->>'website', m->>'phone_number' FROM (VALUES %s) v(u, m0), "
                "LATERAL (SELECT m0::jsonb AS m) j",
                meta,
            )
            psycopg2.extras.execute_values(
                cur,
                f"INSERT INTO contacts ({', '.join(CONTACT_COLUMNS)}, company_uuid) VALUES %s",
                [
                    (
                        *(getattr(c, k) for k in CONTACT_COLUMNS),
                        c.company.uuid if c.company else None,
                    )
                    for c in data.contacts
                ],
            )
            rows = [
                (
                    c.uuid,
                    *(
                        c.metadata[k]
                        for k in ("work_direct_phone", "home_phone", "other_phone", "stage")
                    ),
                )
                for c in data.contacts
                if c.metadata
            ]
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO contact_metadata (contact_uuid, work_direct_phone, home_phone, "
                "other_phone, stage) VALUES %s",
                rows,
            )
    finally:
        conn.close()
