"""Settings: layering, strict validation naming the key, secrets redacted."""

import json
import logging
import re

import attrs
import pytest

from contacts_api.core.cli import main
from contacts_api.core.hookspecs import hookimpl
from contacts_api.core.plugins import Plugins
from contacts_api.core.settings import (
    Secret,
    SettingsError,
    SettingsSection,
    load_settings,
    redact_url,
    redacted,
)
from contacts_api.plugins.contacts.settings import ContactsSettings


def test_defaults_load_without_environment():
    settings = load_settings(environ={})
    assert settings.server.port == 8000
    assert settings.embedded_database
    assert settings.migrate_on_startup  # "auto" means yes in embedded mode
    assert not settings.uses_redis_broker


def test_operator_file_overrides_defaults_and_environment_overrides_both(tmp_path):
    config = tmp_path / "operator.toml"
    config.write_text('[server]\nport = 9000\nhost = "0.0.0.0"\n[database]\npool_max_size = 5\n')
    settings = load_settings(config, environ={"CONTACTS_API_PORT": "9100"})
    assert (settings.server.port, settings.server.host) == (9100, "0.0.0.0")
    assert settings.database.pool_max_size == 5


def test_well_known_and_generic_environment_variables():
    settings = load_settings(
        environ={
            "DATABASE_URL": "postgresql://db/x",
            "REDIS_URL": "redis://r:6379/1",
            "S3_BUCKET": "exports",
            "CONTACTS_API__SERVER__TRUSTED_HOSTS": "a.example, b.example",
            "CONTACTS_API__AUTH__PUBLIC_READS": "true",
        }
    )
    assert settings.database.url.reveal() == "postgresql://db/x"
    assert settings.uses_redis_broker and settings.storage.uses_s3
    assert settings.server.trusted_hosts == ["a.example", "b.example"]
    assert settings.auth.public_reads is True
    assert not settings.migrate_on_startup


@pytest.mark.parametrize(
    "environ, key",
    [
        ({"CONTACTS_API__SERVER__PORT": "eighty"}, "server.port"),
        ({"CONTACTS_API__SERVER__PORT": "70000"}, "server.port"),
        ({"CONTACTS_API__AUTH__PUBLIC_READS": "maybe"}, "auth.public_reads"),
        ({"CONTACTS_API__STORAGE__BACKEND": "ftp"}, "storage.backend"),
        ({"CONTACTS_API__SERVER__NOPE": "1"}, "server.nope"),
        ({"CONTACTS_API__DATABASE__POOL_MAX_SIZE": "0"}, "database.pool_max_size"),
    ],
)
def test_bad_environment_values_name_the_key(environ, key):
    with pytest.raises(SettingsError, match=key.replace(".", r"\.")):
        load_settings(environ=environ)


@pytest.mark.parametrize(
    "toml, key",
    [
        ('[server]\nport = "80"\n', "server.port"),
        ("[server]\naccess_log = 1\n", "server.access_log"),
        ("[database]\nconnect_timeout_s = true\n", "database.connect_timeout_s"),
        ("[server]\nhost = 5\n", "server.host"),
    ],
)
def test_bad_file_values_name_the_key(tmp_path, toml, key):
    config = tmp_path / "bad.toml"
    config.write_text(toml)
    with pytest.raises(SettingsError, match=key.replace(".", r"\.")):
        load_settings(config, environ={})


def _typed(config=None, environ=None):
    """The complete settings: the core's and the loaded plugins' sections."""
    return Plugins.load(load_settings(config, environ=environ or {})).settings


def test_plugin_sections_come_from_the_plugins_with_their_defaults():
    settings = _typed()
    assert isinstance(settings.contacts, ContactsSettings)
    assert settings.imports.batch_size == 2_000  # the attrs class's default
    assert set(redacted(settings)) >= {"contacts", "imports", "exports", "apollo", "server"}
    with pytest.raises(AttributeError, match="no settings section 'nope'"):
        settings.nope  # noqa: B018


