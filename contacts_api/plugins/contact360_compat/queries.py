"""The app's query parameters translated into ours.

Filter names it spells differently are renamed to the filter of ours that
matches the same thing; its sort keys are mapped to our ordering fields; its
list controls (``include_meta``, ``distinct``, ``use_replica``) are consumed
here. Everything else passes through, so our filter registry still refuses
an unknown parameter with 422, and a sort key without an ordering here is a
clear 501.
"""

from collections.abc import Iterable

from contacts_api.core.errors import ValidationError
from contacts_api.plugins.contact360_compat.unsupported import NotImplementedHere

# app filter name -> our filter name (same meaning, our spelling)
CONTACT_FILTERS = {
    "emailStatus": "email_status",
    "company_name_for_emails": "company",
    "company_address": "company_location",
    "contact_address": "contact_location",
    "tags": "keywords",
    "created_at__gte": "created_at_after",
    "created_at__lte": "created_at_before",
    "updated_at__gte": "updated_at_after",
    "updated_at__lte": "updated_at_before",
}
COMPANY_FILTERS = {
    "created_at__gte": "created_at_after",
    "created_at__lte": "created_at_before",
    "updated_at__gte": "updated_at_after",
    "updated_at__lte": "updated_at_before",
    "text_search": "search",
}
# exact-value filters the app sends as one number: our inclusive min and max
EXACT_AS_RANGE = {
    "employees_count": ("employees_min", "employees_max"),
    "annual_revenue": ("annual_revenue_min", "annual_revenue_max"),
    "total_funding": ("total_funding_min", "total_funding_max"),
}
# the app's list controls: answered by this plugin, never filters
CONTROLS = {"include_meta", "distinct", "use_replica", "separated", "fields"}

# app sort key -> our ordering field; None: no such ordering here
CONTACT_SORT = {
    "first_name": "first_name",
    "name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "title": "title",
    "company": "company",
    "city": "city",
    "state": "state",
    "country": "country",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "seniority": "seniority",
    "employees": "employees",
    "annual_revenue": "annual_revenue",
    "total_funding": "total_funding",
    "email_status": None,
    "status": None,
    "stage": None,
    "industry": None,
    "phone": None,
}
COMPANY_SORT = {
    "name": "name",
    "employees_count": "employees",
    "employees": "employees",
    "annual_revenue": "annual_revenue",
    "total_funding": "total_funding",
    "created_at": "created_at",
    "updated_at": "updated_at",
}


def translate_filters(
    pairs: Iterable[tuple[str, str]], renames: dict[str, str]
) -> list[tuple[str, str]]:
    """The app's filter pairs with our names; controls dropped."""
    out: list[tuple[str, str]] = []
    for name, value in pairs:
        if name in CONTROLS:
            continue
        if name in EXACT_AS_RANGE and value.strip():
            low, high = EXACT_AS_RANGE[name]
            out += [(low, value), (high, value)]
            continue
        out.append((renames.get(name, name), value))
    return out


def translate_ordering(text: str | None, keys: dict[str, str | None]) -> str | None:
    """``-email_status,name`` -> ``-first_name`` style; 501 for keys we cannot sort by."""
    if not text or not text.strip():
        return None
    fields = []
    for item in text.split(","):
        item = item.strip()
        descending, key = item.startswith("-"), item.lstrip("-")
        if key not in keys:
            fields.append(item)  # ours refuses it with 422, naming it
            continue
        field = keys[key]
        if field is None:
            raise NotImplementedHere(
                f"Sorting by {key!r} is not available on this server.", feature=f"ordering={key}"
            )
        fields.append(("-" if descending else "") + field)
    return ",".join(fields)


def contact_query(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """A contacts list / count / uuids query in our dialect."""
    pairs = list(pairs)
    out = [(k, v) for k, v in translate_filters(pairs, CONTACT_FILTERS) if k != "ordering"]
    ordering = translate_ordering(dict(pairs).get("ordering"), CONTACT_SORT)
    return out + ([("ordering", ordering)] if ordering else [])


def company_query(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    pairs = list(pairs)
    out = [(k, v) for k, v in translate_filters(pairs, COMPANY_FILTERS) if k != "ordering"]
    ordering = translate_ordering(dict(pairs).get("ordering"), COMPANY_SORT)
    return out + ([("ordering", ordering)] if ordering else [])


def wants(pairs: Iterable[tuple[str, str]], name: str) -> bool:
    return any(k == name and v.strip().lower() in ("1", "true", "yes") for k, v in pairs)


def requested_fields(pairs: Iterable[tuple[str, str]], known: frozenset[str]) -> list[str]:
    """``fields=company,employees``: the fields to answer (``uuid`` always),
    in the order asked; an unknown name is a 422 naming it."""
    names = [name.strip() for key, value in pairs if key == "fields" for name in value.split(",")]
    names = [name for name in dict.fromkeys(names) if name]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValidationError.single(("query", "fields"), f"unknown field(s): {', '.join(unknown)}")
    return ["uuid", *[n for n in names if n != "uuid"]] if names else []
