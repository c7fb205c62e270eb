"""The set-based batch writer: one batch of normalized rows -> companies, contacts and
their metadata, in a handful of ``INSERT/UPDATE ... FROM unnest(...)`` statements
(``upsert_sql``).

A batch is written exactly as if its rows were imported one by one, in file order, so
the result never depends on the batch size (the property tests check it against a
row-by-row model):

1. companies: each row's company is resolved against the stored companies the batch may
   reach (one query) and the companies created by earlier rows: by domain; a domain no
   company has takes over the oldest company of that name without a domain, else is a
   new company; a row without a domain takes the company of that (case-insensitive)
   name, the one without a domain first, then the oldest, else a new one. Renames by
   earlier rows count. Each company's values are then merged over the rows that
   resolved to it, in file order (a later non-empty value wins), and written once;
2. contacts with an email: merged by email in file order (upsert on
   ``contacts_email_key``), their company being the last one a row of theirs named;
3. contacts without one: merged by lower-case names and resolved company, matched to
   the contact without email of those names and company (the oldest);
4. metadata: one row per company or contact.

A company-only row (``ImportRow.company_only``, a row of a companies export) takes
part in step 1 only; it counts as created when it created its company.

So every statement meets each target row once: several keys of a batch may name one
company (by domain and by name, ``www.`` and case variants of a website...), and
PostgreSQL refuses an ``ON CONFLICT DO UPDATE`` that touches a row twice
(``CardinalityViolation``).

An empty value never erases a stored one (``COALESCE``; a list replaces only when
non-empty), and an update that would change nothing is skipped (no new row version).
Names of companies that a batch may create without a domain, and contacts without email,
take advisory locks (in sorted order), so concurrent imports neither deadlock nor
duplicate them; a concurrent insert of the same domain makes the statement fail, and
the batch is written again (:func:`write_rows`).

:func:`write_rows` also isolates the rows the database refuses (a trigger, a constraint
the parser does not know): it writes the batch under a savepoint and, when the database
refuses it, splits it in halves until it finds the refused rows, which become row
errors with the database's message.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg2

from contacts_api.core.resources.database import CONFLICTS, is_transient
from contacts_api.plugins.contacts.service import COMPANY_NAME_LOCK
from contacts_api.plugins.imports import upsert_sql as q
from contacts_api.plugins.imports.normalize import ImportRow, RowError

_INT4 = 2**31
_LOCK_CONTACT = 7_100_002  # advisory lock class id of contacts without email (company
# names: COMPANY_NAME_LOCK, shared with the API's writes)
_NAMED_CONTACT_SOURCE = (("k", "int"), ("id", "uuid"), ("lfn", "text"), ("lln", "text"))
_NAMED_CONTACT_SOURCE += q.CONTACT_COLUMNS
_COMPANY_ROWS = (("uuid", "uuid"), ("domain", "text"), *q.COMPANY_COLUMNS)

# (row number, ImportRow, the row's cells as read)
Item = tuple[int, ImportRow, list[str]]
# (row number, message, the row as a JSON object)
ErrorRow = tuple[int, str, str]


def check_row(row: ImportRow) -> None:
    """The database constraints normalize_row does not know about."""
    company = row.company
    if company and "employees_count" in company:
        count = company["employees_count"]
        if not 0 <= count < _INT4:
            raise RowError(f"the number of employees {count} is out of range")


def _cells_object(cells: list[str]) -> str:
    return json.dumps({f"column {i + 1}": cell for i, cell in enumerate(cells)})


@dataclass(slots=True)
class Batch:
    """The rows of one batch in file order, prepared for the SQL by :meth:`prepare`."""

    start_row: int  # the resume point this batch starts after
    end_row: int = 0  # the last CSV record read into it (the next resume point)
    items: list[Item] = field(default_factory=list)
    errors: list[ErrorRow] = field(default_factory=list)
    # builds an error's ``row`` object from the cells (the reader knows the header)
    row_object: Callable[[list[str]], str] = _cells_object
    params: dict[str, Any] = field(default_factory=dict)  # set by prepare()

    @property
    def valid_rows(self) -> int:
        return len(self.items)

    @property
    def rows(self) -> int:
        return len(self.items) + len(self.errors)

    def subset(self, items: list[Item]) -> Batch:
        """A batch of some of these rows (no row errors), prepared."""
        part = Batch(self.start_row, self.end_row, items, row_object=self.row_object)
        part.prepare()
        return part

    def prepare(self) -> None:
        """Everything that does not depend on what the database answers: the keys to
        look up and lock (sorted: concurrent imports lock in the same order), and the
        contacts with an email merged by email with their array literals. Runs in the
        parsing thread. A row's own dicts are never changed (merges copy on write), so
        that :meth:`subset` can prepare the same rows again."""
        domains: set[str] = set()
        names: set[str] = set()
        lock_names: set[str] = set()
        # email -> [contact, contact metadata, index of its last row with a company, owned]
        emails: dict[str, list] = {}
        named: list[int] = []
        company_only: list[int] = []
        for index, (_, row, _) in enumerate(self.items):
            company = row.company
            if company is not None:
                domain = company.get("domain")
                name = company.get("name")
                if domain:
                    domains.add(domain)
                if name is not None:
                    lname = name.lower()
                    names.add(lname)
                    if not domain:  # may create a company without domain: lock it
                        lock_names.add(lname)
            if row.company_only:  # its company above, and no contact
                company_only.append(index)
                continue
            contact = row.contact
            email = contact.get("email")
            if not email:
                named.append(index)
                continue
            entry = emails.get(email)
            if entry is None:
                emails[email] = [contact, row.contact_metadata, -1 if company is None else index, 0]
                continue
            if not entry[3]:
                entry[0], entry[1], entry[3] = dict(entry[0]), dict(entry[1]), 1
            entry[0].update(contact)
            entry[1].update(row.contact_metadata)
            if company is not None:
                entry[2] = index

        p = self.params
        # the keys other batches in flight are compared with (pipeline.py)
        p["domain_keys"] = frozenset(domains)
        p["name_keys"] = frozenset(names)
        p["email_keys"] = frozenset(emails)
        p["domains"] = q.literal(sorted(domains), text=True)
        p["names"] = q.literal(sorted(names), text=True)
        p["has_companies"] = bool(domains or names)
        p["lock_names"] = q.literal(sorted(lock_names), text=True) if lock_names else None
        ordered = sorted(emails)
        p["emails"] = ordered
        p["email_company_items"] = [emails[email][2] for email in ordered]
        p["email_rows"] = [
            q.literal(ordered, text=True),
            *q.arrays([emails[email][0] for email in ordered], q.CONTACT_COLUMNS[:-1]),
        ]
        with_meta = [email for email in ordered if emails[email][1]]
        p["email_meta_emails"] = with_meta
        p["email_meta"] = q.arrays(
            [emails[email][1] for email in with_meta], q.CONTACT_META_COLUMNS
        )
        p["named"] = named
        p["company_only"] = company_only


@dataclass(slots=True)
class Written:
    created: int = 0
    updated: int = 0
    refused: list[ErrorRow] = field(default_factory=list)  # rows the database refused
    # whether the first attempt of the whole batch failed (the rows were written again,
    # or in halves): what ``on_companies`` was told may not be what was written
    rewritten: bool = False

    def add(self, other: Written) -> None:
        self.created += other.created
        self.updated += other.updated
        self.refused += other.refused


class _Company:
    """A company as the batch sees it while resolving its rows in file order."""

    __slots__ = ("uuid", "domain", "lname", "found", "order", "new", "values", "meta")

    def __init__(self, uuid: str | None, domain: str | None, lname: str | None, order: tuple):
        self.uuid = uuid
        self.domain = domain
        self.lname = lname
        self.found = (domain, lname)  # its keys as stored (a new one: as created)
        self.order = order  # (0, created_at, uuid) stored; (1, n) n-th created by the batch
        self.new = uuid is None
        self.values: dict[str, Any] | None = None  # merged over its rows (copy on write)
        self.meta: dict[str, Any] | None = None

    def merge(self, values: dict[str, Any], meta: dict[str, Any], owned: list[bool]) -> None:
        if self.values is None:
            self.values, self.meta = values, meta
            return
        if not owned[0]:
            self.values, self.meta = dict(self.values), dict(self.meta or {})
            owned[0] = True
        self.values.update(values)
        self.meta.update(meta)  # type: ignore[union-attr]


def _by_name_rank(company: _Company) -> tuple:
    return (company.domain is not None, company.order)


class _CompanyResolver:
    """Resolves each row's company in file order (see the module docstring)."""

    def __init__(self, stored: list[tuple]):
        self.by_domain: dict[str, _Company] = {}
        self.by_name: dict[str, list[_Company]] = {}
        for company_uuid, domain, lname, created_at in stored:
            company = _Company(company_uuid, domain, lname, (0, created_at, company_uuid))
            if domain is not None:
                self.by_domain[domain] = company
            if lname is not None:
                self.by_name.setdefault(lname, []).append(company)
        self.touched: dict[int, tuple[_Company, list[bool]]] = {}  # id -> (company, owned)
        self.created = 0

    def _new(self, domain: str | None, lname: str | None) -> _Company:
        self.created += 1
        company = _Company(None, domain, lname, (1, self.created))
        if domain is not None:
            self.by_domain[domain] = company
        if lname is not None:
            self.by_name.setdefault(lname, []).append(company)
        return company

    def resolve(self, row: ImportRow) -> _Company:
        values = row.company
        assert values is not None
        domain = values.get("domain")
        name = values.get("name")
        lname = None if name is None else name.lower()
        if domain is not None:
            company = self.by_domain.get(domain)
            if company is None:
                homeless = [c for c in self.by_name.get(lname, ()) if c.domain is None]
                if homeless:  # the company named so, until now without a domain
                    company = min(homeless, key=_by_name_rank)
                    company.domain = domain  # written by UPDATE_COMPANIES
                    self.by_domain[domain] = company
                else:
                    company = self._new(domain, lname)
        else:
            same_name = self.by_name.get(lname)  # type: ignore[arg-type]
            company = min(same_name, key=_by_name_rank) if same_name else self._new(None, lname)
        if lname is not None and company.lname != lname:  # renamed by this row
            if company.lname is not None:
                self.by_name[company.lname].remove(company)
            company.lname = lname
            self.by_name.setdefault(lname, []).append(company)
        touched = self.touched.get(id(company))
        if touched is None:
            touched = self.touched[id(company)] = (company, [False])
        company.merge(values, row.company_metadata, touched[1])
        return company


