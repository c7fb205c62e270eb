"""The apollo plugin's public API, for plugins that build on it (exports):

    filters = contact_filters_for_url(plugins, url)  # {"person_titles": [...], ...}
    filters = filters_for_url(plugins, url, "companies")  # the organization filters

raise ``ValidationError`` (422) for a URL that is not an Apollo search.
"""

from contacts_api.plugins.apollo.search import contact_filters_for_url, filters_for_url

__all__ = ["contact_filters_for_url", "filters_for_url"]
