"""``reads.run``: every read carries the list statement timeout and the planner
settings, and they end with the statement (the pooled connection's next user
never inherits them)."""

from contacts_api.core.appkeys import RESOURCES
from contacts_api.plugins.contacts import reads

SHOW = """SELECT (SELECT setting FROM pg_settings WHERE name = 'statement_timeout'),
                  current_setting('join_collapse_limit')"""


async def test_a_read_runs_under_the_timeout_and_the_planner_settings(api):
    resources = api.app[RESOURCES]
    timeout_ms = int(resources.settings.contacts.list_statement_timeout_ms)
    ((row,),) = await reads.run(resources, (SHOW, {}, "tuples"))
    assert row == (str(timeout_ms), reads.PLANNER_SETTINGS["join_collapse_limit"])


async def test_the_settings_end_with_the_statement(api):
    resources = api.app[RESOURCES]
    await reads.run(resources, (SHOW, {}, "tuples"))
    async with resources.db.connection() as conn, conn.cursor() as cur:
        await cur.execute("SELECT current_setting('join_collapse_limit')")
        assert (await cur.fetchone())[0] == "8"  # PostgreSQL's default