_last_ordered = 0


def _ordered_uuids(count: int) -> list[str]:
    """``count`` new uuids (version 7 layout) that sort in the order they are made, so
    that companies created by one transaction (same ``created_at``) keep their creation
    order in "the oldest company of that name"."""
    global _last_ordered
    now_ms = time.time_ns() // 1_000_000
    start = max((now_ms << 74) | secrets.randbits(64), _last_ordered + 1)
    _last_ordered = start + count - 1
    out = []
    for value in range(start, start + count):
        ms, sequence = value >> 74, value & ((1 << 74) - 1)
        bits = (ms << 80) | (7 << 76) | ((sequence >> 62) << 64) | (2 << 62)
        out.append(str(uuid.UUID(int=bits | (sequence & ((1 << 62) - 1)))))
    return out


@dataclass(slots=True)
class CompanyWrites:
    """The keys (domains, lower-case names: as found and as written) of the companies
    a batch created or changed (values or metadata): a later batch looking one of them
    up must see this batch committed first (pipeline.py)."""

    domains: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, companies: list[_Company]) -> CompanyWrites:
        writes = cls()
        for company in companies:
            for domain, lname in (company.found, (company.domain, company.lname)):
                if domain is not None:
                    writes.domains.add(domain)
                if lname is not None:
                    writes.names.add(lname)
        return writes


