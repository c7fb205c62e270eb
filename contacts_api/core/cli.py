"""The ``contacts-api`` command line: serve, worker, migrate, config, plugins,
plus the commands plugins add through ``register_commands``."""

import argparse
import asyncio
import contextlib
import inspect
import json
import logging
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from contacts_api.core.embedded import EmbeddedError
from contacts_api.core.migrations import MigrationError
from contacts_api.core.plugins import PluginError, Plugins
from contacts_api.core.settings import Settings, SettingsError, load_settings, redacted

__all__ = ["Command", "main"]

log = logging.getLogger("contacts_api")


@attrs.frozen
class Command:
    """A subcommand contributed by a plugin.

    ``configure(parser)`` adds its arguments; ``run(args, settings, plugins)``
    does the work (sync or async) and returns an exit code (None means 0).
    A command that needs nested subcommands adds them in ``configure``.
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Settings, Plugins], Any]


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.server.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if settings.server.access_log_json:
        access = logging.getLogger("contacts_api.access")
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.propagate = False


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config)
    server: dict[str, Any] = {}
    for key in ("host", "port", "workers"):
        if getattr(args, key, None) is not None:
            server[key] = getattr(args, key)
    changes: dict[str, Any] = {"server": server} if server else {}
    if getattr(args, "data_dir", None):
        changes["embedded"] = {"data_dir": args.data_dir}
    return settings.replace(**changes) if changes else settings


# -- serve ---------------------------------------------------------------------


class ListenError(Exception):
    """The server could not listen on its address (port busy, no permission)."""


# Failures an operator fixes from the message alone: one line, no traceback.
CLEAR_ERRORS = (SettingsError, PluginError, EmbeddedError, MigrationError, ListenError)


def _where(settings: Settings) -> str:
    return f"http://{settings.server.host}:{settings.server.port}"


async def _serve(settings: Settings, reuse_port: bool, on_listening: Callable[[], None]) -> None:
    """Build the app, open its resources (migrating first when configured),
    listen, call ``on_listening``, and serve until SIGTERM or SIGINT."""
    from aiohttp import web

    from contacts_api.core.app import create_app

    runner = web.AppRunner(create_app(settings), access_log=None, handle_signals=False)
    await runner.setup()  # startup: migrations, pools, plugins' startup hooks
    try:
        site = web.TCPSite(
            runner, settings.server.host, settings.server.port, reuse_port=reuse_port
        )
        try:
            await site.start()
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise ListenError(f"cannot listen on {_where(settings)}: {reason.lower()}") from None
        on_listening()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def _serve_one(settings: Settings, reuse_port: bool, ready: Any = None) -> None:
    """One server process; ``ready`` (a multiprocessing event) is set once it
    listens. Known failures end the process with one line on stderr."""
    setup_logging(settings)
    try:
        asyncio.run(_serve(settings, reuse_port, ready.set if ready else lambda: None))
    except CLEAR_ERRORS as exc:
        print(f"contacts-api: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)


def cmd_serve(args: argparse.Namespace) -> int:
    from contacts_api.core.embedded import prepare_embedded
    from contacts_api.core.migrations import apply_migrations

    requested = _settings(args)
    Plugins.load(requested)  # a bad plugin set fails before PostgreSQL starts
    settings = prepare_embedded(requested)
    setup_logging(settings)
    data = settings.data_dir() if requested.embedded_database else "external services"
    listening = f"contacts-api listening on {_where(settings)} (data: {data})"
    if requested.embedded_database and not settings.auth.registration_open:
        data_arg = f" --data-dir {data}" if getattr(args, "data_dir", None) else ""
        listening += (
            "\nRegistration is closed (auth.registration_open = false): create the first "
            f"user with `contacts-api users create EMAIL --admin{data_arg}`"
        )
    workers = settings.server.workers
    if workers == 1:
        asyncio.run(_serve(settings, False, lambda: print(listening, flush=True)))
        return 0
    plugins = Plugins.load(settings)
    problems = plugins.settings_problems()
    if problems:  # one clear message, not one traceback per child
        raise PluginError("invalid settings: " + "; ".join(problems))
    if settings.migrate_on_startup:  # once here, not racing in every child
        asyncio.run(apply_migrations(settings.database.url.reveal(), plugins.migration_folders()))
        settings = settings.replace(database={"migrate_on_startup": "false"})
    with _metrics_dir():
        return _serve_children(settings, workers, listening)


@contextlib.contextmanager
def _metrics_dir() -> Iterator[None]:
    """Prometheus multiprocess mode for ``serve --workers N`` (core.metrics):
    the children write their numbers to one directory that ``/metrics`` of any
    of them sums. The operator's ``PROMETHEUS_MULTIPROC_DIR`` is used as is
    (share it with ``contacts-api worker`` to see job counters there too);
    otherwise a fresh private one is made here and removed at exit."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="contacts-api-metrics-") as path:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path  # inherited by the spawned children
        try:
            yield
        finally:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)


def _serve_children(settings: Settings, workers: int, listening: str) -> int:
    context = multiprocessing.get_context("spawn")
    ready = [context.Event() for _ in range(workers)]
    children = [
        context.Process(target=_serve_one, args=(settings, True, event), daemon=False)
        for event in ready
    ]
    for child in children:
        child.start()

    def forward(signum: int, _: Any) -> None:
        for child in children:
            if child.is_alive():
                child.terminate()

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    # Announce once every child listens; if one dies first, stop the others.
    while not all(event.is_set() for event in ready):
        if any(not child.is_alive() for child in children):
            forward(signal.SIGTERM, None)
            break
        time.sleep(0.05)
    else:
        print(listening, flush=True)
    for child in children:
        child.join()
    return max((child.exitcode or 0) for child in children)


