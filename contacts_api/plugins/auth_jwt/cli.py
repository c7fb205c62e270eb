"""``contacts-api users create EMAIL [--admin]`` and ``contacts-api users set-role
EMAIL admin|user``: how the first administrator comes to be.

Both work in embedded mode too: the embedded PostgreSQL is started (and
migrated, when ``migrate_on_startup``) exactly as ``contacts-api serve`` would.
"""

import argparse
import asyncio
import getpass
import sys

from contacts_api.core.cli import Command
from contacts_api.core.embedded import prepare_embedded
from contacts_api.core.errors import ApiError
from contacts_api.core.migrations import apply_migrations
from contacts_api.core.plugins import Plugins
from contacts_api.core.resources import open_resources
from contacts_api.core.settings import Settings
from contacts_api.plugins.auth_jwt.checks import settings_problems
from contacts_api.plugins.auth_jwt.passwords import password_problem
from contacts_api.plugins.auth_jwt.service import auth_service
from contacts_api.plugins.auth_jwt.validation import ROLES, Body

__all__ = ["users_command"]


def _configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="users_command", required=True)
    create = sub.add_parser(
        "create",
        help="create a user (the password is prompted for, "
        "or read from standard input when it is not a terminal)",
    )
    create.add_argument("email")
    create.add_argument("--admin", action="store_true", help="give the user the admin role")
    set_role = sub.add_parser("set-role", help="make a user an admin or a plain user")
    set_role.add_argument("email")
    set_role.add_argument("role", choices=ROLES)


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password (again): ") != first:
        raise SystemExit("contacts-api: the passwords do not match")
    return first


def _fail(message: str) -> int:
    print(f"contacts-api: {message}", file=sys.stderr)
    return 1


async def _create(service, email: str, password: str, admin: bool) -> int:
    role = "admin" if admin else "user"
    user_id = await service.users.create(email, await service.passwords.hash(password), role, {})
    print(f"created user {email} ({user_id}) with role {role}")
    return 0


async def _set_role(service, email: str, role: str) -> int:
    if await service.users.set_role_by_email(email, role) is None:
        return _fail(f"no user with the email {email}")
    print(f"{email} now has the role {role}")
    return 0


async def _main(args: argparse.Namespace, settings: Settings, migrate: bool) -> int:
    plugins = Plugins.load(settings)
    if migrate:
        await apply_migrations(settings.database.url.reveal(), plugins.migration_folders())
    async with open_resources(settings, plugins) as resources:
        service = auth_service(resources)
        try:
            if args.users_command == "create":
                return await _create(service, args.email, args.password, args.admin)
            return await _set_role(service, args.email, args.role)
        except ApiError as error:
            return _fail(error.detail)


def _run(args: argparse.Namespace, settings: Settings, plugins: Plugins) -> int:
    problems = settings_problems(settings, need_secret=False)  # no token is issued here
    if problems:
        return _fail("; ".join(problems))
    if args.users_command == "create":
        body = Body({"email": args.email}, ("email",))
        args.email = body.email()
        if body.errors:
            return _fail(f"{args.email!r} is not a valid email address")
        args.password = _read_password()
        problem = password_problem(args.password, ("password",))
        if problem is not None:
            return _fail(f"the password {problem['msg']}")
    # Decided before prepare_embedded: "auto" means "yes" for the embedded database,
    # and once prepared the settings name its URL (so "auto" would read "no").
    migrate = settings.migrate_on_startup
    return asyncio.run(_main(args, prepare_embedded(settings), migrate))


def users_command() -> Command:
    return Command(
        name="users", help="create users and change their role", configure=_configure, run=_run
    )