async def _write_companies(
    tx: Any, batch: Batch, share: bool = False
) -> tuple[list[_Company | None], CompanyWrites]:
    """Resolve and write the batch's companies and their metadata; return each row's
    company (None for a row without one) and what was written. ``share``: then lock
    the stored companies the rows name FOR SHARE (q.SHARE_COMPANIES)."""
    p = batch.params
    if not p["has_companies"]:
        return [None] * len(batch.items), CompanyWrites()
    if p["lock_names"]:
        await tx.fetch_val(q.LOCK_KEYS, (COMPANY_NAME_LOCK, p["lock_names"]))
    found = await tx.fetch_tuples(f"{q.JIT_OFF}; {q.FIND_COMPANIES}", (p["domains"], p["names"]))
    resolver = _CompanyResolver(found)
    resolve = resolver.resolve
    targets = [None if row.company is None else resolve(row) for _, row, _ in batch.items]
    touched = [company for company, _ in resolver.touched.values()]
    new = [company for company in touched if company.new]
    for company, company_uuid in zip(new, _ordered_uuids(len(new)), strict=True):
        company.uuid = company_uuid
    if new:
        await tx.execute(q.INSERT_COMPANIES, _company_arrays(new))
    stored = sorted((c for c in touched if not c.new), key=lambda c: c.uuid)  # type: ignore[arg-type, return-value]
    changed: set[str] = set()
    if stored:
        rows = await tx.fetch_tuples(q.UPDATE_COMPANIES, _company_arrays(stored))
        changed.update(company_uuid for (company_uuid,) in rows)
    with_meta = sorted((c for c in touched if c.meta), key=lambda c: c.uuid)  # type: ignore[arg-type, return-value]
    if with_meta:
        changed.update(
            company_uuid
            for (company_uuid,) in await tx.fetch_tuples(
                q.UPSERT_COMPANY_META,
                [
                    q.literal([c.uuid for c in with_meta], text=True),
                    *q.arrays([c.meta for c in with_meta], q.COMPANY_META_COLUMNS),  # type: ignore[misc]
                ],
            )
        )
    if share and stored:
        await tx.fetch_val(q.SHARE_COMPANIES, (q.literal([c.uuid for c in stored], text=True),))
    written = CompanyWrites.of([c for c in touched if c.new or c.uuid in changed])
    return targets, written


