"""The built-in contact filters (docs/api.md "Contact filters"), registered through
``register_contact_filters`` exactly like a third-party plugin's.

``tables`` is a ``ContactTables``. Conditions on the company use
``tables.companies`` and declare ``needs={"company"}``: the repository then
LEFT JOINs companies, so contacts without a company are present for the
exclusions. Filters on the company name use the contact's trigger-maintained
copy ``company_name`` and need no join, and so do the employees, revenue and
funding bounds (copies too). ``title``, ``title_words``, ``country`` and
``exclude_title_contains`` go through the dictionary of distinct values
(``dictionaries``). Extra filters beyond docs/api.md: ``title_words``
(Apollo's similar titles) and ``uuid`` (chosen contacts, for exports); and
``technologies`` folds ``_``, ``.`` and spaces (``shopify_plus`` matches
"Shopify Plus").
"""

import sqlalchemy as sa

from contacts_api.core.filters import FilterSpec
from contacts_api.plugins.contacts.company_sets import company_set_filter
from contacts_api.plugins.contacts.dictionaries import (
    dictionary_exclusion_filter,
    dictionary_filter,
    whole,
    words,
)
from contacts_api.plugins.contacts.filterkit import (
    COMPANY,
    bound_filters,
    company_location,
    company_text_filter,
    contact_location,
    list_contains,
    list_excludes,
    range_condition,
    search_words,
    text_condition,
    text_filter,
    time_filters,
)
from contacts_api.plugins.contacts.normalize import normalize_domain
from contacts_api.plugins.contacts.places import none_of_places, place_condition
from contacts_api.plugins.contacts.sqltext import (
    company_search_key,
    contact_search_key,
    contains_any,
    contains_every_word,
    list_key,
    none_of,
)
from contacts_api.plugins.contacts.tables import EMAIL_STATUSES, SENIORITIES, contact_metadata


def _domains(values):
    return [normalize_domain(v) or v.strip().lower() for v in values]


def _title_words(values, t):
    return contains_every_word(t.contacts.c.title, [words(v) for v in values])


def _has_phone(values, t):
    """A mobile phone on the contact, or a phone in its metadata. Written so that both
    answers are index scans (contacts_0005_filter_indexes.sql): the partial indexes
    on contacts with and without a mobile, OR (true) / AND NOT (false) the uuids of
    the metadata rows with a phone, as an array the primary key looks up."""
    m = contact_metadata.c
    with_phone = (
        sa.select(m.contact_uuid)
        .where(
            sa.or_(
                *(
                    sa.func.coalesce(p, "") != ""
                    for p in (m.work_direct_phone, m.home_phone, m.other_phone)
                )
            )
        )
        .scalar_subquery()
    )
    in_metadata = t.contacts.c.uuid == sa.func.any(sa.func.array(with_phone))
    mobile = sa.func.coalesce(t.contacts.c.mobile_phone, "")
    if values[0]:
        return sa.or_(mobile != "", in_metadata)
    return sa.and_(mobile == "", sa.not_(in_metadata))


def _company_name(values, t):
    return contains_any(t.contacts.c.company_name, values)


def _location(cols_of, key_of):
    return lambda values, t: sa.or_(*(place_condition(cols_of(t), key_of(), v) for v in values))


