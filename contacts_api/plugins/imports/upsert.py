"""The set-based batch writer: one batch of normalized rows -> companies, contacts and
their metadata, in a handful of ``INSERT ... SELECT FROM unnest(...)`` statements
(``upsert_sql``).

:class:`Batch` collects rows in file order (in the parsing thread): companies are merged
by key (domain, else lower-case name), contacts by key (email, else first name + last
name + company), later non-empty values overriding earlier ones, so each key is written
once per batch, and :meth:`Batch.prepare` builds the statements' array literals there
too, so that the event loop only sends them. :func:`write_batch` then runs in the
batch's transaction:

1. companies with a domain: upsert on ``companies_domain_key``;
2. companies without one: matched by ``lower(name)`` (any company of that name, the one
   without a domain first, then the oldest), else inserted;
3. company metadata, contacts with an email (upsert on ``contacts_email_key``), contacts
   without one (matched by names and company among contacts without email), contact
   metadata.

An empty value never erases a stored one (``COALESCE``; a list replaces only when
non-empty), and an update that would change nothing is skipped (no new row version).
Keys are written in sorted order and keys without a unique index take advisory locks,
so concurrent imports neither deadlock nor duplicate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from contacts_api.plugins.contacts.service import COMPANY_NAME_LOCK
from contacts_api.plugins.imports import upsert_sql as q
from contacts_api.plugins.imports.normalize import ImportRow, RowError

_INT4 = 2**31
_LOCK_CONTACT = 7_100_002  # advisory lock class id of contacts without email (company
# names: COMPANY_NAME_LOCK, shared with the API's writes)
_NAMED_CONTACT_SOURCE = (
    ("k", "int"),
    ("id", "uuid"),
    ("lfn", "text"),
    ("lln", "text"),
    *q.CONTACT_SOURCE,
)
_NAMED_COMPANY_SOURCE = (("k", "int"), ("id", "uuid"), ("lname", "text"), *q.COMPANY_COLUMNS)


def check_row(row: ImportRow) -> None:
    """The database constraints normalize_row does not know about."""
    company = row.company
    if company and "employees_count" in company:
        count = company["employees_count"]
        if not 0 <= count < _INT4:
            raise RowError(f"the number of employees {count} is out of range")


def _company_key(key: tuple | None) -> str | None:
    return None if key is None else key[0] + key[1]


@dataclass(slots=True)
class Batch:
    """Rows of one batch, merged by key in file order, then prepared for the SQL."""

    start_row: int  # the resume point this batch starts after
    end_row: int = 0  # the last CSV record read into it (the next resume point)
    valid_rows: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    companies: dict[tuple, list[dict]] = field(default_factory=dict)
    contacts: dict[tuple, list[Any]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)  # set by prepare()

    @property
    def rows(self) -> int:
        return self.valid_rows + len(self.errors)

    def add(self, row: ImportRow) -> None:
        self.valid_rows += 1
        company_key = None
        if row.company is not None:
            domain = row.company.get("domain")
            company_key = ("d", domain) if domain else ("n", row.company["name"].lower())
            # A row's dicts are its own (normalize_row builds them): the first row of a
            # key is kept as is and later ones merged into it, without copies. The
            # company dict keeps its "domain"; prepare() reads the named columns only.
            merged = self.companies.get(company_key)
            if merged is None:
                self.companies[company_key] = [row.company, row.company_metadata]
            else:
                merged[0].update(row.company)
                merged[1].update(row.company_metadata)
        contact = row.contact
        email = contact.get("email")
        if email:
            key: tuple = ("e", email)
        else:
            first, last = contact.get("first_name", ""), contact.get("last_name", "")
            key = ("n", first.lower(), last.lower(), company_key)
        merged_contact = self.contacts.get(key)
        if merged_contact is None:
            self.contacts[key] = [contact, row.contact_metadata, company_key]
        else:
            merged_contact[0].update(contact)
            merged_contact[1].update(row.contact_metadata)
            if company_key is not None:
                merged_contact[2] = company_key

    def prepare(self) -> None:
        """Build every array literal that does not depend on what the database answers
        (keys are sorted: concurrent imports lock rows in the same order)."""
        p = self.params
        domains = sorted(key[1] for key in self.companies if key[0] == "d")
        p["domains"] = domains
        p["domain_rows"] = [
            q.literal(domains, text=True),
            *q.arrays([self.companies[("d", domain)][0] for domain in domains], q.COMPANY_COLUMNS),
        ]
        names = sorted(key[1] for key in self.companies if key[0] == "n")
        p["names"] = names
        p["name_locks"] = q.literal(names, text=True)
        p["name_rows"] = q.arrays(
            [
                {
                    **self.companies[("n", name)][0],
                    "k": index,
                    "id": str(uuid.uuid4()),
                    "lname": name,
                }
                for index, name in enumerate(names)
            ],
            _NAMED_COMPANY_SOURCE,
        )
        meta = [
            (_company_key(key), merged[1]) for key, merged in self.companies.items() if merged[1]
        ]
        p["company_meta"] = (
            [
                q.literal([k for k, _ in meta], text=True),
                *q.arrays([m for _, m in meta], q.COMPANY_META_COLUMNS),
            ]
            if meta
            else None
        )

        emails = sorted(key[1] for key in self.contacts if key[0] == "e")
        p["emails"] = emails
        records = []
        for email in emails:
            contact, _, company_key = self.contacts[("e", email)]
            records.append({**contact, "company_key": _company_key(company_key)})
        p["email_rows"] = [q.literal(emails, text=True), *q.arrays(records, q.CONTACT_SOURCE)]
        named = [key for key in self.contacts if key[0] == "n"]
        p["named"] = len(named)
        records = []
        for index, key in enumerate(named):
            contact, _, company_key = self.contacts[key]
            records.append(
                {
                    **contact,
                    "k": index,
                    "id": str(uuid.uuid4()),
                    "lfn": key[1],
                    "lln": key[2],
                    "company_key": _company_key(company_key),
                }
            )
        p["named_locks"] = q.literal(
            sorted(f"{key[1]}{q.SEP}{key[2]}{q.SEP}{_company_key(key[3]) or ''}" for key in named),
            text=True,
        )
        p["named_rows"] = q.arrays(records, _NAMED_CONTACT_SOURCE)
        named_index = {key: index for index, key in enumerate(named)}
        meta = [
            ("e" + key[1] if key[0] == "e" else f"n{named_index[key]}", merged[1])
            for key, merged in self.contacts.items()
            if merged[1]
        ]
        p["contact_meta"] = (
            [
                q.literal([k for k, _ in meta], text=True),
                *q.arrays([m for _, m in meta], q.CONTACT_META_COLUMNS),
            ]
            if meta
            else None
        )
        if self.errors:
            numbers, messages, rows = zip(*self.errors, strict=True)
            p["errors"] = [
                q.literal(list(numbers)),
                q.literal(list(messages), text=True),
                q.literal(list(rows), text=True),
            ]


@dataclass(slots=True)
class Written:
    created: int
    updated: int


def _map(mapping: dict[str, str | None]) -> list[str]:
    """The key -> uuid map parameters (two arrays)."""
    pairs = [(key, value) for key, value in mapping.items() if value is not None]
    return [
        q.literal([k for k, _ in pairs], text=True),
        q.literal([v for _, v in pairs], text=True),
    ]


async def _companies(tx: Any, p: dict[str, Any]) -> dict[str, str | None]:
    """Write the batch's companies and their metadata; return company key -> uuid."""
    uuids: dict[str, str | None] = {}
    if p["domains"]:
        for domain, company_uuid, _ in await tx.fetch_tuples(
            q.UPSERT_DOMAIN_COMPANIES, p["domain_rows"]
        ):
            uuids["d" + domain] = company_uuid
        missing = [d for d in p["domains"] if uuids.get("d" + d) is None]
        if missing:  # written by a concurrent import after the statement's snapshot
            for domain, company_uuid in await tx.fetch_tuples(
                q.FIND_DOMAIN_COMPANIES, (q.literal(missing, text=True),)
            ):
                uuids["d" + domain] = company_uuid
    if p["names"]:
        await tx.fetch_val(q.LOCK_KEYS, (COMPANY_NAME_LOCK, p["name_locks"]))
        for index, company_uuid, _ in await tx.fetch_tuples(
            q.UPSERT_NAMED_COMPANIES, p["name_rows"]
        ):
            uuids["n" + p["names"][index]] = company_uuid
    return uuids