def _company_arrays(companies: list[_Company]) -> list[str]:
    records = [{**c.values, "uuid": c.uuid, "domain": c.domain} for c in companies]  # type: ignore[dict-item]
    return q.arrays(records, _COMPANY_ROWS)


async def _write_email_contacts(
    tx: Any, batch: Batch, targets: list[_Company | None]
) -> tuple[int, dict[str, str]]:
    """Upsert the contacts with an email; return (created, email -> uuid)."""
    p = batch.params
    company_uuids = [
        None if index < 0 else targets[index].uuid  # type: ignore[union-attr]
        for index in p["email_company_items"]
    ]
    created = 0
    uuids: dict[str, str] = {}
    for email, contact_uuid, inserted in await tx.fetch_tuples(
        q.UPSERT_EMAIL_CONTACTS, [*p["email_rows"], q.literal(company_uuids, text=True)]
    ):
        uuids[email] = contact_uuid
        created += inserted
    missing = [email for email in p["emails"] if uuids.get(email) is None]
    if missing:  # written by a concurrent import after the statement's snapshot
        for email, contact_uuid in await tx.fetch_tuples(
            q.FIND_EMAIL_CONTACTS, (q.literal(missing, text=True),)
        ):
            uuids[email] = contact_uuid
    if p["email_meta_emails"]:
        keys = [uuids[email] for email in p["email_meta_emails"]]
        await tx.execute(q.UPSERT_CONTACT_META, [q.literal(keys, text=True), *p["email_meta"]])
    return created, uuids


class _Named:
    """The batch's contacts without email, merged by names and resolved company, as the
    source arrays of UPSERT_NAMED_CONTACTS."""

    __slots__ = ("keys", "merged", "arrays")

    def __init__(self, batch: Batch, targets: list[_Company | None]):
        # (lower first name, lower last name, company uuid) -> [contact, metadata, owned]
        merged: dict[tuple, list] = {}
        for index in batch.params["named"]:
            _, row, _ = batch.items[index]
            contact = row.contact
            company = targets[index]
            key = (
                contact.get("first_name", "").lower(),
                contact.get("last_name", "").lower(),
                None if company is None else company.uuid,
            )
            entry = merged.get(key)
            if entry is None:
                merged[key] = [contact, row.contact_metadata, False]
                continue
            if not entry[2]:
                entry[0], entry[1], entry[2] = dict(entry[0]), dict(entry[1]), True
            entry[0].update(contact)
            entry[1].update(row.contact_metadata)
        self.merged = merged
        self.keys = keys = list(merged)
        records = [
            {
                **merged[key][0],
                "k": index,
                "id": str(uuid.uuid4()),
                "lfn": key[0],
                "lln": key[1],
                "company_uuid": key[2],
            }
            for index, key in enumerate(keys)
        ]
        self.arrays = q.arrays(records, _NAMED_CONTACT_SOURCE)


