"""An example contacts-api plugin that implements every hook.

Install it (``pip install ./examples/contacts_api_example``) and it is found
through the ``contacts_api`` entry point. It registers:

- routes ``GET``/``POST /api/v2/example/notes`` and their OpenAPI description,
  each declaring its scope of work (``@requires_scope("read")`` / ``("write")``:
  what an API key needs there, and which request budget the call spends);
- a migration creating ``example_notes`` and that table's SQLAlchemy object;
- a task ``example.save_note`` (queue ``example``) that the POST route kicks;
- its settings section ``[example]`` (``ExampleSettings``: ``token``, a
  secret, and ``allowed_users``, a list; ``CONTACTS_API__EXAMPLE__TOKEN``);
- an auth method: header ``X-Example-Token`` equal to ``[example] token``
  authenticates as ``X-Example-User`` (one of ``allowed_users`` when that
  list is not empty), with its OpenAPI security scheme;
- a hook of its own, ``example_greeting``, that other plugins may implement;
- a contact filter ``has_linkedin`` and a company filter ``min_headcount``;
- a resource ``example_stats``, a ``startup`` hook, a settings check and the
  command ``contacts-api example-hello``.
"""

import hmac
from contextlib import asynccontextmanager
from importlib import resources

import attrs
import sqlalchemy as sa
from aiohttp import web

from contacts_api import (
    Actor,
    Command,
    FilterSpec,
    InvalidToken,
    ResourceSpec,
    Secret,
    SettingsSection,
    TaskSpec,
    ValidationError,
    error_response_refs,
    hookimpl,
    hookspec,
    json_body,
    json_response,
    read_json,
    require_actor,
    requires_scope,
    resources_of,
)

metadata = sa.MetaData()
notes = sa.Table(
    "example_notes",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)
routes = web.RouteTableDef()


@attrs.frozen
class ExampleSettings:
    """``[example]``: typed like the core's sections, from TOML or the environment."""

    # The value of the X-Example-Token header (CONTACTS_API__EXAMPLE__TOKEN).
    token: Secret = Secret("")
    # Who may sign in with the token; empty: anyone ("a,b" in the environment).
    allowed_users: list[str] = attrs.Factory(list)


class ExampleHookspecs:
    """The hook this plugin adds to the contract (``register_hookspecs``)."""

    @hookspec
    def example_greeting(self, name):
        """Return a greeting for ``name``; the first plugin to answer wins."""


@attrs.define
class ExampleStats:
    """The example resource: counts notes kicked by this process."""

    notes_kicked: int = 0
    started: bool = False


def _resources(request: web.Request):
    return resources_of(request)


@routes.post("/api/v2/example/notes")
@requires_scope("write")
async def post_note(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    body = await read_json(request)
    text = body.get("body")
    if not isinstance(text, str) or not text.strip():
        raise ValidationError.single(("body", "body"), "a non-empty string is required")
    resources = _resources(request)
    await resources.tasks.kick("example.save_note", author=actor.id, body=text)
    resources.extra["example_stats"].notes_kicked += 1
    return web.json_response({"queued": True}, status=202)


@routes.get("/api/v2/example/notes")
@requires_scope("read")
async def list_notes(request: web.Request) -> web.Response:
    await require_actor(request)
    rows = await _resources(request).db.fetch_all(
        sa.select(notes.c.author, notes.c.body).order_by(notes.c.id)
    )
    return web.json_response({"results": rows})


async def save_note(resources, *, author: str, body: str) -> None:
    """Task ``example.save_note``: runs in the worker with the shared resources."""
    await resources.db.execute(sa.insert(notes).values(author=author, body=body))


@hookimpl
def register_settings():
    return [SettingsSection("example", ExampleSettings)]


@hookimpl
def register_hookspecs():
    return [ExampleHookspecs]


@hookimpl(trylast=True)
def example_greeting(name):
    return f"hello {name} from the example plugin"


@hookimpl
def register_routes(settings):
    return list(routes)


@hookimpl
def register_openapi(settings, filters):
    note = {"type": "object", "properties": {"body": {"type": "string"}}, "required": ["body"]}
    return {
        "tags": [{"name": "example", "description": "The example plugin."}],
        "components": {
            "securitySchemes": {
                "exampleToken": {"type": "apiKey", "in": "header", "name": "X-Example-Token"}
            }
        },
        "paths": {
            "/api/v2/example/notes": {
                "get": {
                    "tags": ["example"],
                    "operationId": "exampleListNotes",
                    "summary": "Notes saved so far",
                    "security": [{"exampleToken": []}],
                    "responses": {"200": json_response("Notes"), **error_response_refs(401)},
                },
                "post": {
                    "tags": ["example"],
                    "operationId": "exampleAddNote",
                    "summary": "Save a note in the background",
                    "security": [{"exampleToken": []}],
                    "requestBody": json_body(note),
                    "responses": {
                        "202": json_response("Queued"),
                        **error_response_refs(400, 401, 422),
                    },
                },
            }
        },
    }


@hookimpl
def register_migrations():
    return [resources.files(__name__) / "migrations"]


@hookimpl
def register_tables():
    return [notes]


@hookimpl
def register_tasks():
    return [TaskSpec("example.save_note", save_note, queue="example")]


@asynccontextmanager
async def _open_stats(resources):
    yield ExampleStats()


@hookimpl
def register_resources(settings):
    return [ResourceSpec("example_stats", _open_stats)]


@hookimpl
def actor_from_request(request, resources):
    token = request.headers.get("X-Example-Token")
    settings = resources.settings.example
    if token is None or not settings.token:
        return None
    if not hmac.compare_digest(token.encode(), settings.token.reveal().encode()):
        raise InvalidToken("Invalid example token.")
    user = request.headers.get("X-Example-User", "example-user")
    if settings.allowed_users and user not in settings.allowed_users:
        raise InvalidToken(f"{user} may not use the example token.")
    return Actor(id=user, kind="example")


@hookimpl
def register_contact_filters(settings):
    return [
        FilterSpec(
            name="has_linkedin",
            kind="boolean",
            multiple=False,
            description="Contacts with (true) or without (false) a LinkedIn URL.",
            build=lambda values, t: (
                t.contacts.c.linkedin_url.isnot(None)
                if values[0]
                else t.contacts.c.linkedin_url.is_(None)
            ),
        )
    ]


@hookimpl
def register_company_filters(settings):
    return [
        FilterSpec(
            name="min_headcount",
            kind="integer",
            multiple=False,
            description="Companies with at least this many employees.",
            build=lambda values, t: t.companies.c.employees_count >= values[0],
        )
    ]


def _hello(args, settings, plugins):
    # The first answer of the plugin's own hook (other plugins may implement it).
    print(plugins.hook("example_greeting")(name=args.name)[0])
    return 0


@hookimpl
def register_commands():
    return [
        Command(
            name="example-hello",
            help="say hello (example plugin)",
            configure=lambda parser: parser.add_argument("name"),
            run=_hello,
        )
    ]


@hookimpl
def check_settings(settings):
    token = settings.example.token.reveal()
    if token and len(token) < 8:
        return ["example.token must be at least 8 characters"]
    return []


@hookimpl
async def startup(app, resources):
    resources.extra["example_stats"].started = True
