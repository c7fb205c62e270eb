"""JSON schemas of the contacts plugin's resources, for the OpenAPI fragment."""

from typing import Any

from contacts_api.plugins.contacts.repository import COMPANY_META_FIELDS, CONTACT_META_FIELDS
from contacts_api.plugins.contacts.tables import MAX_LONG_TEXT, MAX_TEXT

S = {"type": ["string", "null"]}
SHORT = {**S, "maxLength": MAX_TEXT}  # a contact's or company's own text fields
LONG = {**S, "maxLength": MAX_LONG_TEXT}  # metadata
INT = {"type": ["integer", "null"]}
LIST = {"type": "array", "items": {"type": "string"}}
TIME = {"type": "string", "format": "date-time"}


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, **extra}


CONTACT_META = _obj({f: LONG for f in CONTACT_META_FIELDS}, additionalProperties=False)
COMPANY_META = _obj(
    {f: (INT if f == "latest_funding_amount" else LONG) for f in COMPANY_META_FIELDS},
    additionalProperties=False,
)
COMPANY_PROPS = {
    "uuid": {"type": "string", "format": "uuid"},
    "name": SHORT,
    "domain": SHORT,
    "employees_count": INT,
    "industries": LIST,
    "keywords": LIST,
    "technologies": LIST,
    "annual_revenue": INT,
    "total_funding": INT,
    "address": SHORT,
    "city": SHORT,
    "state": SHORT,
    "country": SHORT,
}
CONTACT_PROPS = {
    "uuid": {"type": "string", "format": "uuid"},
    "first_name": SHORT,
    "last_name": SHORT,
    "email": SHORT,
    "title": SHORT,
    "seniority": S,
    "departments": LIST,
    "email_status": S,
    "mobile_phone": SHORT,
    "city": SHORT,
    "state": SHORT,
    "country": SHORT,
    "linkedin_url": SHORT,
}
WRITE_COMPANY = _obj(
    {
        **{k: v for k, v in COMPANY_PROPS.items() if k != "uuid"},
        "website": LONG,
        "metadata": {"oneOf": [COMPANY_META, {"type": "null"}]},
    },
    additionalProperties=False,
)


def _page(item: str) -> dict[str, Any]:
    return _obj(
        {
            "next": S,
            "previous": S,
            "results": {"type": "array", "items": ref(item)},
            "count": {"type": "integer"},
        },
        required=["next", "previous", "results"],
    )


SCHEMAS: dict[str, Any] = {
    "Company": _obj(
        {
            **COMPANY_PROPS,
            "metadata": {"oneOf": [COMPANY_META, {"type": "null"}]},
            "created_at": TIME,
            "updated_at": TIME,
        }
    ),
    "Contact": _obj(
        {
            **CONTACT_PROPS,
            "company": {"oneOf": [ref("Company"), {"type": "null"}]},
            "metadata": {"oneOf": [CONTACT_META, {"type": "null"}]},
            "created_at": TIME,
            "updated_at": TIME,
        }
    ),
    "ContactSimple": _obj(
        {
            f: S
            for f in (
                "uuid",
                "first_name",
                "last_name",
                "title",
                "company_name",
                "company_domain",
                "linkedin_url",
                "city",
                "state",
                "country",
            )
        }
    ),
    "ContactPage": _obj(
        {
            "next": S,
            "previous": S,
            "count": {"type": "integer"},
            "results": {
                "type": "array",
                "items": {"anyOf": [ref("Contact"), ref("ContactSimple")]},
            },
        },
        required=["next", "previous", "results"],
    ),
    "CompanyPage": _page("Company"),
    "CompanyWrite": WRITE_COMPANY,
    "ContactWrite": _obj(
        {
            **{k: v for k, v in CONTACT_PROPS.items() if k != "uuid"},
            "company": {
                "oneOf": [
                    _obj({"uuid": {"type": "string", "format": "uuid"}}, required=["uuid"]),
                    WRITE_COMPANY,
                    {"type": "null"},
                ]
            },
            "metadata": {"oneOf": [CONTACT_META, {"type": "null"}]},
        },
        additionalProperties=False,
    ),
    "Count": _obj({"count": {"type": "integer"}}, required=["count"]),
    "CountUuids": _obj(
        {
            "count": {"type": "integer"},
            "uuids": {"type": "array", "items": {"type": "string", "format": "uuid"}},
        },
        required=["count", "uuids"],
    ),
    "AttributeValues": _obj(
        {
            "next": S,
            "previous": S,
            "results": {
                "type": "array",
                "items": _obj({"value": {"type": "string"}, "count": {"type": "integer"}}),
            },
        },
        required=["next", "previous", "results"],
    ),
}
