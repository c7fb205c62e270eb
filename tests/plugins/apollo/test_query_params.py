"""Apollo's POST routes take their options in the body: a query parameter is a
422 naming it, never silently ignored (a client sending ``offset`` or
``exclude_domain_list`` there would otherwise get unrefined results)."""

import pytest

from tests.helpers import HeaderActors, as_user

URL = "https://app.apollo.io/#/people?personTitles[]=CEO"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/apollo/analyze",
        "/api/v2/apollo/contacts",
        "/api/v2/apollo/companies",
        "/api/v2/apollo/contacts/count",
    ],
)
async def test_query_parameters_are_refused(make_client, settings, path):
    client = await make_client(settings, extra_plugins=[("actors", HeaderActors())])
    response = await client.post(
        path + "?offset=25&exclude_domain_list=a.com",
        json={"url": URL},
        headers=as_user("alice"),
    )
    body = await response.json()
    assert response.status == 422, body
    assert [e["loc"] for e in body["errors"]] == [
        ["query", "offset"],
        ["query", "exclude_domain_list"],
    ]
    plain = await client.post(path, json={"url": URL}, headers=as_user("alice"))
    assert plain.status == 200
