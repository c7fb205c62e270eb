"""Settings: typed attrs classes, loaded in three layers.

1. ``config/default.toml`` (shipped with the package) and, for a plugin's
   section, the defaults of the attrs class the plugin registers,
2. an optional operator TOML file (``--config FILE`` or ``CONTACTS_API_CONFIG``),
3. environment variables: the well-known names of ``ENV_ALIASES`` and, for any
   key, ``CONTACTS_API__SECTION__KEY`` (double underscores).

The core's sections are structured by ``load_settings``. A plugin's section
(``register_settings``) is kept raw until the plugins are loaded;
``Plugins.load(settings).settings`` is the complete, typed configuration.

Structuring is strict (no silent ``"false"`` -> ``True``), unknown keys are
refused, and every failure names the offending key. Secrets are ``Secret``
values: they print as ``'**********'`` and only ``.reveal()`` gives the text.
"""

import ipaddress
import os
import tomllib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs
import cattrs
from cattrs.errors import ClassValidationError

__all__ = [
    "Secret",
    "Settings",
    "SettingsError",
    "SettingsSection",
    "load_settings",
    "redact_url",
    "redacted",
]


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the key."""


@attrs.frozen(repr=False)
class Secret:
    """A secret value that never shows itself in reprs, logs or views."""

    _value: str

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "'**********'" if self._value else "''"

    __str__ = __repr__


@attrs.frozen
class ServerSettings:
    host: str
    port: int
    workers: int
    base_url: str
    trusted_hosts: list[str]
    cors_origins: list[str]
    access_log: bool
    access_log_json: bool
    log_level: str
    max_body_bytes: int
    # Signs cursors and local download links; see core.signing for the fallbacks.
    signing_secret: Secret
    # Security (README "Security"): peers whose X-Forwarded-For is believed,
    # open connections per process, and the longest wait for the next body bytes.
    trusted_proxies: list[str] = attrs.Factory(list)
    max_connections: int = 1000
    body_read_timeout_s: float = 30.0
    # Bearer token of GET /metrics; empty: /metrics answers loopback peers only.
    metrics_token: Secret = Secret("")


@attrs.frozen
class DatabaseSettings:
    url: Secret
    pool_min_size: int
    pool_max_size: int
    connect_timeout_s: float
    statement_timeout_ms: int
    migrate_on_startup: str


@attrs.frozen
class RedisSettings:
    url: Secret
    # Every key, stream and lock this deployment writes starts with it.
    key_prefix: str


@attrs.frozen
class StorageSettings:
    backend: str
    local_path: str = ""
    s3_bucket: str = ""
    s3_prefix: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: Secret = Secret("")
    s3_secret_access_key: Secret = Secret("")
    s3_addressing_style: str = "auto"

    @property
    def uses_s3(self) -> bool:
        return self.backend == "s3" or (self.backend == "auto" and bool(self.s3_bucket))


@attrs.frozen
class BrokerSettings:
    backend: str
    redelivery_idle_s: int = 600
    max_concurrent_tasks: int = 4
    shutdown_grace_s: int = 30


@attrs.frozen
class CacheSettings:
    default_ttl_s: int
    memory_max_entries: int


@attrs.frozen
class RateLimitSettings:
    """Request budgets per authenticated caller and minute, by kind of work
    (core.budgets; README "Operations")."""

    enabled: bool = True
    reads_per_minute: int = 1200
    writes_per_minute: int = 600
    transfers_per_minute: int = 60


@attrs.frozen
class AuthSettings:
    write_key: Secret
    read_key: Secret
    public_reads: bool
    jwt_secret: Secret
    jwt_algorithm: str
    access_token_ttl_s: int
    refresh_token_ttl_s: int
    registration_open: bool
    bcrypt_rounds: int
    login_max_failures: int
    login_window_s: int
    # Failed logins from one address on every account, before 429.
    login_address_max_failures: int = 100
    # Failed logins of one account (from anywhere) before its logins slow down,
    # and the longest such delay (no hard lock-out: see plugins/auth_jwt/ratelimit.py).
    login_delay_after_failures: int = 10
    login_max_delay_s: float = 10.0
    # Registrations per client address and window.
    registration_max_per_address: int = 5
    registration_window_s: int = 3600
    # A rotated refresh token presented again within this many seconds gets
    # the same successor pair (parallel refreshes); later, its family is revoked.
    refresh_reuse_grace_s: float = 10.0
    # Profile avatars (POST /api/v2/users/me/avatar): the largest upload in bytes
    # (413 above), the largest width or height accepted (422 above), the side of the
    # stored square thumbnail, how long an avatar link stays valid, and how many
    # images one process decodes at once (decoding is CPU work, done in threads).
    avatar_max_bytes: int = 2 * 1024 * 1024
    avatar_max_side_px: int = 4096
    avatar_size_px: int = 256
    avatar_link_ttl_s: int = 3600
    avatar_decode_concurrency: int = 2


@attrs.frozen
class PluginSettings:
    enabled: list[str]
    blocked: list[str]
    # Built-in plugins that load only when named here (core.plugins.OPT_IN_PLUGINS).
    opt_in: list[str] = attrs.Factory(list)


@attrs.frozen
class EmbeddedSettings:
    data_dir: str


@attrs.frozen
class SettingsSection:
    """A plugin's settings section (``register_settings``): ``[name]`` in TOML,
    ``CONTACTS_API__NAME__KEY`` in the environment, ``settings.name`` in code.
    ``type`` is an attrs class whose fields all have defaults."""

    name: str
    type: type = attrs.field(validator=lambda _, __, value: _check_section_type(value))


def _check_section_type(value: Any) -> None:
    if not (isinstance(value, type) and attrs.has(value)):
        raise TypeError(f"a settings section's type must be an attrs class, got {value!r}")


@attrs.frozen
class EnvText:
    """A plugin section's value from the environment: text until the section's
    class says which type it becomes."""

    text: str
    env_name: str


@attrs.frozen
class Settings:
    """The whole effective configuration. The core's sections are fields;
    plugins' sections (``register_settings``) are read the same way,
    ``settings.contacts``, once ``Plugins.load`` has typed them."""

    server: ServerSettings
    database: DatabaseSettings
    redis: RedisSettings
    storage: StorageSettings
    broker: BrokerSettings
    cache: CacheSettings
    auth: AuthSettings
    plugins: PluginSettings
    embedded: EmbeddedSettings
    rate_limits: RateLimitSettings = attrs.Factory(RateLimitSettings)
    # Plugins' sections: layered raw values by section (operator file and
    # environment), and the typed sections of the loaded plugins.
    raw_sections: dict[str, dict[str, Any]] = attrs.field(factory=dict, repr=False)
    sections: dict[str, Any] = attrs.field(factory=dict)

    def __getattr__(self, name: str) -> Any:
        # Only called when no field matches: a plugin's section.
        if name.startswith("_") or name in ("raw_sections", "sections"):
            raise AttributeError(name)
        try:
            return self.sections[name]
        except KeyError:
            raise AttributeError(
                f"no settings section {name!r}: no loaded plugin declares it "
                "(plugin sections are typed by Plugins.load(settings).settings)"
            ) from None

    @property
    def embedded_database(self) -> bool:
        """True when no database URL is configured: the embedded PostgreSQL is used."""
        return not self.database.url

    @property
    def migrate_on_startup(self) -> bool:
        choice = self.database.migrate_on_startup
        return choice == "true" or (choice == "auto" and self.embedded_database)

    @property
    def uses_redis_broker(self) -> bool:
        backend = self.broker.backend
        return backend == "redis" or (backend == "auto" and bool(self.redis.url))

    def data_dir(self) -> Path:
        """Where embedded PostgreSQL, local files and generated secrets live."""
        if self.embedded.data_dir:
            return Path(self.embedded.data_dir).expanduser().resolve()
        if os.geteuid() == 0:  # root: a system directory the service user can own
            return Path(ROOT_DATA_DIR)
        import platformdirs

        return Path(platformdirs.user_data_dir("contacts-api", appauthor=False))

    def replace(self, **changes: dict[str, Any]) -> "Settings":
        """A copy with some fields of some sections changed, validated again:
        ``replace(database={"url": ...})``, ``replace(imports={"lease_s": 5})``."""
        raw = unstructure(self)
        raw_sections = {name: dict(values) for name, values in self.raw_sections.items()}
        for section, values in changes.items():
            if section in raw:
                raw[section].update(values)
            elif section in self.sections:
                raw_sections.setdefault(section, {}).update(values)
            else:
                raise SettingsError(f"unknown settings section {section!r}")
        core = _structure(raw)
        core = attrs.evolve(core, raw_sections=raw_sections)
        declared = {n: type(v) for n, v in self.sections.items()}
        # A raw section nobody declares was accepted before (not bound to plugins
        # yet: `serve --port` before the plugins load; or a blocked plugin's):
        # changing another field does not make it an error.
        return core.with_sections(declared, ignored=set(raw_sections) - set(declared))

    def with_sections(
        self, declared: dict[str, type], *, ignored: Iterable[str] = ()
    ) -> "Settings":
        """These settings with the plugin sections ``declared`` ({name: attrs
        class}) structured from their raw values. A raw section nobody declares
        is refused, unless its name is in ``ignored`` (a plugin that is not
        loaded: blocked, or left out of ``plugins.enabled``)."""
        ignored = set(ignored)
        for name in self.raw_sections:
            if name not in declared and name not in ignored:
                raise SettingsError(
                    f"unknown settings section [{name}]: no loaded plugin declares it"
                )
        sections = {
            name: _structure_section(name, kind, self.raw_sections.get(name, {}))
            for name, kind in declared.items()
        }
        return attrs.evolve(self, sections=sections)


# Environment variable names users expect, mapped to dotted keys.
ENV_ALIASES: dict[str, str] = {
    "DATABASE_URL": "database.url",
    "REDIS_URL": "redis.url",
    "CONTACTS_WRITE_KEY": "auth.write_key",
    "CONTACTS_READ_KEY": "auth.read_key",
    "JWT_SECRET": "auth.jwt_secret",
    "SIGNING_SECRET": "server.signing_secret",
    "S3_BUCKET": "storage.s3_bucket",
    "S3_PREFIX": "storage.s3_prefix",
    "S3_ENDPOINT_URL": "storage.s3_endpoint_url",
    "S3_REGION": "storage.s3_region",
    "S3_ACCESS_KEY_ID": "storage.s3_access_key_id",
    "S3_SECRET_ACCESS_KEY": "storage.s3_secret_access_key",
    "CONTACTS_API_DATA_DIR": "embedded.data_dir",
    "CONTACTS_API_HOST": "server.host",
    "CONTACTS_API_PORT": "server.port",
    "CONTACTS_API_LOG_LEVEL": "server.log_level",
}
ENV_PREFIX = "CONTACTS_API__"
# Embedded mode's data directory when root runs it without embedded.data_dir.
ROOT_DATA_DIR = "/var/lib/contacts-api"


def _strict_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)

    def int_hook(value: Any, _: type) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected an integer, got {value!r}")
        return value

    def float_hook(value: Any, _: type) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {value!r}")
        return float(value)

    def bool_hook(value: Any, _: type) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value

    def str_hook(value: Any, _: type) -> str:
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {value!r}")
        return value

    conv.register_structure_hook(int, int_hook)
    conv.register_structure_hook(float, float_hook)
    conv.register_structure_hook(bool, bool_hook)
    conv.register_structure_hook(str, str_hook)
    conv.register_structure_hook(Secret, lambda v, _: Secret(str_hook(v, str)))
    conv.register_unstructure_hook(Secret, lambda s: s.reveal())
    return conv


_converter = _strict_converter()


_PLUGIN_FIELDS = ("raw_sections", "sections")
CORE_SECTIONS = tuple(f.name for f in attrs.fields(Settings) if f.name not in _PLUGIN_FIELDS)


def unstructure(settings: Settings) -> dict[str, Any]:
    """The core sections as plain nested dicts, secrets revealed (for
    re-structuring only)."""
    return {name: _converter.unstructure(getattr(settings, name)) for name in CORE_SECTIONS}


REDACTED = "**********"
# A key containing one of these words holds a credential (plugin_config is free-form).
SECRET_WORDS = (
    "secret",
    "password",
    "passwd",
    "token",
    "key",
    "dsn",
    "credential",
    "auth",
    "private",
)


def redacted(settings: Settings) -> dict[str, Any]:
    """Every section, the plugins' included, as nested dicts with every secret
    replaced by ``"**********"``: ``Secret`` values, the password of any URL
    (``s3://user:password@host``), and, in plugins' sections (third-party
    plugins may type a credential as plain text), any value under a field or
    key whose name names a credential."""

    def walk(obj: Any, by_name: bool) -> Any:
        if isinstance(obj, Secret):
            return REDACTED if obj else ""
        if attrs.has(type(obj)):
            items = ((f.name, getattr(obj, f.name)) for f in attrs.fields(type(obj)))
        elif isinstance(obj, dict):
            items = obj.items()
        elif isinstance(obj, list):
            return [walk(item, by_name) for item in obj]
        elif isinstance(obj, str):
            return redact_url(obj)
        else:
            return obj
        return {
            k: (REDACTED if by_name and v and _looks_secret(k) else walk(v, by_name))
            for k, v in items
        }

    view = {name: walk(getattr(settings, name), False) for name in CORE_SECTIONS}
    view.update((name, walk(section, True)) for name, section in sorted(settings.sections.items()))
    return view


def _looks_secret(key: str) -> bool:
    key = key.lower()
    return any(word in key for word in SECRET_WORDS)


def redact_url(text: str) -> str:
    """``text`` with the password of a URL's ``user:password@`` part replaced;
    anything that is not such a URL is returned as it is."""
    if "@" not in text or "://" not in text:
        return text
    try:
        parts = urlsplit(text)
        password = parts.password
    except ValueError:  # not a URL after all (e.g. an unclosed IPv6 bracket)
        return text
    if not password:
        return text
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{REDACTED}@{host}"))


# Settings restricted to a few words, checked after structuring so the
# message names the key (an attrs validator would only name the section).
CHOICES: dict[str, tuple[str, ...]] = {
    "database.migrate_on_startup": ("auto", "true", "false"),
    "storage.backend": ("auto", "local", "s3"),
    "storage.s3_addressing_style": ("auto", "path", "virtual"),
    "broker.backend": ("auto", "redis", "memory"),
    "auth.jwt_algorithm": ("HS256", "HS384", "HS512"),
    "server.log_level": ("DEBUG", "INFO", "WARNING", "ERROR"),
}
POSITIVE = (
    "server.workers",
    "server.max_connections",
    "database.pool_max_size",
    "cache.memory_max_entries",
)


def _check_values(settings: "Settings") -> None:
    for dotted, allowed in CHOICES.items():
        section, key = dotted.split(".")
        value = getattr(getattr(settings, section), key)
        if value not in allowed:
            choices = ", ".join(allowed)
            raise SettingsError(f"invalid value for {dotted}: {value!r} (one of {choices})")
    for dotted in POSITIVE:
        section, key = dotted.split(".")
        if getattr(getattr(settings, section), key) < 1:
            raise SettingsError(f"invalid value for {dotted}: must be at least 1")
    for entry in settings.server.trusted_proxies:
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            raise SettingsError(
                f"invalid value for server.trusted_proxies: {entry!r} is not an IP address "
                "or network"
            ) from None
    if not settings.server.body_read_timeout_s > 0:
        raise SettingsError("invalid value for server.body_read_timeout_s: must be above 0")
    if not 0 <= settings.server.port <= 65535:
        raise SettingsError("invalid value for server.port: must be between 0 and 65535")


def _structure(raw: dict[str, Any]) -> Settings:
    """The core sections of ``raw`` (other top-level tables are plugins')."""
    core = {name: raw[name] for name in CORE_SECTIONS if name in raw}
    raw_sections = {name: value for name, value in raw.items() if name not in CORE_SECTIONS}
    try:
        settings = _converter.structure(core, Settings)
    except ClassValidationError as exc:
        messages = cattrs.transform_error(exc, path="settings")
        raise SettingsError("invalid settings: " + "; ".join(messages)) from None
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"invalid settings: {exc}") from None
    _check_values(settings)
    return attrs.evolve(settings, raw_sections=raw_sections)


