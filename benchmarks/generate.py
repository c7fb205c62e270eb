"""Deterministic, realistic contacts and companies for benchmarks.

    python benchmarks/generate.py --contacts 1000000 --companies 100000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench     # load a database
    python benchmarks/generate.py --contacts 10000 --csv contacts.csv  # the import CSV
    python benchmarks/generate.py --contacts 10000 --csv apollo.csv --layout apollo-2026

The same seed gives the same data. Company sizes are skewed (a Pareto tail:
most companies are small, a few have 10k+ employees, and contacts are spread
in proportion), titles are composed from levels, functions and roles, a
quarter of them with a team name (about 250k distinct at 1M contacts, ~14%
of contacts are some kind of "Manager"), industries come from Apollo's tag list, ~5% of contacts
have no email and ~3% no company, and names mix several scripts.

Loading a database (already migrated, contacts tables empty) uses COPY on a
synchronous psycopg2 connection with triggers off (the trigger-maintained
company copies on contacts are written directly), with the secondary indexes
dropped during the load and rebuilt after it, then VACUUM ANALYZE.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from contacts_api.plugins.imports.columns import IMPORT_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
TAGS = ROOT / "contacts_api" / "plugins" / "apollo" / "data" / "apollo_industry_tags.csv"

FIRST = (
    "James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Susan "
    "Richard Jessica Joseph Sarah Thomas Karen Charles Lisa Daniel Nancy Matthew Sandra "
    "Anthony Ashley Mark Emily Paul Michelle Steven Amanda Andrew Melissa Kevin Stephanie "
    "Brian Rebecca George Laura Émile Zoë Chloé Hélène François Søren Åsa Björn Jürgen "
    "Müller Łukasz Małgorzata José María Nuñez Joaquín Sofía João Conceição Ömer Çağla "
    "Şebnem Ангелина Дмитрий Ольга Сергей Анна 李 王 张 陈 刘 Hiroshi Yuki 太郎 花子 "
    "Aarav Priya Ananya Rohan Fatima Omar Layla Youssef Kwame Amara Chidi Ngozi Lars "
    "Ingrid Sven Astrid Pierre Camille Luca Giulia Marco Francesca Pablo Lucía"
).split()
LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Dubois Lefèvre Müller Schröder Weiß Nowak Kowalski Wiśniewska Peña Muñoz Gonçalves "
    "Yılmaz Öztürk Иванов Петрова Смирнов 王 李 张 Tanaka Suzuki 佐藤 Patel Sharma Singh "
    "Khan Haddad Mensah Okafor Adeyemi Andersson Johansson Nielsen Hansen Rossi Russo "
    "Ferrari Bianchi O'Brien Fernández Kierkegaard Novák Dvořák"
).split()
LEVELS = [
    "",
    "",
    "",
    "Senior",
    "Junior",
    "Lead",
    "Principal",
    "Staff",
    "Associate",
    "Assistant",
    "Chief",
    "Head of",
    "Director of",
    "VP of",
    "Vice President of",
    "Global Head of",
    "Regional Director of",
    "Manager,",
    "Deputy",
]
FUNCTIONS = [
    "Sales",
    "Marketing",
    "Engineering",
    "Software",
    "Product",
    "Finance",
    "Operations",
    "Human Resources",
    "Customer Success",
    "Business Development",
    "Growth",
    "Data",
    "Security",
    "Legal",
    "Design",
    "Partnerships",
    "IT",
    "Supply Chain",
    "Procurement",
    "Communications",
    "Research",
    "Analytics",
]
ROLES = [
    "Manager",
    "Manager",
    "Manager",
    "Engineer",
    "Director",
    "Specialist",
    "Analyst",
    "Consultant",
    "Representative",
    "Executive",
    "Coordinator",
    "Officer",
    "Architect",
    "Lead",
    "Developer",
    "Strategist",
    "Administrator",
    "Account Executive",
    "Partner",
]
REGIONS = ["", "", "", "", "EMEA", "APAC", "North America", "DACH", "LATAM", "UK&I", "Nordics"]
C_SUITE = [
    "Chief Executive Officer",
    "CEO",
    "CTO",
    "Chief Technology Officer",
    "CFO",
    "Chief Financial Officer",
    "COO",
    "Chief Marketing Officer",
    "CMO",
    "Founder",
    "Co-Founder",
    "Owner",
    "President",
    "Managing Director",
    "Directeur Général",
    "Geschäftsführer",
]
SENIORITY_OF = {
    "Senior": "senior",
    "Junior": "entry",
    "Lead": "senior",
    "Principal": "senior",
    "Staff": "senior",
    "Associate": "entry",
    "Assistant": "entry",
    "Chief": "c_suite",
    "Head of": "head",
    "Director of": "director",
    "VP of": "vp",
    "Vice President of": "vp",
    "Global Head of": "head",
    "Regional Director of": "director",
    "Manager,": "manager",
    "Deputy": "manager",
}
DEPARTMENT_OF = {
    "Sales": "sales",
    "Marketing": "marketing",
    "Engineering": "engineering",
    "Software": "engineering",
    "Product": "product management",
    "Finance": "finance",
    "Operations": "operations",
    "Human Resources": "human resources",
    "Customer Success": "support",
    "Business Development": "business development",
    "Growth": "marketing",
    "Data": "data science",
    "Security": "information technology",
    "Legal": "legal",
    "Design": "design",
    "Partnerships": "business development",
    "IT": "information technology",
    "Supply Chain": "operations",
    "Procurement": "operations",
    "Communications": "marketing",
    "Research": "engineering",
    "Analytics": "data science",
}
PLACES = [
    ("New York", "New York", "United States"),
    ("San Francisco", "California", "United States"),
    ("Austin", "Texas", "United States"),
    ("Chicago", "Illinois", "United States"),
    ("Boston", "Massachusetts", "United States"),
    ("Seattle", "Washington", "United States"),
    ("Denver", "Colorado", "United States"),
    ("Miami", "Florida", "United States"),
    ("Atlanta", "Georgia", "United States"),
    ("Los Angeles", "California", "United States"),
    ("London", "England", "United Kingdom"),
    ("Manchester", "England", "United Kingdom"),
    ("Edinburgh", "Scotland", "United Kingdom"),
    ("Paris", "Île-de-France", "France"),
    ("Lyon", "Auvergne-Rhône-Alpes", "France"),
    ("Berlin", "Berlin", "Germany"),
    ("München", "Bayern", "Germany"),
    ("Hamburg", "Hamburg", "Germany"),
    ("Madrid", "Madrid", "Spain"),
    ("Barcelona", "Cataluña", "Spain"),
    ("Amsterdam", "North Holland", "Netherlands"),
    ("Stockholm", "Stockholm", "Sweden"),
    ("Kraków", "Małopolskie", "Poland"),
    ("Warsaw", "Mazowieckie", "Poland"),
    ("São Paulo", "São Paulo", "Brazil"),
    ("Toronto", "Ontario", "Canada"),
    ("Vancouver", "British Columbia", "Canada"),
    ("Sydney", "New South Wales", "Australia"),
    ("Bengaluru", "Karnataka", "India"),
    ("Mumbai", "Maharashtra", "India"),
    ("Tokyo", "Tokyo", "Japan"),
    ("Singapore", "", "Singapore"),
    ("Dubai", "", "United Arab Emirates"),
    ("Москва", "", "Россия"),
    ("Istanbul", "", "Türkiye"),
    ("Zürich", "Zürich", "Switzerland"),
    ("Dublin", "Leinster", "Ireland"),
    ("Tel Aviv", "", "Israel"),
    ("Lagos", "Lagos", "Nigeria"),
    ("Mexico City", "CDMX", "Mexico"),
]
PLACE_WEIGHTS = [
    9,
    8,
    5,
    5,
    5,
    4,
    3,
    3,
    3,
    6,
    7,
    2,
    1,
    5,
    1,
    4,
    3,
    2,
    3,
    2,
    3,
    2,
    1,
    2,
    3,
    3,
    1,
    2,
    3,
    2,
    2,
    2,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
]
KEYWORDS = (
    "saas b2b crm analytics ai machine-learning fintech e-commerce marketplace payments "
    "cybersecurity cloud devops logistics healthcare insurance edtech hr-tech "
    "martech adtech iot blockchain data-platform automation consulting retail "
    "manufacturing biotech energy real-estate travel gaming media recruiting "
    "legal-tech proptech supply-chain robotics"
).split()
STREETS = ["Main", "High", "Market", "King"]
TECHS = [
    "Salesforce",
    "HubSpot",
    "AWS",
    "Google Cloud",
    "Microsoft Azure",
    "Shopify",
    "Shopify Plus",
    "WordPress",
    "React",
    "Node.js",
    "Python",
    "Google Analytics",
    "Segment",
    "Stripe",
    "Zendesk",
    "Intercom",
    "Marketo",
    "Slack",
    "Jira",
    "Snowflake",
    "Datadog",
    "Cloudflare",
    "Magento",
    "Mailchimp",
    "Twilio",
    "Okta",
    "Workday",
    "Vue.js",
    "Kubernetes",
    "Docker",
    "Heroku",
    "Vercel",
    "Next.js",
    "Ruby on Rails",
    "Angular",
    "Pardot",
    "Outreach",
    "Gong",
    "Looker",
    "Tableau",
]
SYLLABLES = (
    "ac me glo bex ini tech umb rel la vex cor tra sys nex gen lu mi no va ter ra "
    "zen ith qu ark sol ar is on ly ne to ka mo ri an da ve po li ex"
).split()
SUFFIXES = [
    "",
    "",
    " Inc",
    " Labs",
    " GmbH",
    " Ltd",
    " SA",
    " Group",
    " Technologies",
    " Systems",
    " Solutions",
    " & Co",
    " AB",
    " BV",
]
# The import's own column names, in the order its export writes them.
CSV_COLUMNS = list(IMPORT_COLUMNS)
STATUSES = ["verified"] * 6 + ["unverified"] * 2 + ["likely_to_engage", "unavailable", "bounced"]
EPOCH = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
SPAN_S = 3 * 365 * 86400


def industries() -> list[str]:
    with TAGS.open(encoding="utf-8") as handle:
        return [row["Industry"] for row in csv.DictReader(handle)]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _ascii(text: str) -> str:
    out = "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())
    return out or "x"


def make_companies(rng: random.Random, n: int) -> list[dict]:
    tags = industries()
    out, seen_domains = [], set()
    for i in range(n):
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).title()
        name += rng.choice(SUFFIXES)
        slug = _ascii(name)
        domain = f"{slug}.{rng.choice(['com', 'com', 'io', 'co', 'de', 'fr', 'net'])}"
        if domain in seen_domains:
            domain = f"{slug}-{i}.com"  # slugs have no "-": unique
        seen_domains.add(domain)
        size = min(int(rng.paretovariate(1.1) * 4), 300_000)
        city, state, country = rng.choices(PLACES, PLACE_WEIGHTS)[0]
        created = EPOCH + dt.timedelta(seconds=rng.randrange(SPAN_S))
        out.append(
            {
                "uuid": _uuid(rng),
                "name": name,
                "domain": domain if rng.random() > 0.03 else None,
                "employees_count": size if rng.random() > 0.05 else None,
                "industries": rng.sample(tags, rng.choice([1, 1, 1, 2])),
                "keywords": rng.sample(KEYWORDS, rng.randint(0, 5)),
                "technologies": rng.sample(TECHS, rng.randint(0, 6)),
                "annual_revenue": size * rng.randint(50_000, 400_000)
                if rng.random() > 0.2
                else None,
                "total_funding": rng.randrange(0, 10**9, 10_000) if rng.random() > 0.6 else None,
                "address": f"{rng.randint(1, 999)} {rng.choice(STREETS)} Street",
                "city": city,
                "state": state or None,
                "country": country,
                "created_at": created,
                "website": f"https://www.{domain}",
            }
        )
    return out


def make_title(rng: random.Random) -> tuple[str, str | None, list[str]]:
    if rng.random() < 0.06:
        title = rng.choice(C_SUITE)
        seniority = "owner" if title == "Owner" else "founder" if "ounder" in title else "c_suite"
        return title, seniority, ["executive"]
    level, function, role = rng.choice(LEVELS), rng.choice(FUNCTIONS), rng.choice(ROLES)
    region = rng.choice(REGIONS)
    if level.endswith(("of", ",")):
        title = f"{level} {function}"
    else:
        title = " ".join(p for p in (level, function, role) if p)
    if region:
        title += f" {region}"
    if rng.random() < 0.25:
        # a long tail of distinct titles, as real data has ("..., Team Nexvaro"):
        # a common term then matches more distinct titles than the dictionary's limit
        team = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        title += f", Team {team.title()}"
    seniority = SENIORITY_OF.get(level) or (
        "manager" if role == "Manager" else rng.choice(["senior", "entry", None])
    )
    return title, seniority, [DEPARTMENT_OF[function]]


def contacts(rng: random.Random, companies: list[dict], n: int) -> Iterator[dict]:
    weights = [(c["employees_count"] or 5) ** 0.8 for c in companies]
    picks = rng.choices(range(len(companies)), weights, k=n)
    for i in range(n):
        company = None if rng.random() < 0.03 else companies[picks[i]]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        title, seniority, departments = make_title(rng)
        domain = company["domain"] if company and company["domain"] else "example.org"
        email = None if rng.random() < 0.05 else f"{_ascii(first)}.{_ascii(last)}.{i}@{domain}"
        city, state, country = (
            rng.choices(PLACES, PLACE_WEIGHTS)[0]
            if rng.random() < 0.3 or company is None
            else (company["city"], company["state"], company["country"])
        )
        created = EPOCH + dt.timedelta(seconds=rng.randrange(SPAN_S))
        yield {
            "uuid": _uuid(rng),
            "first_name": first,
            "last_name": last,
            "email": email,
            "title": title,
            "seniority": seniority,
            "departments": departments,
            "email_status": rng.choice(STATUSES) if email else None,
            "mobile_phone": f"+1 555 {rng.randint(1000000, 9999999)}"
            if rng.random() < 0.3
            else None,
            "city": city,
            "state": state or None,
            "country": country,
            "linkedin_url": f"https://www.linkedin.com/in/{_ascii(first)}-{_ascii(last)}-{i}"
            if rng.random() < 0.8
            else None,
            "company": company,
            "created_at": created,
            "updated_at": created + dt.timedelta(seconds=rng.randrange(86400 * 30)),
        }


# -- COPY ----------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, list):
        inner = ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in value)
        value = "{" + inner + "}"
    elif isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


COMPANY_COPY = [
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
]
CONTACT_COPY = [
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
    "company_uuid",
    "created_at",
    "updated_at",
    "company_name",
    "company_employees",
    "company_annual_revenue",
    "company_total_funding",
    "title_id",
    "country_id",
]


class FieldValueIds:
    """What the contacts_fill_value_ids trigger does, for a load without triggers:
    an id per distinct (field, value), kept for ``contact_field_values``."""

    def __init__(self):
        self.ids: dict[tuple[str, str], int] = {}

    def __call__(self, field: str, value: str | None) -> int | None:
        if value is None:
            return None
        return self.ids.setdefault((field, value), len(self.ids) + 1)

    def rows(self) -> Iterator[list]:
        return ([i, field, value] for (field, value), i in self.ids.items())


def _copy(cur, table: str, columns: list[str], rows: Iterator[list]) -> None:
    buffer, count = io.StringIO(), 0
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    for row in rows:
        buffer.write("\t".join(map(_text, row)) + "\n")
        count += 1
        if count % 100_000 == 0:
            buffer.seek(0)
            cur.copy_expert(sql, buffer)
            buffer = io.StringIO()
    buffer.seek(0)
    cur.copy_expert(sql, buffer)


def load(database_url: str, n_contacts: int, n_companies: int, seed: int) -> None:
    import psycopg2

    rng = random.Random(seed)
    started = time.perf_counter()
    companies = make_companies(rng, n_companies)
    conn = psycopg2.connect(database_url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM contacts")
        if cur.fetchone()[0]:
            sys.exit("contacts is not empty: load into a freshly migrated database")
        # values left by contacts deleted earlier: the load numbers its own (and
        # the stored terms made of them go too: their horizon references a value)
        cur.execute("TRUNCATE contact_field_values RESTART IDENTITY CASCADE")
        cur.execute("""SELECT indexname, indexdef FROM pg_indexes
                       WHERE tablename IN ('contacts', 'companies') AND indexname NOT IN
                       (SELECT conname FROM pg_constraint)""")
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        cur.execute("SET session_replication_role = replica")  # no triggers, no FK checks
        _copy(
            cur,
            "companies",
            COMPANY_COPY,
            ([*(c[k] for k in COMPANY_COPY[:-1]), c["created_at"]] for c in companies),
        )
        _copy(
            cur,
            "company_metadata",
            ["company_uuid", "website"],
            ([c["uuid"], c["website"]] for c in companies),
        )

        value_id = FieldValueIds()

        def contact_rows():
            for c in contacts(rng, companies, n_contacts):
                co = c["company"] or {}
                yield [
                    *(c[k] for k in CONTACT_COPY[:13]),
                    co.get("uuid"),
                    c["created_at"],
                    c["updated_at"],
                    co.get("name"),
                    co.get("employees_count"),
                    co.get("annual_revenue"),
                    co.get("total_funding"),
                    value_id("title", c["title"]),
                    value_id("country", c["country"]),
                ]

        _copy(cur, "contacts", CONTACT_COPY, contact_rows())
        _copy(cur, "contact_field_values", ["id", "field", "value"], value_id.rows())
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('contact_field_values', 'id'), "
            "(SELECT coalesce(max(id), 0) + 1 FROM contact_field_values), false)"
        )
        cur.execute("SET session_replication_role = origin")
        loaded = time.perf_counter()
        print(
            f"generated and copied {n_contacts} contacts, {n_companies} companies "
            f"in {loaded - started:.1f}s; rebuilding {len(indexes)} indexes",
            flush=True,
        )
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET max_parallel_maintenance_workers = 2")
        for _, definition in indexes:
            cur.execute(definition)
    conn.autocommit = True
    with conn.cursor() as cur:
        # VACUUM too: index-only scans need the visibility map of a fresh load.
        cur.execute("VACUUM ANALYZE companies, company_metadata, contacts, contact_field_values")
    conn.close()
    print(f"indexes and ANALYZE in {time.perf_counter() - loaded:.1f}s", flush=True)


def write_csv(path: Path, n_contacts: int, n_companies: int, seed: int) -> None:
    rng = random.Random(seed)
    companies = make_companies(rng, n_companies)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for c in contacts(rng, companies, n_contacts):
            co = c["company"] or {}
            writer.writerow(
                [
                    c["first_name"],
                    c["last_name"],
                    c["email"],
                    c["title"],
                    c["seniority"],
                    ", ".join(c["departments"]),
                    c["email_status"],
                    c["mobile_phone"],
                    "",
                    "",
                    "",
                    c["linkedin_url"],
                    "",
                    "",
                    "",
                    c["city"],
                    c["state"],
                    c["country"],
                    co.get("name"),
                    "",
                    co.get("website"),
                    "",
                    co.get("employees_count"),
                    ", ".join(co.get("industries", [])),
                    ", ".join(co.get("keywords", [])),
                    ", ".join(co.get("technologies", [])),
                    co.get("address"),
                    co.get("city"),
                    co.get("state"),
                    co.get("country"),
                    "",
                    co.get("annual_revenue"),
                    co.get("total_funding"),
                    "",
                    "",
                    "",
                ]
            )


APOLLO_2026_SAMPLE = ROOT / "tests/plugins/imports/samples/apollo-contacts-export-2026.csv"


def _apollo_label(value: str | None) -> str:
    """``c_suite`` -> ``C suite``, ``likely_to_engage`` -> ``Likely to engage``: how
    Apollo's exports write seniorities and email statuses."""
    return value.replace("_", " ").capitalize() if value else ""