def contact_filters() -> list[FilterSpec]:
    c = lambda t: t.contacts.c  # noqa: E731
    specs = [
        FilterSpec(
            "search",
            "text",
            lambda v, t: search_words(contact_search_key(), v),
            "Each word is found in the first or last name, email, title, city, state, "
            "country or company name.",
        ),
        text_filter("first_name", "First name contains."),
        text_filter("last_name", "Last name contains."),
        text_filter("email", "Email contains."),
        dictionary_filter("title", "title", whole, "Title contains.", text_condition("title")),
        dictionary_filter(
            "title_words",
            "title",
            words,
            "Title contains every word of the value, in any order (similar titles).",
            _title_words,
        ),
        text_filter("mobile_phone", "Mobile phone contains."),
        # COLLATE "C": the ordering's btree (contacts_seniority_order_idx) serves it
        FilterSpec(
            "seniority",
            "choice",
            lambda v, t: c(t).seniority.collate("C").in_(v),
            "Seniority equals one of.",
            choices=SENIORITIES,
        ),
        FilterSpec(
            "email_status",
            "choice",
            lambda v, t: c(t).email_status.in_(v),
            "Email status equals one of.",
            choices=EMAIL_STATUSES,
        ),
        FilterSpec(
            "department",
            "text",
            lambda v, t: contains_any(list_key(c(t).departments), v),
            "An element of the departments contains it.",
            aliases=("departments",),
        ),
        FilterSpec(
            "company",
            "text",
            _company_name,
            "Company name contains.",
            aliases=("include_company_name",),
        ),
        FilterSpec(
            "exclude_company_name",
            "text",
            lambda v, t: none_of(c(t).company_name, contains_any(c(t).company_name, v)),
            "Company name contains none of them (contacts without a company pass).",
        ),
        FilterSpec(
            "uuid",
            "uuid",
            lambda v, t: c(t).uuid.in_(v),
            "Contact uuid equals one of (e.g. an export of chosen contacts).",
        ),
        FilterSpec(
            "company_uuid",
            "uuid",
            lambda v, t: c(t).company_uuid.in_(v),
            "Company uuid equals one of.",
        ),
        FilterSpec(
            "exclude_company_ids",
            "uuid",
            lambda v, t: none_of(c(t).company_uuid, c(t).company_uuid.in_(v)),
            "Company uuid equals none (contacts without a company pass).",
        ),
        FilterSpec(
            "include_domain_list",
            "text",
            lambda v, t: t.companies.c.domain.in_(_domains(v)),
            "Company domain equals one of (normalized).",
            needs=COMPANY,
        ),
        FilterSpec(
            "exclude_domain_list",
            "text",
            lambda v, t: none_of(t.companies.c.domain, t.companies.c.domain.in_(_domains(v))),
            "Company domain equals none (no company or domain passes).",
            needs=COMPANY,
        ),
        FilterSpec(
            "contact_location",
            "text",
            _location(contact_location, contact_search_key),
            "Contact city, state or country contains.",
        ),
        FilterSpec(
            "company_location",
            "text",
            _location(company_location, company_search_key),
            "Company address, city, state or country contains.",
            needs=COMPANY,
        ),
        text_filter("city", "Contact city contains."),
        text_filter("state", "Contact state contains."),
        dictionary_filter(
            "country", "country", whole, "Contact country contains.", text_condition("country")
        ),
        company_text_filter("company_city", "city", "Company city contains."),
        company_text_filter("company_state", "state", "Company state contains."),
        company_text_filter("company_country", "country", "Company country contains."),
        company_set_filter(
            "industries",
            "An element of the company's industries contains it.",
            list_contains("industries"),
            aliases=("industry",),
        ),
        company_set_filter(
            "keywords",
            "An element of the company's keywords contains it.",
            list_contains("keywords"),
        ),
        company_set_filter(
            "technologies",
            "An element of the company's technologies contains it (`_`, `.` and "
            "spaces folded: shopify_plus matches Shopify Plus).",
            list_contains("technologies", fold=True),
        ),
        FilterSpec(
            "keywords_and",
            "text",
            lambda v, t: sa.and_(*(list_contains("keywords")([x], t) for x in v)),
            "For every value, an element of the company's keywords contains it.",
            needs=COMPANY,
        ),
        *bound_filters("employees", lambda t: t.contacts.c.company_employees, "Company employees"),
        FilterSpec(
            "employees_range",
            "range",
            lambda v, t: sa.or_(*(range_condition(c(t).company_employees, r) for r in v)),
            "MIN,MAX inclusive on the company's employees (either side may be empty); "
            "repeats are ORed.",
        ),
        *bound_filters(
            "annual_revenue",
            lambda t: t.contacts.c.company_annual_revenue,
            "Company annual revenue",
        ),
        *bound_filters(
            "total_funding", lambda t: t.contacts.c.company_total_funding, "Company total funding"
        ),
        FilterSpec(
            "exclude_titles",
            "text",
            lambda v, t: none_of(
                c(t).title, sa.func.lower(c(t).title).in_([sa.func.lower(x) for x in v])
            ),
            "Title equals none of them (case-insensitive, whole title).",
        ),
        dictionary_exclusion_filter(
            "exclude_title_contains",
            "title",
            "Title contains none of them (case-insensitive phrase; Apollo's "
            "personNotTitles[]: intern drops Marketing Intern); contacts without a title pass.",
            text_condition("title"),
        ),
        FilterSpec(
            "exclude_seniorities",
            "choice",
            lambda v, t: none_of(c(t).seniority, c(t).seniority.in_(v)),
            "Seniority is none of them.",
            choices=SENIORITIES,
        ),
        FilterSpec(
            "exclude_departments",
            "text",
            lambda v, t: sa.not_(contains_any(list_key(c(t).departments), v)),
            "No department contains any of them.",
        ),
        FilterSpec(
            "exclude_contact_locations",
            "text",
            lambda v, t: none_of_places(contact_location(t), contact_search_key(), v),
            "Contact city, state and country contain none of them.",
        ),
        FilterSpec(
            "exclude_company_locations",
            "text",
            lambda v, t: none_of_places(company_location(t), company_search_key(), v),
            "Company address, city, state and country contain none of them.",
            needs=COMPANY,
        ),
        FilterSpec(
            "exclude_industries",
            "text",
            list_excludes("industries"),
            "No company industry contains any of them.",
            needs=COMPANY,
        ),
        FilterSpec(
            "exclude_keywords",
            "text",
            list_excludes("keywords"),
            "No company keyword contains any of them.",
            needs=COMPANY,
        ),
        FilterSpec(
            "exclude_technologies",
            "text",
            list_excludes("technologies", fold=True),
            "No company technology contains any of them.",
            needs=COMPANY,
        ),
        FilterSpec(
            "has_email",
            "boolean",
            lambda v, t: c(t).email.isnot(None) if v[0] else c(t).email.is_(None),
            "The contact has (true) or has no (false) email.",
            multiple=False,
        ),
        FilterSpec(
            "has_phone",
            "boolean",
            _has_phone,
            "Has a mobile, work direct, home or other phone.",
            multiple=False,
        ),
        *time_filters("contacts"),
    ]
    return specs
