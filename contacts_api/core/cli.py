"""The ``contacts-api`` command line: serve, worker, migrate, config, plugins,
plus the commands plugins add through ``register_commands``."""

import argparse
import asyncio
import inspect
import json
import logging
import multiprocessing
import signal
import sys
from collections.abc import Callable
from typing import Any

import attrs

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


def _serve_one(settings: Settings, reuse_port: bool) -> None:
    from aiohttp import web

    from contacts_api.core.app import create_app

    setup_logging(settings)
    web.run_app(
        create_app(settings),
        host=settings.server.host,
        port=settings.server.port,
        reuse_port=reuse_port,
        print=None,
        access_log=None,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    from contacts_api.core.embedded import prepare_embedded
    from contacts_api.core.migrations import apply_migrations

    requested = _settings(args)
    settings = prepare_embedded(requested)
    setup_logging(settings)
    where = f"http://{settings.server.host}:{settings.server.port}"
    data = settings.data_dir() if requested.embedded_database else "external services"
    print(f"contacts-api listening on {where} (data: {data})", flush=True)
    if requested.embedded_database and not settings.auth.registration_open:
        data_env = f"CONTACTS_API_DATA_DIR={data} " if getattr(args, "data_dir", None) else ""
        print(
            "Registration is closed (auth.registration_open = false): create the first "
            f"user with `{data_env}contacts-api users create EMAIL --admin`",
            flush=True,
        )
    workers = settings.server.workers
    if workers == 1:
        _serve_one(settings, reuse_port=False)
        return 0
    plugins = Plugins.load(settings)
    problems = plugins.settings_problems()
    if problems:  # one clear message, not one traceback per child
        raise PluginError("invalid settings: " + "; ".join(problems))
    if settings.migrate_on_startup:  # once here, not racing in every child
        asyncio.run(apply_migrations(settings.database.url.reveal(), plugins.migration_folders()))
        settings = settings.replace(database={"migrate_on_startup": "false"})
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(target=_serve_one, args=(settings, True), daemon=False)
        for _ in range(workers)
    ]
    for child in children:
        child.start()

    def forward(signum: int, _: Any) -> None:
        for child in children:
            if child.is_alive():
                child.terminate()

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        child.join()
    return max((child.exitcode or 0) for child in children)


# -- worker, migrate, config, plugins ------------------------------------------


def cmd_worker(args: argparse.Namespace) -> int:
    from contacts_api.workers.broker import run_worker

    settings = _settings(args)
    setup_logging(settings)
    if not settings.uses_redis_broker:
        print(
            "contacts-api worker needs Redis (REDIS_URL): without it, tasks run "
            "inside the API process.",
            file=sys.stderr,
        )
        return 2
    plugins = Plugins.load(settings)

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

    settings = prepare_embedded(_settings(args))
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
    print(json.dumps(redacted(_settings(args)), indent=2))
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    settings = _settings(args)
    print(json.dumps(Plugins.load(settings).describe(), indent=2))
    return 0


def build_parser(plugin_commands: list[Command]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contacts-api", description=__doc__)
    parser.add_argument("--config", help="operator TOML file (also CONTACTS_API_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, help="processes sharing the port")
    serve.add_argument("--data-dir", help="embedded mode's data directory")
    serve.set_defaults(handler=cmd_serve)

    worker = sub.add_parser("worker", help="run the background task worker (needs Redis)")
    worker.add_argument("--queue", action="append", help="consume only this queue (repeatable)")
    worker.set_defaults(handler=cmd_worker)

    migrate = sub.add_parser("migrate", help="apply pending database migrations")
    migrate.add_argument("--list", action="store_true", help="only list pending migrations")
    migrate.add_argument("--data-dir", help="embedded mode's data directory")
    migrate.set_defaults(handler=cmd_migrate)

    sub.add_parser("config", help="print the effective settings, secrets redacted").set_defaults(
        handler=cmd_config
    )
    sub.add_parser("plugins", help="list the loaded plugins").set_defaults(handler=cmd_plugins)

    for command in plugin_commands:
        command_parser = sub.add_parser(command.name, help=command.help)
        command.configure(command_parser)
        command_parser.set_defaults(handler=_plugin_handler(command))
    return parser


def _plugin_handler(command: Command) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        settings = _settings(args)
        setup_logging(settings)
        result = command.run(args, settings, Plugins.load(settings))
        if inspect.isawaitable(result):
            result = asyncio.run(result)
        return int(result or 0)

    return handler


def main(argv: list[str] | None = None) -> int:
    try:
        settings = load_settings(_config_arg(argv))
        commands = Plugins.load(settings).commands()
        args = build_parser(commands).parse_args(argv)
        return args.handler(args)
    except (SettingsError, PluginError) as exc:
        print(f"contacts-api: {exc}", file=sys.stderr)
        return 2


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
