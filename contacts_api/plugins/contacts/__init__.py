"""The contacts plugin: people and the companies they work at.

Registers:

- the settings section ``[contacts]`` (``plugins.contacts.settings``);
- the ``contacts``/``companies`` tables and their migrations (``migrations/contacts``:
  schema, trigger-maintained company copies on contacts, trigram/btree indexes);
- routes (docs/api.md "Contacts and companies"): v1 contacts and companies (list, CRUD,
  ``count/``, ``count/uuids/``, attribute values), a company's contacts, v2 reads;
  and their OpenAPI description;
- the built-in contact filters (``plugins.contacts.filters``) and company filters
  (``plugins.contacts.company_filters``), through the same hooks as third-party
  filter plugins.

Other plugins call ``plugins.contacts.service`` (reads) and
``plugins.contacts.writes`` (writes).
"""

from importlib import resources

from contacts_api.core.hookspecs import hookimpl
from contacts_api.core.settings import SettingsSection
from contacts_api.plugins.contacts.settings import ContactsSettings
from contacts_api.plugins.contacts.tables import ALL_TABLES


@hookimpl
def register_settings():
    return [SettingsSection("contacts", ContactsSettings)]


@hookimpl
def register_migrations():
    return [resources.files("contacts_api.migrations") / "contacts"]


@hookimpl
def register_tables():
    return list(ALL_TABLES)


@hookimpl
def register_routes(settings):
    from contacts_api.plugins.contacts import routes_attributes, routes_companies, routes_contacts

    # Fixed paths (count/, attribute names) need no ordering trick: {uuid} only
    # matches a UUID.
    return [
        *routes_contacts.routes,
        *routes_companies.routes,
        *routes_attributes.attribute_routes(),
    ]


@hookimpl
def register_openapi(settings, filters):
    from contacts_api.plugins.contacts.openapi import fragment

    return fragment(filters)


@hookimpl
def register_contact_filters(settings):
    from contacts_api.plugins.contacts.filterkit import memoized
    from contacts_api.plugins.contacts.filters import contact_filters

    return memoized(contact_filters())


@hookimpl
def register_company_filters(settings):
    from contacts_api.plugins.contacts.company_filters import company_filters
    from contacts_api.plugins.contacts.filterkit import memoized

    return memoized(company_filters())
