"""A plain-Python model of the import's rules (docs/api.md, docs/csv-format.md), for the property
tests: the rows of a file applied one by one, in file order, to an in-memory store.

- A blank row is skipped; a row needs an email or a first or last name (else it is an error),
  unless it names a company and has no contact cell: a company-only row writes its
  company only, and counts as created when it created it.
- Its company, when it names one (a name, or a website with a host):
  by domain; a domain no company has takes over the oldest company of that
  (case-insensitive) name that has no domain, else is a new company. Without a
  domain: the company of that name, the one without a domain first, then the oldest,
  else a new one.
- Its contact: by email (trimmed, lower-cased); without email, the contact without
  email of the same case-insensitive first and last names and the same company (or
  no company), else a new one.
- A non-empty value replaces the stored one; an empty one never erases it (a list
  replaces only when it has elements). A contact's company is the last one a row of
  theirs named.

It only knows the columns of the property tests' vocabulary, and reads websites
and lists the simple way that vocabulary needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "title",
    "city",
    "stage",
    "company",
    "website",
    "employees",
    "industry",
    "company_phone",
)


@dataclass
class Company:
    order: int
    domain: str | None
    name: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Contact:
    email: str | None
    first_name: str | None = None
    last_name: str | None = None
    company: Company | None = None
    fields: dict[str, Any] = field(default_factory=dict)


def domain_of(website: str) -> str | None:
    host = website.lower().split("://", 1)[-1].split("/", 1)[0].rstrip(".")
    host = host.removeprefix("www.")
    return host or None


def split_list(cell: str) -> list[str]:
    items: dict[str, str] = {}
    for item in cell.split(","):
        item = item.strip().lower()
        if item:
            items.setdefault(item, item)
    return list(items)


class Store:
    """The database as the model sees it."""

    def __init__(self) -> None:
        self.companies: list[Company] = []  # in creation order: the oldest first
        self.contacts: list[Contact] = []
        self.counts = {"created": 0, "updated": 0, "errors": 0}

    # -- companies -----------------------------------------------------------------

    def _named(self, lname: str) -> list[Company]:
        return [c for c in self.companies if c.name is not None and c.name.lower() == lname]

    def _company(self, name: str | None, domain: str | None) -> Company:
        lname = None if name is None else name.lower()
        if domain is not None:
            for company in self.companies:
                if company.domain == domain:
                    return company
            homeless = [c for c in self._named(lname) if c.domain is None] if lname else []
            if homeless:
                homeless[0].domain = domain
                return homeless[0]
        else:
            same_name = self._named(lname)  # type: ignore[arg-type]
            if same_name:
                return sorted(same_name, key=lambda c: (c.domain is not None, c.order))[0]
        company = Company(order=len(self.companies), domain=domain)
        self.companies.append(company)
        return company

    # -- rows ------------------------------------------------------------------------

    def apply(self, row: dict[str, str]) -> None:
        if not any(row.get(key) for key in COLUMNS):
            return  # a blank line: skipped, not an error
        cell = {key: (row.get(key) or "").strip() for key in COLUMNS}
        email = cell["email"].lower() or None
        first, last = cell["first_name"] or None, cell["last_name"] or None
        domain = domain_of(cell["website"]) if cell["website"] else None
        has_company = bool(cell["company"] or domain)
        company_only = has_company and not any(cell[k] for k in ("title", "city", "stage"))
        if email is None and first is None and last is None and not company_only:
            self.counts["errors"] += 1
            return
        company = None
        if has_company:
            known = len(self.companies)
            company = self._company(cell["company"] or None, domain)
            if cell["company"]:
                company.name = cell["company"]
            values = {
                "employees_count": int(cell["employees"]) if cell["employees"] else None,
                "industries": split_list(cell["industry"]) or None,
                "phone_number": cell["company_phone"] or None,
                "website": cell["website"] or None,
            }
            company.fields.update({k: v for k, v in values.items() if v is not None})
            if email is None and first is None and last is None:  # company-only row
                self.counts["created" if len(self.companies) > known else "updated"] += 1
                return

        contact = self._contact(email, first, last, company)
        if contact is None:
            contact = Contact(email=email, company=company)
            self.contacts.append(contact)
            self.counts["created"] += 1
        else:
            self.counts["updated"] += 1
        contact.first_name = first or contact.first_name
        contact.last_name = last or contact.last_name
        contact.company = company or contact.company
        values = {"title": cell["title"], "city": cell["city"], "stage": cell["stage"]}
        contact.fields.update({k: v for k, v in values.items() if v})

    def _contact(
        self, email: str | None, first: str | None, last: str | None, company: Company | None
    ) -> Contact | None:
        for contact in self.contacts:
            if email is not None:
                if contact.email == email:
                    return contact
            elif (
                contact.email is None
                and (contact.first_name or "").lower() == (first or "").lower()
                and (contact.last_name or "").lower() == (last or "").lower()
                and contact.company is company
            ):
                return contact
        return None

    # -- what the database should hold -------------------------------------------------

    def company_rows(self) -> list[tuple]:
        rows = [
            (
                c.name,
                c.domain,
                c.fields.get("employees_count"),
                tuple(c.fields.get("industries", ())),
                c.fields.get("phone_number"),
                c.fields.get("website"),
            )
            for c in self.companies
        ]
        return sorted(rows, key=repr)

    def contact_rows(self) -> list[tuple]:
        rows = [
            (
                c.email,
                c.first_name,
                c.last_name,
                c.fields.get("title"),
                c.fields.get("city"),
                c.fields.get("stage"),
                None if c.company is None else c.company.name,
                None if c.company is None else c.company.domain,
            )
            for c in self.contacts
        ]
        return sorted(rows, key=repr)


def expected(rows: list[dict[str, str]]) -> Store:
    store = Store()
    for row in rows:
        store.apply(row)
    return store
