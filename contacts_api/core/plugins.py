"""The plugin manager facade: the only code that calls plugins' hooks.

Built-in plugins are listed in ``BUILTIN_PLUGINS`` and registered exactly like
installed ones (entry-point group ``contacts_api``). ``OPT_IN_PLUGINS`` ship
too but load only when the operator names them in ``plugins.opt_in`` (or in a
non-empty ``plugins.enabled``): they serve routes nobody should get by surprise.
A fresh manager is built per ``create_app()`` / worker / CLI run; nothing is
module-global.

Every hook is called implementation by implementation (in pluggy's order), so
a result that breaks the contract, or clashes with another plugin's, fails
startup with a message naming the plugin: ``plugin linkedin: ...``.
"""

import asyncio
import importlib
import inspect
from collections.abc import Iterable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pluggy

from contacts_api.core import hookspecs
from contacts_api.core.filters import DuplicateFilter, FilterRegistry, InvalidFilter
from contacts_api.core.settings import CORE_SECTIONS, Settings, SettingsSection

__all__ = [
    "BUILTIN_PLUGINS",
    "ENTRY_POINT_GROUP",
    "OPT_IN_PLUGINS",
    "PluginError",
    "Plugins",
    "await_me_maybe",
]

ENTRY_POINT_GROUP = "contacts_api"

# name -> module: the features that ship with contacts-api.
BUILTIN_PLUGINS: dict[str, str] = {
    "contacts": "contacts_api.plugins.contacts",
    "imports": "contacts_api.plugins.imports",
    "auth_write_key": "contacts_api.plugins.auth_write_key",
    "auth_jwt": "contacts_api.plugins.auth_jwt",
    "auth_api_keys": "contacts_api.plugins.auth_api_keys",
    "exports": "contacts_api.plugins.exports",
    "apollo": "contacts_api.plugins.apollo",
    "explorer": "contacts_api.plugins.explorer",
}