def test_plugin_sections_are_typed_from_file_and_environment(tmp_path):
    config = tmp_path / "operator.toml"
    config.write_text("[imports]\nbatch_size = 500\n[contacts]\nlist_cache_enabled = true\n")
    settings = _typed(config, {"CONTACTS_API__IMPORTS__LEASE_S": "90"})
    assert settings.imports.batch_size == 500 and settings.imports.lease_s == 90
    assert settings.contacts.list_cache_enabled is True
    changed = settings.replace(imports={"lease_s": 5}, server={"port": 1234})
    assert (changed.imports.lease_s, changed.imports.batch_size) == (5, 500)
    assert changed.server.port == 1234


def test_command_line_changes_before_the_plugins_load_keep_their_sections(tmp_path):
    """`serve --port N` changes the settings before any plugin is loaded: a plugin
    section from the file or the environment must survive it (it refused to start:
    "unknown settings section [imports]")."""
    config = tmp_path / "operator.toml"
    config.write_text("[imports]\nbatch_size = 500\n")
    raw = load_settings(config, environ={"CONTACTS_API__IMPORTS__LEASE_S": "90"})
    changed = raw.replace(server={"port": 1234})
    typed = Plugins.load(changed).settings
    assert (typed.imports.batch_size, typed.imports.lease_s) == (500, 90)
    assert typed.server.port == 1234


@pytest.mark.parametrize(
    "toml, environ, key",
    [
        ("[nonsense]\nx = 1\n", {}, "[nonsense]"),
        ("[imports]\nbatch_size = 500\nnope = 1\n", {}, "nope"),
        ('[imports]\nbatch_size = "500"\n', {}, "settings.imports.batch_size"),
        ("", {"CONTACTS_API__IMPORTS__BATCH_SIZE": "many"}, "imports.batch_size"),
        ("", {"CONTACTS_API__IMPORTS__NOPE": "1"}, "imports.nope"),
    ],
)
def test_bad_plugin_settings_name_the_key(tmp_path, toml, environ, key):
    config = tmp_path / "bad.toml"
    config.write_text(toml)
    with pytest.raises(SettingsError, match=re.escape(key)):
        _typed(config, environ)


def test_sections_of_a_blocked_plugin_are_ignored(tmp_path):
    config = tmp_path / "operator.toml"
    config.write_text('[plugins]\nblocked = ["apollo"]\n[apollo]\nanalysis_cache_ttl_s = 5\n')
    settings = _typed(config)
    assert "apollo" not in settings.sections


def test_invalid_toml_and_missing_file_are_reported(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(broken, environ={})
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "absent.toml", environ={})


SECRETS = {
    "DATABASE_URL": "postgresql://app:db-password-123@db/contacts",
    "REDIS_URL": "redis://:redis-password-456@r:6379/0",
    "CONTACTS_WRITE_KEY": "write-key-789",
    "JWT_SECRET": "jwt-secret-abc",
    "S3_SECRET_ACCESS_KEY": "s3-secret-def",
    "S3_ACCESS_KEY_ID": "s3-id-ghi",
}


def test_secrets_never_show_in_repr_str_or_redacted_view():
    settings = load_settings(environ=SECRETS)
    texts = [repr(settings), str(settings), json.dumps(redacted(settings))]
    for text in texts:
        for value in SECRETS.values():
            assert value not in text
    assert settings.auth.write_key.reveal() == "write-key-789"
    assert redacted(settings)["auth"]["jwt_secret"] == "**********"
    assert repr(Secret("")) == "''" and not Secret("")


def test_config_command_prints_redacted_settings(monkeypatch, capsys):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CONTACTS_API__EXPORTS__LINK_TTL_S", "60")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["auth"]["write_key"] == "**********"
    assert json.loads(out)["exports"]["link_ttl_s"] == 60  # plugins' sections too
    for value in SECRETS.values():
        assert value not in out


def test_secrets_do_not_reach_logs(caplog):
    settings = load_settings(environ=SECRETS)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("contacts_api").info("settings: %s", settings)
    assert "jwt-secret-abc" not in caplog.text and "db-password-123" not in caplog.text


def test_cli_reports_a_bad_setting_and_exits_2(monkeypatch, capsys):
    monkeypatch.setenv("CONTACTS_API__SERVER__PORT", "x")
    assert main(["config"]) == 2
    assert "server.port" in capsys.readouterr().err