def _structure_section(name: str, kind: type, raw: dict[str, Any]) -> Any:
    """A plugin's section: environment texts converted by their field's type,
    then the same strict structuring as the core's sections."""
    attrs.resolve_types(kind)
    fields = {f.name: f for f in attrs.fields(kind)}
    values = {}
    for key, value in raw.items():
        if isinstance(value, EnvText):
            field = fields.get(key)
            if field is None:
                raise SettingsError(
                    f"unknown setting {name}.{key} (from environment variable {value.env_name})"
                )
            value = _parse_env_text(f"{name}.{key}", field.type, value.text, value.env_name)
        values[key] = value
    try:
        return _converter.structure(values, kind)
    except ClassValidationError as exc:
        messages = cattrs.transform_error(exc, path=f"settings.{name}")
        raise SettingsError("invalid settings: " + "; ".join(messages)) from None
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"invalid settings in [{name}]: {exc}") from None


def _merge(base: dict[str, Any], override: dict[str, Any], where: str) -> None:
    for key, value in override.items():
        dotted = f"{where}.{key}".lstrip(".")
        in_plugin_section = dotted.partition(".")[0] not in CORE_SECTIONS
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value, dotted)
        elif key in base or (in_plugin_section and (where or isinstance(value, dict))):
            # A plugin's section takes any key: the plugin's class checks them.
            base[key] = value
        else:
            raise SettingsError(f"unknown setting {dotted}")


