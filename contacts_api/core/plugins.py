"""The plugin manager facade: the only code that calls ``pm.hook.*``.

Built-in plugins are listed in ``BUILTIN_PLUGINS`` and registered exactly like
installed ones (entry-point group ``contacts_api``). A fresh manager is built
per ``create_app()`` / worker / CLI run; nothing is module-global.
"""

import importlib
import inspect
import itertools
from collections.abc import Iterable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pluggy

from contacts_api.core import hookspecs
from contacts_api.core.settings import Settings

__all__ = ["BUILTIN_PLUGINS", "ENTRY_POINT_GROUP", "PluginError", "Plugins", "await_me_maybe"]

ENTRY_POINT_GROUP = "contacts_api"

# name -> module: the features that ship with contacts-api.
BUILTIN_PLUGINS: dict[str, str] = {
    "contacts": "contacts_api.plugins.contacts",
    "imports": "contacts_api.plugins.imports",
    "auth_write_key": "contacts_api.plugins.auth_write_key",
    "auth_jwt": "contacts_api.plugins.auth_jwt",
    "exports": "contacts_api.plugins.exports",
    "apollo": "contacts_api.plugins.apollo",
    "explorer": "contacts_api.plugins.explorer",
}


class PluginError(Exception):
    """A plugin could not be loaded or breaks the contract (fails startup)."""


async def await_me_maybe(value: Any) -> Any:
    """Hooks may return a value, an awaitable, or a callable returning either."""
    if callable(value) and not inspect.isclass(value):
        value = value()
    if inspect.isawaitable(value):
        value = await value
    return value


def _flatten(results: Iterable[Any]) -> list[Any]:
    return list(itertools.chain.from_iterable(r for r in results if r))


class Plugins:
    """Typed access to the hooks, always called with keyword arguments."""

    def __init__(self, pm: pluggy.PluginManager, settings: Settings):
        self.pm = pm
        self.settings = settings

    @classmethod
    def load(
        cls,
        settings: Settings,
        *,
        extra: Iterable[tuple[str, object]] = (),
        builtins: dict[str, str] | None = None,
    ) -> "Plugins":
        """Register built-in, installed (entry point) and ``extra`` plugins.

        ``settings.plugins.blocked`` names are never loaded; when
        ``settings.plugins.enabled`` is non-empty, only those names are.
        Unknown hook names in any plugin fail here (``check_pending``).
        """
        pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        pm.add_hookspecs(hookspecs)
        enabled = set(settings.plugins.enabled)
        for name in settings.plugins.blocked:
            pm.set_blocked(name)

        def wanted(name: str) -> bool:
            return not pm.is_blocked(name) and (not enabled or name in enabled)

        candidates: list[tuple[str, Any]] = []
        for name, module in (BUILTIN_PLUGINS if builtins is None else builtins).items():
            candidates.append((name, lambda m=module: importlib.import_module(m)))
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            candidates.append((ep.name, ep.load))
        candidates += [(name, lambda p=plugin: p) for name, plugin in extra]

        for name, loader in candidates:
            if not wanted(name) or pm.has_plugin(name):
                continue
            try:
                plugin = loader()
            except Exception as exc:
                raise PluginError(f"plugin {name!r} failed to load: {exc}") from exc
            # A plugin may declare hookspecs of its own (e.g. apollo's mappings).
            if hasattr(plugin, "hookspecs"):
                pm.add_hookspecs(plugin.hookspecs)
            pm.register(plugin, name=name)
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"a plugin breaks the contract: {exc}") from exc
        return cls(pm, settings)

    # -- introspection ---------------------------------------------------------

    def _loaded(self) -> list[tuple[str, Any]]:
        # Blocked names stay in pluggy's table with a None plugin.
        return sorted((n, p) for n, p in self.pm.list_name_plugin() if p is not None)

    def names(self) -> list[str]:
        return [name for name, _ in self._loaded()]

    def describe(self) -> list[dict[str, Any]]:
        """What ``GET /-/plugins`` and ``contacts-api plugins`` show."""
        described = []
        for name, plugin in self._loaded():
            hooks = sorted(impl.name for impl in self.pm.get_hookcallers(plugin) or [])
            described.append(
                {
                    "name": name,
                    "module": getattr(plugin, "__name__", type(plugin).__name__),
                    "builtin": name in BUILTIN_PLUGINS,
                    "hooks": hooks,
                    "version": _dist_version(plugin),
                }
            )
        return described

    # -- hooks ----------------------------------------------------------------

    def routes(self) -> list[Any]:
        return _flatten(self.pm.hook.register_routes(settings=self.settings))

    def openapi_fragments(self, filters: Any) -> list[dict[str, Any]]:
        return [
            f for f in self.pm.hook.register_openapi(settings=self.settings, filters=filters) if f
        ]

    def migration_folders(self) -> list[Path]:
        return [Path(p) for p in _flatten(self.pm.hook.register_migrations())]

    def tables(self) -> list[Any]:
        return _flatten(self.pm.hook.register_tables())

    def tasks(self) -> list[Any]:
        specs = _flatten(self.pm.hook.register_tasks())
        _refuse_duplicates("task", [spec.name for spec in specs])
        return specs

    def resources(self) -> list[Any]:
        return _flatten(self.pm.hook.register_resources(settings=self.settings))

    def contact_filters(self) -> list[Any]:
        return _flatten(self.pm.hook.register_contact_filters(settings=self.settings))

    def company_filters(self) -> list[Any]:
        return _flatten(self.pm.hook.register_company_filters(settings=self.settings))

    def commands(self) -> list[Any]:
        return _flatten(self.pm.hook.register_commands())

    def settings_problems(self) -> list[str]:
        return _flatten(self.pm.hook.check_settings(settings=self.settings))

    async def actor_from_request(self, request: Any, resources: Any) -> Any:
        for result in self.pm.hook.actor_from_request(request=request, resources=resources):
            actor = await await_me_maybe(result)
            if actor is not None:
                return actor
        return None

    async def startup(self, app: Any, resources: Any) -> None:
        for result in self.pm.hook.startup(app=app, resources=resources):
            await await_me_maybe(result)

    def hook(self, name: str) -> Any:
        """A plugin-declared hook (e.g. ``register_apollo_mappings``), for plugins
        that add hookspecs of their own."""
        return getattr(self.pm.hook, name)


def _refuse_duplicates(kind: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise PluginError(f"two plugins register a {kind} named {name!r}")
        seen.add(name)


def _dist_version(plugin: Any) -> str | None:
    from importlib.metadata import PackageNotFoundError, packages_distributions, version

    top = getattr(plugin, "__name__", "").split(".")[0]
    for dist in packages_distributions().get(top, []):
        try:
            return version(dist)
        except PackageNotFoundError:
            continue
    return None
