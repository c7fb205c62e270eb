"""Request bodies of the contact and company writes, checked field by field
(422 with ``loc ["body", field]``; unknown fields are refused)."""

from typing import Any

from contacts_api.core.errors import FieldError, ValidationError, field_error
from contacts_api.plugins.contacts.normalize import composed, normalize_domain, normalize_email
from contacts_api.plugins.contacts.repository import COMPANY_META_FIELDS, CONTACT_META_FIELDS
from contacts_api.plugins.contacts.tables import (
    EMAIL_STATUSES,
    MAX_LONG_TEXT,
    MAX_TEXT,
    SENIORITIES,
)

READ_ONLY = ("uuid", "created_at", "updated_at")  # accepted and ignored (a GET body round-trips)
CONTACT_TEXT = (
    "first_name",
    "last_name",
    "title",
    "mobile_phone",
    "city",
    "state",
    "country",
    "linkedin_url",
)
COMPANY_TEXT = ("name", "address", "city", "state", "country")
COMPANY_INTS = ("employees_count", "annual_revenue", "total_funding")
LISTS = ("industries", "keywords", "technologies")
BIGINT = 2**63


class _Checker:
    def __init__(self, loc: tuple):
        self.loc, self.errors = loc, []

    def fail(self, field: str, msg: str) -> None:
        self.errors.append(field_error((*self.loc, field), msg))

    def text(self, body: dict, field: str, limit: int = MAX_TEXT) -> str | None:
        value = body[field]
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(field, "must be a string or null")
            return None
        value = composed(value.strip())
        if len(value) > limit:
            self.fail(field, f"must be at most {limit} characters")
            return None
        return value or None

    def integer(self, body: dict, field: str, minimum: int = -BIGINT) -> int | None:
        value = body[field]
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value < BIGINT:
            self.fail(
                field,
                f"must be an integer >= {minimum}" if minimum > -BIGINT else "must be an integer",
            )
            return None
        return value

    def strings(self, body: dict, field: str, lower: bool = False) -> list[str]:
        value = body[field]
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(field, "must be a list of strings")
            return []
        items = [composed(v.strip().lower() if lower else v.strip()) for v in value]
        return list(dict.fromkeys(i for i in items if i))

    def choice(self, body: dict, field: str, choices: tuple[str, ...]) -> str | None:
        value = self.text(body, field)
        if value is not None and value.lower() not in choices:
            self.fail(field, f"must be one of {', '.join(choices)} or null")
            return None
        return value.lower() if value else None

    def unknown(self, body: dict, known: tuple[str, ...]) -> None:
        for field in body:
            if field not in known and field not in READ_ONLY:
                self.errors.append(field_error((*self.loc, field), "unknown field", "extra"))

    def metadata(
        self, body: dict, fields: tuple[str, ...], ints: tuple[str, ...] = ()
    ) -> dict[str, Any] | None:
        value = body["metadata"]
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail("metadata", "must be an object or null")
            return None
        sub = _Checker((*self.loc, "metadata"))
        sub.unknown(value, fields)
        out = {
            f: (sub.integer(value, f) if f in ints else sub.text(value, f, MAX_LONG_TEXT))
            for f in fields
            if f in value
        }
        self.errors += sub.errors
        return out


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationError(errors)


def contact_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The contact's columns given in ``body`` (absent fields left out), plus
    ``metadata`` and ``company`` (a company reference or body) when present."""
    check = _Checker(("body",))
    known = (
        *CONTACT_TEXT,
        "email",
        "seniority",
        "email_status",
        "departments",
        "company",
        "metadata",
    )
    check.unknown(body, known)
    out: dict[str, Any] = {f: check.text(body, f) for f in CONTACT_TEXT if f in body}
    if "email" in body:
        email = check.text(body, "email")
        out["email"] = normalize_email(email) if email else None
        if email and out["email"] is None:
            check.fail("email", "not an email address")
    if "seniority" in body:
        out["seniority"] = check.choice(body, "seniority", SENIORITIES)
    if "email_status" in body:
        out["email_status"] = check.choice(body, "email_status", EMAIL_STATUSES)
    if "departments" in body:
        out["departments"] = check.strings(body, "departments", lower=True)
    if "metadata" in body:
        out["metadata"] = check.metadata(body, CONTACT_META_FIELDS)
    if "company" in body:
        company = body["company"]
        if company is None:
            out["company"] = None
        elif not isinstance(company, dict):
            check.fail("company", "must be an object or null")
        elif "uuid" in company:  # a link; other fields of a linked company are ignored
            out["company"] = {"uuid": _uuid(check, company["uuid"], ("company", "uuid"))}
        else:
            try:
                out["company"] = company_fields(company, loc=("body", "company"))
            except ValidationError as exc:
                check.errors += exc.errors
    _raise(check.errors)
    return out


def _uuid(check: _Checker, value: Any, where: tuple) -> str | None:
    import uuid

    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        check.errors.append(field_error(("body", *where), "not a UUID"))
        return None


def company_fields(body: dict[str, Any], loc: tuple = ("body",)) -> dict[str, Any]:
    """The company's columns given in ``body``; ``domain`` normalized (from
    ``domain``, else ``website`` or ``metadata.website``)."""
    check = _Checker(loc)
    check.unknown(body, (*COMPANY_TEXT, *COMPANY_INTS, *LISTS, "domain", "website", "metadata"))
    out: dict[str, Any] = {f: check.text(body, f) for f in COMPANY_TEXT if f in body}
    out |= {
        f: check.integer(body, f, 0 if f == "employees_count" else -BIGINT)
        for f in COMPANY_INTS
        if f in body
    }
    out |= {f: check.strings(body, f, lower=(f == "industries")) for f in LISTS if f in body}
    if "metadata" in body:
        out["metadata"] = check.metadata(body, COMPANY_META_FIELDS, ("latest_funding_amount",))
    website = check.text(body, "website", MAX_LONG_TEXT) if "website" in body else None
    if website is None and out.get("metadata"):
        website = out["metadata"].get("website")
    if website:
        out.setdefault("metadata", {})
        out["metadata"] = {**(out["metadata"] or {}), "website": website}
    if "domain" in body:
        domain = check.text(body, "domain")
        out["domain"] = normalize_domain(domain) if domain else None
        if domain and out["domain"] is None:
            check.fail("domain", "not a domain or website")
    elif website:
        out["domain"] = normalize_domain(website)
    _raise(check.errors)
    return out