def write_apollo_csv(path: Path, n_contacts: int, n_companies: int, seed: int) -> None:
    """The same contacts as :func:`write_csv`, in Apollo's 2026 export layout (the
    header of ``tests/plugins/imports/samples/apollo-contacts-export-2026.csv``, with
    a BOM, display labels, phones written ``'+1 ...``), as ``benchmarks/import.py``
    uploads them."""
    with APOLLO_2026_SAMPLE.open(encoding="utf-8-sig", newline="") as sample:
        header = next(csv.reader(sample))
    index = {name: i for i, name in enumerate(header)}
    rng = random.Random(seed)
    companies = make_companies(rng, n_companies)
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.write("\ufeff")
        writer = csv.writer(handle)
        writer.writerow(header)
        for n, c in enumerate(contacts(rng, companies, n_contacts)):
            co = c["company"] or {}
            row = [""] * len(header)
            for name, value in {
                "First Name": c["first_name"],
                "Last Name": c["last_name"],
                "Title": c["title"],
                "Company Name": co.get("name"),
                "Email": c["email"],
                "Email Status": _apollo_label(c["email_status"]),
                "Seniority": _apollo_label(c["seniority"]),
                "Departments": ", ".join(d.title() for d in c["departments"]),
                "Mobile Phone": f"'{c['mobile_phone']}" if c["mobile_phone"] else None,
                "Stage": ("Cold", "Replied", "")[n % 3],
                "# Employees": co.get("employees_count"),
                "Industry": ", ".join(co.get("industries", [])),
                "Keywords": ", ".join(co.get("keywords", [])),
                "Person Linkedin Url": c["linkedin_url"],
                "Website": co.get("website"),
                "City": c["city"],
                "State": c["state"],
                "Country": c["country"],
                "Company Address": co.get("address"),
                "Company City": co.get("city"),
                "Company State": co.get("state"),
                "Company Country": co.get("country"),
                "Technologies": ", ".join(co.get("technologies", [])),
                "Annual Revenue": co.get("annual_revenue"),
                "Total Funding": co.get("total_funding"),
                "Apollo Contact Id": f"{n:024x}",
            }.items():
                if value is not None:
                    row[index[name]] = value
            writer.writerow(row)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--database-url", help="load this (migrated, empty) database")
    parser.add_argument("--csv", type=Path, help="write the import CSV here")
    parser.add_argument(
        "--layout",
        choices=("ours", "apollo-2026"),
        default="ours",
        help="the CSV's columns: ours (docs/csv-format.md) or Apollo's 2026 export",
    )
    args = parser.parse_args(argv)
    if not args.database_url and not args.csv:
        parser.error("give --database-url and/or --csv")
    if args.csv:
        write = write_apollo_csv if args.layout == "apollo-2026" else write_csv
        write(args.csv, args.contacts, args.companies, args.seed)
    if args.database_url:
        load(args.database_url, args.contacts, args.companies, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
