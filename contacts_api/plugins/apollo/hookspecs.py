"""Hooks the apollo plugin adds to the contract (its ``register_hookspecs``
returns this module)."""

from contacts_api.core.hookspecs import hookspec


@hookspec
def register_apollo_mappings(settings):
    """Return a dict of Apollo parameter mappers by canonical parameter name
    (``"personTitles"``, no ``[]``), added to or replacing the default ones.

    A mapper is ``mapper(values, context) -> MapResult`` (contract in
    ``plugins.apollo.mappers``). Implement it with ``@hookimpl(optionalhook=True)``
    so your plugin still loads when an operator blocks the apollo plugin.
    Called when a URL is mapped; the analysis cache key includes the plugins
    that answer, so adding one takes effect at once. Mappers of a long URL run
    in a worker thread (``plugins.apollo.search.OFF_LOOP_LENGTH``).

    To add regions or metro areas to the location table, return
    ``location_mappers(default_locations().extended({"Iberia+": ["Iberia", "Andorra"]}))``
    (``plugins.apollo.mappers`` and ``plugins.apollo.locations``).
    """
