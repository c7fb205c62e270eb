"""The service API other plugins call (apollo, exports)."""

from contacts_api.core.appkeys import FILTERS, RESOURCES, SIGNER
from contacts_api.plugins.contacts import service
from tests.plugins.contacts.reference import COMPANY_SORT, matching, ordered


async def test_iter_contact_rows_walks_every_match_in_batches(api, seeded):
    app = api.app
    applied = app[FILTERS].contacts.parse_mapping({"country": ["united", "france"]})
    rows = [row async for row in service.iter_contact_rows(app[RESOURCES], applied, batch_size=7)]
    expected = ordered(matching(seeded.contacts, [("country", "united,france")]))
    assert [r["uuid"] for r in rows] == [c.uuid for c in expected]
    assert all("company" in r and "metadata" in r for r in rows)
    companies = [
        c
        async for c in service.iter_company_rows(
            app[RESOURCES], app[FILTERS].companies.parse_mapping({}), batch_size=6
        )
    ]
    assert [c["uuid"] for c in companies] == [
        c.uuid for c in ordered(seeded.companies, "-created_at", COMPANY_SORT)
    ]


async def test_list_contacts_with_mapped_filters_and_cursors(api, seeded):
    app = api.app
    applied = app[FILTERS].contacts.parse_mapping(
        {"title_words": ["sales director"], "has_email": True}
    )
    expected = ordered(
        matching(seeded.contacts, [("title_words", "sales director"), ("has_email", "true")]),
        "-employees",
    )
    got, cursor = [], None
    while True:
        page = await service.list_contacts(
            app[RESOURCES],
            app[SIGNER],
            applied,
            "-employees",
            limit=4,
            cursor=cursor,
            view="simple",
            include_count=True,
        )
        assert page.count == len(expected)
        got += [r["uuid"] for r in page.results]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert got == [c.uuid for c in expected] and len(got) > 4
    total = await service.count_contacts(app[RESOURCES], applied)
    assert total == len(expected)
    deep = await service.list_contacts(
        app[RESOURCES], app[SIGNER], applied, None, offset=2, limit=2
    )
    assert [r["uuid"] for r in deep.results] == [c.uuid for c in ordered(expected)[2:4]]
    assert deep.previous_offset == 0