def test_signer_round_trips_and_refuses_tampering_and_other_purposes():
    from contacts_api.core.signing import BadSignature, Signer

    signer = Signer(load_settings(environ={"SIGNING_SECRET": "s" * 40}))
    token = signer.sign({"k": [1, "a"], "u": "x"}, "cursor")
    assert signer.unsign(token, "cursor") == {"k": [1, "a"], "u": "x"}
    body, mac = token.split(".")
    for bad in (body + "x." + mac, body + "." + mac[:-2] + "AA", "garbage", "", token + "."):
        with pytest.raises(BadSignature):
            signer.unsign(bad, "cursor")
    with pytest.raises(BadSignature):
        signer.unsign(token, "download")
    other = Signer(load_settings(environ={"SIGNING_SECRET": "t" * 40}))
    with pytest.raises(BadSignature):
        other.unsign(token, "cursor")


@attrs.frozen
class CrmSettings:
    """A third-party plugin's section that types its credentials as plain text."""

    dsn: str = ""
    credentials: str = ""
    auth_header: str = ""
    private_pem: str = ""
    smtp_passwd: str = ""
    webhook: str = ""
    region: str = ""


class CrmPlugin:
    @hookimpl
    def register_settings(self):
        return [SettingsSection("crm", CrmSettings)]


def test_config_redacts_url_passwords_and_credential_like_plugin_keys():
    """Issue 14: an endpoint URL with ``user:password@`` and plugin settings
    named like credentials used to be printed as they are."""
    hidden = {
        "S3_ENDPOINT_URL": "https://minio:url-pass-1@s3.internal:9000/",
        "CONTACTS_API__CRM__DSN": "mysql://crm:dsn-pass-2@crm/db",
        "CONTACTS_API__CRM__CREDENTIALS": "cred-value-3",
        "CONTACTS_API__CRM__AUTH_HEADER": "Basic auth-value-4",
        "CONTACTS_API__CRM__PRIVATE_PEM": "pem-value-5",
        "CONTACTS_API__CRM__SMTP_PASSWD": "passwd-value-6",
        "CONTACTS_API__CRM__WEBHOOK": "https://hook:hook-pass-7@hooks.example/x",
    }
    environ = {**hidden, "CONTACTS_API__CRM__REGION": "eu-west-1"}
    plugins = Plugins.load(load_settings(environ=environ), extra=[("crm", CrmPlugin())])
    out = json.dumps(redacted(plugins.settings))
    for secret in ("url-pass-1", "dsn-pass-2", "cred-value-3", "auth-value-4", "pem-value-5"):
        assert secret not in out
    assert "passwd-value-6" not in out and "hook-pass-7" not in out
    printed = json.loads(out)
    assert printed["storage"]["s3_endpoint_url"] == "https://minio:**********@s3.internal:9000/"
    assert printed["crm"]["webhook"] == "https://hook:**********@hooks.example/x"
    assert printed["crm"]["region"] == "eu-west-1"  # not a credential


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://s3.example.com", "https://s3.example.com"),
        ("https://user@host/", "https://user@host/"),
        ("postgresql://u:p@h/db", "postgresql://u:**********@h/db"),
        ("http://[::1:bad@x", "http://[::1:bad@x"),  # not a URL: left alone, no crash
        ("a@b.com", "a@b.com"),
    ],
)
def test_redact_url(text, expected):
    assert redact_url(text) == expected


def test_trusted_proxies_must_be_addresses_or_networks():
    settings = load_settings(environ={"CONTACTS_API__SERVER__TRUSTED_PROXIES": "10.0.0.0/8, ::1"})
    assert settings.server.trusted_proxies == ["10.0.0.0/8", "::1"]
    with pytest.raises(SettingsError, match="server.trusted_proxies"):
        load_settings(environ={"CONTACTS_API__SERVER__TRUSTED_PROXIES": "proxy.internal"})


def test_secure_defaults():
    settings = load_settings(environ={})
    assert settings.auth.registration_open is False
    assert settings.server.trusted_proxies == []
    assert settings.server.max_connections >= 100 and 0 < settings.server.body_read_timeout_s