async def _lock_named_contacts(tx: Any, named: _Named) -> None:
    """Lock the keys of the contacts without email (names and company) a batch writes,
    in sorted order: a concurrent import, or a later batch of this one
    (pipeline.py), writing one waits for this transaction's end. Taken with the
    companies, before the contacts, so that the later batch never holds one this
    batch still needs."""
    locks = sorted(
        f"{first}{q.SEP}{last}{q.SEP}{company or ''}" for first, last, company in named.keys
    )
    await tx.fetch_val(q.LOCK_KEYS, (_LOCK_CONTACT, q.literal(locks, text=True)))


async def _write_named_contacts(tx: Any, named: _Named) -> int:
    """Upsert the contacts without email (``named``, their keys locked); return how
    many were created."""
    keys, merged = named.keys, named.merged
    created = 0
    contact_uuids: list[str] = [""] * len(keys)
    for index, contact_uuid, inserted in await tx.fetch_tuples(
        q.UPSERT_NAMED_CONTACTS, named.arrays
    ):
        contact_uuids[index] = contact_uuid
        created += inserted
    meta = sorted(
        (contact_uuids[index], merged[key][1]) for index, key in enumerate(keys) if merged[key][1]
    )
    if meta:
        await tx.execute(
            q.UPSERT_CONTACT_META,
            [
                q.literal([owner for owner, _ in meta], text=True),
                *q.arrays([values for _, values in meta], q.CONTACT_META_COLUMNS),
            ],
        )
    return created


_EMAIL_TITLE = 1 + [name for name, _ in q.CONTACT_COLUMNS].index("title")  # in email_rows
_EMAIL_COUNTRY = 1 + [name for name, _ in q.CONTACT_COLUMNS].index("country")
_NAMED_TITLE = [name for name, _ in _NAMED_CONTACT_SOURCE].index("title")  # in _Named.arrays
_NAMED_COUNTRY = [name for name, _ in _NAMED_CONTACT_SOURCE].index("country")


def _joined(literals: list[str]) -> str:
    """One array literal of the items of several."""
    return "{" + ",".join(item[1:-1] for item in literals if item != "{}") + "}"


def _field_values(params: dict[str, Any], named: _Named | None) -> tuple[str, str]:
    """The titles and countries the contacts statements write (the merged values; NULLs
    and repeats are dropped by INSERT_FIELD_VALUES), as two array literals."""
    titles, countries = [], []
    if params["emails"]:
        titles.append(params["email_rows"][_EMAIL_TITLE])
        countries.append(params["email_rows"][_EMAIL_COUNTRY])
    if named is not None:
        titles.append(named.arrays[_NAMED_TITLE])
        countries.append(named.arrays[_NAMED_COUNTRY])
    return _joined(titles), _joined(countries)


# Called once a batch's companies and new dictionary values are written (and the stored
# companies its contacts name locked FOR SHARE), with what it wrote of companies.
OnCompanies = Callable[[CompanyWrites], None]


async def write_batch(tx: Any, batch: Batch, on_companies: OnCompanies | None = None) -> Written:
    """Write the prepared batch's companies and contacts in transaction ``tx``; return
    the created/updated counts (every valid row is one or the other)."""
    targets, written = await _write_companies(tx, batch, share=on_companies is not None)
    created = 0
    p = batch.params
    named = _Named(batch, targets) if p["named"] else None
    if named:
        await _lock_named_contacts(tx, named)
    contacts = bool(p["emails"] or named)
    if contacts:
        # The contacts statements fill the triggers' columns themselves: skip the
        # triggers (upsert_sql.FILL_DONE_ON) once the new dictionary values are in.
        await tx.execute(
            f"{q.JIT_OFF}; {q.FILL_DONE_ON}; {q.INSERT_FIELD_VALUES}", _field_values(p, named)
        )
    if on_companies is not None:
        on_companies(written)
    if contacts:
        if p["emails"]:
            created += (await _write_email_contacts(tx, batch, targets))[0]
        if named:
            created += await _write_named_contacts(tx, named)
        await tx.execute(q.FILL_DONE_OFF, None)
    if p["company_only"]:
        created += _company_only_created(batch.params["company_only"], targets)
    return Written(created=created, updated=batch.valid_rows - created)


