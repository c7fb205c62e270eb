"""Settings: typed attrs classes, loaded in three layers.

1. ``config/default.toml`` (shipped with the package),
2. an optional operator TOML file (``--config FILE`` or ``CONTACTS_API_CONFIG``),
3. environment variables: the well-known names of ``ENV_ALIASES`` and, for any
   key, ``CONTACTS_API__SECTION__KEY`` (double underscores).

Structuring is strict (no silent ``"false"`` -> ``True``), unknown keys are
refused, and every failure names the offending key. Secrets are ``Secret``
values: they print as ``'**********'`` and only ``.reveal()`` gives the text.
"""

import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import cattrs
from cattrs.errors import ClassValidationError

__all__ = ["Secret", "Settings", "SettingsError", "load_settings", "redacted"]


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


@attrs.frozen
class CacheSettings:
    default_ttl_s: int
    memory_max_entries: int


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
    # A rotated refresh token presented again within this many seconds gets
    # the same successor pair (parallel refreshes); later, its family is revoked.
    refresh_reuse_grace_s: float = 10.0


@attrs.frozen
class ContactsSettings:
    list_cache_enabled: bool
    list_cache_ttl_s: int
    list_statement_timeout_ms: int
    max_offset: int
    max_count_uuids: int


@attrs.frozen
class ImportsSettings:
    max_upload_bytes: int
    batch_size: int
    lease_s: int


@attrs.frozen
class ExportsSettings:
    link_ttl_s: int
    max_age_days: int
    batch_size: int


@attrs.frozen
class ApolloSettings:
    analysis_cache_ttl_s: int


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
class Settings:
    """The whole effective configuration. Plugins read their own section;
    third-party plugins get a free-form table under ``[plugin_config.<name>]``."""

    server: ServerSettings
    database: DatabaseSettings
    redis: RedisSettings
    storage: StorageSettings
    broker: BrokerSettings
    cache: CacheSettings
    auth: AuthSettings
    contacts: ContactsSettings
    imports: ImportsSettings
    exports: ExportsSettings
    apollo: ApolloSettings
    plugins: PluginSettings
    embedded: EmbeddedSettings
    plugin_config: dict[str, dict[str, Any]] = attrs.Factory(dict)

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
        import platformdirs

        return Path(platformdirs.user_data_dir("contacts-api", appauthor=False))

    def replace(self, **changes: dict[str, Any]) -> "Settings":
        """A copy with whole sections' fields changed: ``replace(database={"url": ...})``."""
        raw = unstructure(self)
        for section, values in changes.items():
            raw[section].update(values)
        return _structure(raw)


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


def unstructure(settings: Settings) -> dict[str, Any]:
    """Settings as plain nested dicts, secrets revealed (for re-structuring only)."""
    return _converter.unstructure(settings)


def redacted(settings: Settings) -> dict[str, Any]:
    """Settings as nested dicts with every secret replaced by ``"**********"``."""

    def walk(obj: Any) -> Any:
        if isinstance(obj, Secret):
            return "**********" if obj else ""
        if attrs.has(type(obj)):
            return {f.name: walk(getattr(obj, f.name)) for f in attrs.fields(type(obj))}
        if isinstance(obj, dict):
            return {k: ("**********" if _looks_secret(k) else walk(v)) for k, v in obj.items()}
        return obj

    return walk(settings)


def _looks_secret(key: str) -> bool:
    key = key.lower()
    return any(word in key for word in ("secret", "password", "token", "key"))


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
POSITIVE = ("server.workers", "database.pool_max_size", "cache.memory_max_entries")


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
    if not 0 <= settings.server.port <= 65535:
        raise SettingsError("invalid value for server.port: must be between 0 and 65535")


def _structure(raw: dict[str, Any]) -> Settings:
    try:
        settings = _converter.structure(raw, Settings)
    except ClassValidationError as exc:
        messages = cattrs.transform_error(exc, path="settings")
        raise SettingsError("invalid settings: " + "; ".join(messages)) from None
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"invalid settings: {exc}") from None
    _check_values(settings)
    return settings


def _merge(base: dict[str, Any], override: dict[str, Any], where: str) -> None:
    for key, value in override.items():
        dotted = f"{where}.{key}".lstrip(".")
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value, dotted)
        elif key in base or dotted.startswith("plugin_config."):
            base[key] = value
        else:
            raise SettingsError(f"unknown setting {dotted}")


def _field_type(dotted: str) -> type | None:
    section, _, key = dotted.partition(".")
    section_fields = {f.name: f for f in attrs.fields(Settings)}
    if section not in section_fields or section == "plugin_config":
        return None
    fields = {f.name: f for f in attrs.fields(section_fields[section].type)}
    field = fields.get(key)
    return None if field is None else field.type


def _parse_env_value(dotted: str, text: str, env_name: str) -> Any:
    """Environment values are text: convert them by the target field's type."""
    kind = _field_type(dotted)
    if kind is None:
        raise SettingsError(f"unknown setting {dotted} (from environment variable {env_name})")
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
        if section == "plugin_config":  # free-form: CONTACTS_API__PLUGIN_CONFIG__NAME__KEY
            plugin, _, plugin_key = key.partition(".")
            overrides.setdefault(section, {}).setdefault(plugin, {})[plugin_key] = environ[env_name]
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