# -- worker, migrate, config, plugins ------------------------------------------


def cmd_worker(args: argparse.Namespace) -> int:
    """Consume tasks from Redis. Without DATABASE_URL it works on the embedded
    database of its data directory (shared with ``serve`` there, started if
    needed, migrated like ``serve`` does), never on whatever PostgreSQL the
    machine happens to run."""
    from contacts_api.core.embedded import prepare_embedded
    from contacts_api.core.migrations import apply_migrations
    from contacts_api.workers.broker import run_worker

    requested = _settings(args)
    setup_logging(requested)
    if not requested.uses_redis_broker:
        print(
            "contacts-api worker needs Redis (REDIS_URL): without it, tasks run "
            "inside the API process.",
            file=sys.stderr,
        )
        return 2
    Plugins.load(requested)  # a bad plugin set fails before PostgreSQL starts
    settings = prepare_embedded(requested)
    plugins = Plugins.load(settings)
    settings = plugins.settings
    if settings.migrate_on_startup:
        asyncio.run(apply_migrations(settings.database.url.reveal(), plugins.migration_folders()))
    if requested.embedded_database:
        log.info("worker on the embedded database in %s", settings.data_dir())

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info("worker consuming %s", ", ".join(args.queue or ["all queues"]))
        await run_worker(settings, plugins, queues=args.queue or None, stop=stop)

    asyncio.run(main())
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from contacts_api.core.embedded import prepare_embedded
    from contacts_api.core.migrations import apply_migrations, pending_migrations

    requested = _settings(args)
    Plugins.load(requested)  # a bad plugin set fails before PostgreSQL starts
    settings = prepare_embedded(requested)
    setup_logging(settings)
    folders = Plugins.load(settings).migration_folders()
    url = settings.database.url.reveal()
    if args.list:
        pending = asyncio.run(pending_migrations(url, folders))
        print("\n".join(pending) if pending else "no pending migrations")
        return 0
    applied = asyncio.run(apply_migrations(url, folders))
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    """Every section, the loaded plugins' included, secrets redacted."""
    print(json.dumps(redacted(Plugins.load(_settings(args)).settings), indent=2))
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    settings = _settings(args)
    print(json.dumps(Plugins.load(settings).describe(), indent=2))
    return 0


_DATA_DIR = argparse.ArgumentParser(prog="contacts-api", add_help=False)
_DATA_DIR.add_argument(
    "--data-dir", help="embedded mode's data directory (also CONTACTS_API_DATA_DIR)"
)


def build_parser(plugin_commands: list[Command]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contacts-api", description=__doc__)
    parser.add_argument("--config", help="operator TOML file (also CONTACTS_API_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        # Every command accepts --data-dir: any of them may open the embedded data.
        return sub.add_parser(name, help=help, parents=[_DATA_DIR])

    serve = add("serve", "run the HTTP API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, help="processes sharing the port")
    serve.set_defaults(handler=cmd_serve)

    worker = add("worker", "run the background task worker (needs Redis)")
    worker.add_argument("--queue", action="append", help="consume only this queue (repeatable)")
    worker.set_defaults(handler=cmd_worker)

    migrate = add("migrate", "apply pending database migrations")
    migrate.add_argument("--list", action="store_true", help="only list pending migrations")
    migrate.set_defaults(handler=cmd_migrate)

    add("config", "print the effective settings, secrets redacted").set_defaults(handler=cmd_config)
    add("plugins", "list the loaded plugins").set_defaults(handler=cmd_plugins)

    for command in plugin_commands:
        command_parser = add(command.name, command.help)
        command.configure(command_parser)
        command_parser.set_defaults(handler=_plugin_handler(command))
    return parser


def _plugin_handler(command: Command) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        settings = _settings(args)
        setup_logging(settings)
        plugins = Plugins.load(settings)
        result = command.run(args, plugins.settings, plugins)
        if inspect.isawaitable(result):
            result = asyncio.run(result)
        return int(result or 0)

    return handler


def main(argv: list[str] | None = None) -> int:
    try:
        settings = load_settings(_config_arg(argv))
        commands = Plugins.load(settings).commands()
        parser = build_parser(commands)
        args, extra = parser.parse_known_args(argv)
        # A plugin's nested subcommands (`users create ...`) do not know
        # --data-dir: accept it after them too.
        _DATA_DIR.parse_args(extra, namespace=args)
        return args.handler(args)
    except (SettingsError, PluginError) as exc:
        print(f"contacts-api: {exc}", file=sys.stderr)
        return 2
    except CLEAR_ERRORS as exc:  # one line, not a traceback
        print(f"contacts-api: {exc}", file=sys.stderr)
        return 1


def _config_arg(argv: list[str] | None) -> str | None:
    """``--config`` must be known before the parser is built (plugins add commands)."""
    argv = sys.argv[1:] if argv is None else argv
    for index, arg in enumerate(argv):
        if arg == "--config" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
    return None


if __name__ == "__main__":
    sys.exit(main())