# name -> module: built-in, but loaded only when named in plugins.opt_in.
OPT_IN_PLUGINS: dict[str, str] = {
    "contact360_compat": "contacts_api.plugins.contact360_compat",
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


def _discard(value: Any) -> None:
    """Drop a hook result that will not be awaited, without a "coroutine was
    never awaited" warning (a callable not called yet needs nothing)."""
    if inspect.iscoroutine(value):
        value.close()
    elif isinstance(value, asyncio.Future):
        value.cancel()


class Plugins:
    """Typed access to the hooks, always called with keyword arguments.

    ``settings`` is the complete configuration: the core's sections and the
    loaded plugins' own (``register_settings``), all typed.
    """

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
        ``settings.plugins.enabled`` is non-empty, only those names are. A
        plugin whose ``requires`` names a plugin that is not loaded, or that
        implements a hook nobody declared, fails here; so do the settings of
        the loaded plugins' sections.
        """
        pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        pm.add_hookspecs(hookspecs)
        enabled = set(settings.plugins.enabled)
        skipped: dict[str, str] = {}  # name -> why it is not loaded

        candidates: list[tuple[str, Any]] = []
        for name, module in (BUILTIN_PLUGINS if builtins is None else builtins).items():
            candidates.append((name, lambda m=module: importlib.import_module(m)))
        unknown = sorted(set(settings.plugins.opt_in) - set(OPT_IN_PLUGINS))
        if unknown:
            choices = ", ".join(sorted(OPT_IN_PLUGINS))
            raise PluginError(f"plugins.opt_in names unknown plugins {unknown} (one of: {choices})")
        opted_in = set(settings.plugins.opt_in) | enabled
        for name, module in OPT_IN_PLUGINS.items():
            if name in opted_in and builtins is None:
                candidates.append((name, lambda m=module: importlib.import_module(m)))
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            candidates.append((ep.name, ep.load))
        candidates += [(name, lambda p=plugin: p) for name, plugin in extra]

        for name, loader in candidates:
            if pm.has_plugin(name) or name in skipped:
                continue
            if name in settings.plugins.blocked:
                skipped[name] = "blocked (plugins.blocked)"
                continue
            if enabled and name not in enabled:
                skipped[name] = "not in plugins.enabled"
                continue
            try:
                plugin = loader()
            except Exception as exc:
                raise PluginError(f"plugin {name}: failed to load: {exc}") from exc
            if pm.is_registered(plugin):
                raise PluginError(f"plugin {name}: already loaded as plugin {pm.get_name(plugin)}")
            try:
                pm.register(plugin, name=name)
            except pluggy.PluginValidationError as exc:  # a hook with a wrong argument
                problem = "; ".join(str(exc).splitlines())
                raise PluginError(f"plugin {name}: breaks the contract: {problem}") from exc

        plugins = cls(pm, settings)
        plugins._check_requires(skipped)
        plugins._add_plugin_hookspecs()
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin) or repr(exc.plugin)
            raise PluginError(f"plugin {name}: breaks the contract: {exc}") from exc
        plugins._refuse_wrappers()
        plugins.settings = settings.with_sections(plugins._sections(), ignored=skipped)
        return plugins

    def typed(self, settings: Settings) -> Settings:
        """``settings`` (say, changed by ``prepare_embedded`` after the plugins
        loaded) with the loaded plugins' sections typed from its raw values."""
        declared = {name: type(section) for name, section in self.settings.sections.items()}
        return settings.with_sections(declared, ignored=settings.raw_sections)

    # -- loading ----------------------------------------------------------------

    def _check_requires(self, skipped: dict[str, str]) -> None:
        for name, plugin in self._loaded():
            required = getattr(plugin, "requires", ())
            if isinstance(required, str) or not all(isinstance(r, str) for r in required):
                raise PluginError(f"plugin {name}: requires must be a list of plugin names")
            for needed in required:
                if self.pm.get_plugin(needed) is None:
                    why = skipped.get(needed, "not installed")
                    raise PluginError(
                        f"plugin {name} requires plugin {needed}, which is {why}: "
                        f"block {name} too, or load {needed}"
                    )

    def _add_plugin_hookspecs(self) -> None:
        added: set[int] = {id(hookspecs)}
        for plugin, specs in self._list("register_hookspecs"):
            if id(specs) in added:
                continue
            try:
                self.pm.add_hookspecs(specs)
            except ValueError as exc:  # pluggy: a hook declared twice
                raise PluginError(f"plugin {plugin}: register_hookspecs: {exc}") from None
            added.add(id(specs))

    def _refuse_wrappers(self) -> None:
        # Hooks are called one implementation at a time (to name the plugin
        # that breaks the contract), which pluggy's wrappers cannot join.
        for _, plugin in self._loaded():
            for caller in self.pm.get_hookcallers(plugin) or []:
                for impl in caller.get_hookimpls():
                    if impl.hookwrapper or impl.wrapper:
                        raise PluginError(
                            f"plugin {impl.plugin_name}: {caller.name}: "
                            "hook wrappers are not supported"
                        )

    def _sections(self) -> dict[str, type]:
        declared: dict[str, tuple[str, type]] = {}
        # In registration order (pluggy calls the last registered first), so that a
        # clash names the plugin registered second, as filter and task clashes do.
        for plugin, section in reversed(self._list("register_settings")):
            if not isinstance(section, SettingsSection):
                raise PluginError(
                    f"plugin {plugin}: register_settings must return SettingsSection items, "
                    f"got {type(section).__name__}"
                )
            if section.name in CORE_SECTIONS:
                raise PluginError(
                    f"plugin {plugin}: settings section [{section.name}] belongs to the core"
                )
            if section.name in declared:
                other = declared[section.name][0]
                raise PluginError(
                    f"plugin {plugin}: settings section [{section.name}] is declared twice "
                    f"(also by plugin {other})"
                )
            declared[section.name] = (plugin, section.type)
        return {name: kind for name, (_, kind) in declared.items()}

    # -- calling hooks ------------------------------------------------------------

    def _call(self, hook: str, *, building: bool = False, **kwargs: Any) -> list[tuple[str, Any]]:
        """``(plugin name, result)`` of every implementation, in pluggy's order
        (``tryfirst`` first, then the last registered first). ``building``: a hook
        run while the app is built, whose exception fails startup naming the plugin
        (a ``FilterSpec`` of an unknown kind, say) instead of a bare traceback."""
        caller = getattr(self.pm.hook, hook)
        results: list[tuple[str, Any]] = []
        impl = None
        try:
            for impl in reversed(caller.get_hookimpls()):
                value = impl.function(*(kwargs[arg] for arg in impl.argnames))
                results.append((impl.plugin_name, value))
        except BaseException as exc:
            for _, value in results:  # an earlier async impl's coroutine
                _discard(value)
            if building and impl is not None and isinstance(exc, Exception):
                if isinstance(exc, PluginError):
                    raise
                raise PluginError(
                    f"plugin {impl.plugin_name}: {hook} failed: {type(exc).__name__}: {exc}"
                ) from exc
            raise
        return results

    def _sync(self, hook: str, plugin: str, value: Any) -> Any:
        if inspect.isawaitable(value):
            _discard(value)
            raise PluginError(
                f"plugin {plugin}: {hook} returned an awaitable; it runs while the app "
                "is built, outside the event loop: make it a plain def"
            )
        return value

    def _list(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """The items of a ``register_*`` hook that returns a list, each with
        the name of the plugin that gave it."""
        items: list[tuple[str, Any]] = []
        for plugin, value in self._call(hook, building=True, **kwargs):
            value = self._sync(hook, plugin, value)
            if value is None:
                continue
            if not isinstance(value, list | tuple):
                raise PluginError(
                    f"plugin {plugin}: {hook} must return a list, got {type(value).__name__}"
                )
            items.extend((plugin, item) for item in value)
        return items

    def _loaded(self) -> list[tuple[str, Any]]:
        # Blocked names stay in pluggy's table with a None plugin.
        return sorted((n, p) for n, p in self.pm.list_name_plugin() if p is not None)

    # -- introspection ---------------------------------------------------------

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
                    "builtin": name in BUILTIN_PLUGINS or name in OPT_IN_PLUGINS,
                    "hooks": hooks,
                    "requires": list(getattr(plugin, "requires", ())),
                    "version": _dist_version(plugin),
                }
            )
        return described

    # -- hooks ----------------------------------------------------------------

    def routes(self) -> list[Any]:
        return [route for _, route in self._list("register_routes", settings=self.settings)]

    def openapi_fragments(self, filters: Any) -> list[tuple[str, dict[str, Any]]]:
        """``(plugin name, fragment)`` pairs: ``register_openapi`` returns one dict."""
        fragments = []
        for plugin, value in self._call(
            "register_openapi", building=True, settings=self.settings, filters=filters
        ):
            value = self._sync("register_openapi", plugin, value)
            if value is None:
                continue
            if not isinstance(value, dict):
                raise PluginError(
                    f"plugin {plugin}: register_openapi must return a dict (an OpenAPI "
                    f"fragment), got {type(value).__name__}"
                )
            fragments.append((plugin, value))
        return fragments

    def migration_folders(self) -> list[Path]:
        folders = []
        for plugin, folder in self._list("register_migrations"):
            path = Path(str(folder))  # a Path, or importlib.resources' view of one
            if not path.is_dir():
                raise PluginError(f"plugin {plugin}: migrations folder {folder} is not a directory")
            folders.append(path)
        return folders

    def tables(self) -> list[Any]:
        return [table for _, table in self._list("register_tables")]

    def tasks(self) -> list[Any]:
        owned = self._list("register_tasks")
        _refuse_duplicates("task", [(plugin, spec.name) for plugin, spec in owned])
        return [spec for _, spec in owned]

    def resources(self) -> list[Any]:
        owned = self._list("register_resources", settings=self.settings)
        _refuse_duplicates("resource", [(plugin, spec.name) for plugin, spec in owned])
        return [spec for _, spec in owned]

    def contact_filters(self) -> list[Any]:
        return [spec for _, spec in self._list("register_contact_filters", settings=self.settings)]

    def company_filters(self) -> list[Any]:
        return [spec for _, spec in self._list("register_company_filters", settings=self.settings)]

    def filter_registry(self, resource: str) -> FilterRegistry:
        """The ``"contact"`` or ``"company"`` filters of every plugin; a parameter
        declared twice fails naming the plugins."""
        owned = self._list(f"register_{resource}_filters", settings=self.settings)
        try:
            return FilterRegistry([spec for _, spec in owned], resource)
        except InvalidFilter as exc:
            plugin = next(p for p, spec in owned if spec is exc.spec)
            raise PluginError(f"plugin {plugin}: {exc}") from None
        except DuplicateFilter as exc:
            # Registration order (pluggy calls the last registered first): blame
            # the plugin that came second.
            owners = [p for p, spec in reversed(owned) if exc.param in (spec.name, *spec.aliases)]
            also = f" (also by plugin {owners[0]})" if owners[0] != owners[1] else ""
            raise PluginError(
                f"plugin {owners[1]}: {resource} filter {exc.param!r} is declared twice{also}"
            ) from None

    def commands(self) -> list[Any]:
        owned = self._list("register_commands")
        _refuse_duplicates("command", [(plugin, command.name) for plugin, command in owned])
        return [command for _, command in owned]

    def settings_problems(self) -> list[str]:
        problems = []
        for plugin, found in self._list("check_settings", settings=self.settings):
            problems.append(f"plugin {plugin}: {found}")
        return problems

    async def actor_from_request(self, request: Any, resources: Any) -> Any:
        """The first non-None actor; the results after it are never awaited,
        and their coroutines are closed."""
        results = [
            v for _, v in self._call("actor_from_request", request=request, resources=resources)
        ]
        for index, result in enumerate(results):
            try:
                actor = await await_me_maybe(result)
            except BaseException:
                for rest in results[index + 1 :]:
                    _discard(rest)
                raise
            if actor is not None:
                for rest in results[index + 1 :]:
                    _discard(rest)
                return actor
        return None

    async def startup(self, app: Any, resources: Any) -> None:
        results = [v for _, v in self._call("startup", app=app, resources=resources)]
        for index, result in enumerate(results):
            try:
                await await_me_maybe(result)
            except BaseException:
                for rest in results[index + 1 :]:
                    _discard(rest)
                raise

    def hook(self, name: str) -> Any:
        """A plugin-declared hook (e.g. ``register_apollo_mappings``), for plugins
        that add hookspecs of their own."""
        return getattr(self.pm.hook, name)


def _refuse_duplicates(kind: str, owned: list[tuple[str, str]]) -> None:
    """``owned``: ``(plugin, name)`` in call order; the plugin registered
    second is named (pluggy calls the last registered first)."""
    seen: dict[str, str] = {}
    for plugin, name in reversed(owned):
        if name in seen:
            also = f" (also by plugin {seen[name]})" if seen[name] != plugin else ""
            raise PluginError(f"plugin {plugin}: {kind} {name!r} is declared twice{also}")
        seen[name] = plugin


def _dist_version(plugin: Any) -> str | None:
    from importlib.metadata import PackageNotFoundError, packages_distributions, version

    top = getattr(plugin, "__name__", "").split(".")[0]
    for dist in packages_distributions().get(top, []):
        try:
            return version(dist)
        except PackageNotFoundError:
            continue
    return None