def _field_type(dotted: str) -> type | None:
    section, _, key = dotted.partition(".")
    section_fields = {f.name: f for f in attrs.fields(Settings)}
    if section not in CORE_SECTIONS:
        return None
    fields = {f.name: f for f in attrs.fields(section_fields[section].type)}
    field = fields.get(key)
    return None if field is None else field.type


def _parse_env_value(dotted: str, text: str, env_name: str) -> Any:
    """Environment values are text: convert them by the target field's type."""
    kind = _field_type(dotted)
    if kind is None:
        raise SettingsError(f"unknown setting {dotted} (from environment variable {env_name})")
    return _parse_env_text(dotted, kind, text, env_name)


def _parse_env_text(dotted: str, kind: Any, text: str, env_name: str) -> Any:
    kind_name = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if kind_name == "bool":
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(f"expected true or false, got {text!r}")
        if kind_name == "int":
            return int(text.replace("_", ""))
        if kind_name == "float":
            return float(text)
        if kind_name.startswith("list"):
            return [part.strip() for part in text.split(",") if part.strip()]
        return text
    except ValueError as exc:
        raise SettingsError(f"invalid value for {dotted} (from {env_name}): {exc}") from None


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    pairs = [(name, dotted) for name, dotted in ENV_ALIASES.items() if name in environ]
    pairs += [
        (name, name[len(ENV_PREFIX) :].lower().replace("__", "."))
        for name in environ
        if name.startswith(ENV_PREFIX)
    ]
    for env_name, dotted in pairs:
        section, _, key = dotted.partition(".")
        if section not in CORE_SECTIONS and key and "." not in key:
            # A plugin's section: typed when the plugin declares its class.
            overrides.setdefault(section, {})[key] = EnvText(environ[env_name], env_name)
            continue
        value = _parse_env_value(dotted, environ[env_name], env_name)
        overrides.setdefault(section, {})[key] = value
    return overrides


def _read_toml(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{origin} is not valid TOML: {exc}") from None


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Load and validate the effective settings; raise ``SettingsError`` naming the bad key."""
    environ = dict(os.environ if environ is None else environ)
    raw = _read_toml(
        resources.files("contacts_api.config").joinpath("default.toml").read_text(), "default"
    )
    config_file = config_file or environ.get("CONTACTS_API_CONFIG")
    if config_file:
        path = Path(config_file)
        if not path.is_file():
            raise SettingsError(f"config file {path} does not exist")
        _merge(raw, _read_toml(path.read_text(), str(path)), "")
    _merge(raw, _env_overrides(environ), "")
    return _structure(raw)