async def write_batch(tx: Any, batch: Batch) -> Written:
    """Write the prepared batch's companies and contacts in transaction ``tx``; return
    the created/updated counts (every valid row is one or the other)."""
    p = batch.params
    company_map = _map(await _companies(tx, p))
    if p["company_meta"]:
        await tx.execute(q.UPSERT_COMPANY_META, [*p["company_meta"], *company_map])
    created = 0
    contacts: dict[str, str | None] = {}
    if p["emails"]:
        for email, contact_uuid, inserted in await tx.fetch_tuples(
            q.UPSERT_EMAIL_CONTACTS, [*p["email_rows"], *company_map]
        ):
            contacts["e" + email] = contact_uuid
            created += inserted
        missing = [e for e in p["emails"] if contacts.get("e" + e) is None]
        if missing:
            for email, contact_uuid in await tx.fetch_tuples(
                q.FIND_EMAIL_CONTACTS, (q.literal(missing, text=True),)
            ):
                contacts["e" + email] = contact_uuid
    if p["named"]:
        await tx.fetch_val(q.LOCK_KEYS, (_LOCK_CONTACT, p["named_locks"]))
        for index, contact_uuid, inserted in await tx.fetch_tuples(
            q.UPSERT_NAMED_CONTACTS, [*p["named_rows"], *company_map]
        ):
            contacts[f"n{index}"] = contact_uuid
            created += inserted
    if p["contact_meta"]:
        await tx.execute(q.UPSERT_CONTACT_META, [*p["contact_meta"], *_map(contacts)])
    return Written(created=created, updated=batch.valid_rows - created)


async def write_errors(tx: Any, job_id: str, batch: Batch) -> None:
    """Record the batch's bad rows (a replayed batch records nothing twice)."""
    if batch.errors:
        await tx.execute(q.INSERT_ERRORS, (job_id, *batch.params["errors"]))