def _company_only_created(rows: list[int], targets: list[_Company | None]) -> int:
    """How many company-only rows (indexes ``rows``) created their company: the
    batch's first row resolved to a company this batch created. The others count
    as updated, as a row importing an existing contact does."""
    first_row: dict[int, int] = {}
    for index, company in enumerate(targets):
        if company is not None:
            first_row.setdefault(id(company), index)
    return sum(
        1
        for index in rows
        if targets[index].new and first_row[id(targets[index])] == index  # type: ignore[union-attr]
    )


def refused_by_database(error: BaseException) -> bool:
    """Whether the database refused the statement for its data (a constraint, a
    trigger, a value it cannot store...): not a broken connection nor a lost deadlock,
    which are worth writing the same rows again."""
    return (
        isinstance(error, psycopg2.Error)
        and not isinstance(error, (*CONFLICTS, psycopg2.InterfaceError))
        and not is_transient(error)
    )


def database_message(error: psycopg2.Error) -> str:
    """The database's own message for an error (its primary line)."""
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if primary:
        return primary
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


_SAVEPOINT = "import_rows"


async def _attempt(
    tx: Any, batch: Batch, on_companies: OnCompanies | None = None
) -> Written | psycopg2.Error:
    """Write the batch under a savepoint: its counts, or the database's refusal (the
    savepoint rolled back, the transaction usable again)."""
    await tx.execute(f"SAVEPOINT {_SAVEPOINT}")
    try:
        written = await write_batch(tx, batch, on_companies)
    except psycopg2.Error as error:
        if not refused_by_database(error):
            raise
        await tx.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        await tx.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        return error
    await tx.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
    return written


async def write_rows(tx: Any, batch: Batch, on_companies: OnCompanies | None = None) -> Written:
    """Write the batch; when the database refuses it, write its halves (recursively),
    so that only the rows it refuses on their own are left out, as ``refused`` row
    errors with the database's message. The halves are written in file order, each
    as if alone, so the result is still that of a row-by-row import.

    ``on_companies`` is called (its first call counts) once the first attempt of the
    whole batch wrote its companies. When that attempt failed after all (``rewritten``
    in the answer), what was written may differ from what it was told; when no
    attempt got that far, it is called with every company key of the batch at the
    end."""
    if not batch.items:
        return Written()
    result = await _attempt(tx, batch, on_companies)
    if isinstance(result, Written):
        return result
    if isinstance(result, psycopg2.errors.UniqueViolation):
        # Most likely a company a concurrent import inserted after this batch looked
        # for it. PostgreSQL reports the violation only once that import's transaction
        # has ended, so the same rows written again find its row and update it.
        result = await _attempt(tx, batch)
    written = result if isinstance(result, Written) else await _write_halves(tx, batch, result)
    written.rewritten = True
    if on_companies is not None:  # no-op if the first attempt got that far
        p = batch.params
        on_companies(CompanyWrites(set(p["domain_keys"]), set(p["name_keys"])))
    return written


async def _write_halves(tx: Any, batch: Batch, result: psycopg2.Error) -> Written:
    """The rows of a batch the database refused: each alone, or its halves."""
    if len(batch.items) == 1:
        row_number, _, cells = batch.items[0]
        message = f"the database refused the row: {database_message(result)}"
        return Written(refused=[(row_number, message, batch.row_object(cells))])
    middle = len(batch.items) // 2
    written = Written()
    for half in (batch.items[:middle], batch.items[middle:]):
        written.add(await write_rows(tx, batch.subset(half)))
    return written


async def write_errors(tx: Any, job_id: str, errors: list[ErrorRow]) -> None:
    """Record the batch's bad rows (a replayed batch records nothing twice)."""
    if errors:
        numbers, messages, rows = zip(*errors, strict=True)
        await tx.execute(
            q.INSERT_ERRORS,
            (
                job_id,
                q.literal(list(numbers)),
                q.literal(list(messages), text=True),
                q.literal(list(rows), text=True),
            ),
        )
